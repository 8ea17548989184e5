/* crypto.h -- libsodium helpers: random tokens and codes, keyed hashing,
 * constant-time compare and secretbox with the store key (STORE_DIR/keys/store.key,
 * 32 random bytes, mode 0600, created by `souk init`). */
#ifndef SOUK_CRYPTO_H
#define SOUK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* sodium_init and load the store key from keys_dir (create it when create is set).
 * Refuses a key file readable by group or others.  -1 with err. */
int souk_crypto_open(const char *keys_dir, int create, char *err, size_t errlen);
/* Whether a key is loaded. */
int souk_crypto_ready(void);
void souk_random_hex(char *out, size_t nbytes);            /* out: 2*nbytes+1 */
uint32_t souk_random_uniform(uint32_t upper);              /* [0, upper) */
void souk_random_code(char *out, int digits);              /* out: digits+1 */
void souk_keyed_hash(const char *purpose, const void *data, size_t len, char *out); /* out: 65 */
int souk_equal_ct(const void *a, const void *b, size_t len);
char *souk_seal(const void *plain, size_t len);            /* malloc'ed base64 or NULL */
void *souk_unseal(const char *sealed, size_t *len);        /* malloc'ed or NULL */

#endif
