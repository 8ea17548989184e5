/* crypto.c -- libsodium helpers and the store key; see crypto.h.
 *
 * The store key (32 random bytes, STORE_DIR/keys/store.key) never leaves this
 * file.  Keyed hashes use a subkey per purpose, BLAKE2b(key = store key,
 * message = purpose), so that a hash made for one purpose ("session") can never
 * be replayed as another ("signin_code").  Sealed text is
 * base64url(nonce || secretbox(plain)), without padding. */
#include "crypto.h"

#include "log.h"

#include <souk/souk.h> /* log levels */

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOUK_KEY_FILE "store.key"
#define SOUK_KEY_BYTES crypto_secretbox_KEYBYTES /* 32: also a BLAKE2b key size */
#define SOUK_KEYS_DIR_MODE 0700
#define SOUK_KEY_FILE_MODE 0600
#define SOUK_HASH_BYTES 32      /* BLAKE2b-256 -> 64 hex characters */
#define SOUK_CODE_MAX_DIGITS 18 /* fits an int64 (crypto.h, souk.h) */
#define SOUK_HEX_CHUNK 32       /* random bytes converted per round */
#define SOUK_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static unsigned char store_key[SOUK_KEY_BYTES];
static int key_loaded;
static int sodium_ready;

_Static_assert(SOUK_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   SOUK_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "the store key must be usable as a BLAKE2b key");

static int ensure_sodium(void)
{
    if (!sodium_ready && sodium_init() >= 0)
        sodium_ready = 1;
    return sodium_ready ? 0 : -1;
}

/* Write a new key file unless one exists.  The key is written to a temporary
 * file first and linked into place, so that a reader never sees a half-written
 * key; link() fails with EEXIST rather than replace a key another process (or an
 * earlier `souk init`) made, and then the caller reads that one. */
static int create_key(const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, SOUK_KEY_FILE_MODE);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    unsigned char key[SOUK_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    ssize_t w = write(fd, key, sizeof key);
    sodium_memzero(key, sizeof key);
    int ok = w == (ssize_t)sizeof key && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(saved));
        return -1;
    }
    int rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc != 0 && saved != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

static int read_key(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s%s", path, strerror(errno),
                 errno == ENOENT ? " (run `souk init` to create the store key)" : "");
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    /* Whoever can read the key can read the sealed personal data. */
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "%s: mode %04o is too open; chmod 600", path,
                 (unsigned)(st.st_mode & 07777));
        close(fd);
        return -1;
    }
    unsigned char key[SOUK_KEY_BYTES + 1]; /* one more to detect a longer file */
    ssize_t n = read(fd, key, sizeof key);
    close(fd);
    if (n != SOUK_KEY_BYTES) {
        snprintf(err, errlen, "%s: expected %d bytes, found %s", path, SOUK_KEY_BYTES,
                 n < 0                ? "a read error"
                 : n > SOUK_KEY_BYTES ? "more"
                                      : "fewer");
        sodium_memzero(key, sizeof key);
        return -1;
    }
    memcpy(store_key, key, SOUK_KEY_BYTES);
    sodium_memzero(key, sizeof key);
    key_loaded = 1;
    return 0;
}

int souk_crypto_open(const char *keys_dir, int create, char *err, size_t errlen)
{
    if (ensure_sodium() != 0) {
        snprintf(err, errlen, "libsodium: initialisation failed");
        return -1;
    }
    key_loaded = 0;
    sodium_memzero(store_key, sizeof store_key);
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", keys_dir, SOUK_KEY_FILE);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "%s: path too long", keys_dir);
        return -1;
    }
    if (create) {
        if (mkdir(keys_dir, SOUK_KEYS_DIR_MODE) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", keys_dir, strerror(errno));
            return -1;
        }
        if (create_key(path, err, errlen) != 0)
            return -1;
    }
    return read_key(path, err, errlen);
}

int souk_crypto_ready(void)
{
    return key_loaded;
}

void souk_random_hex(char *out, size_t nbytes)
{
    ensure_sodium();
    unsigned char chunk[SOUK_HEX_CHUNK];
    out[0] = '\0';
    for (size_t done = 0; done < nbytes;) {
        size_t k = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
        randombytes_buf(chunk, k);
        sodium_bin2hex(out + 2 * done, 2 * k + 1, chunk, k);
        done += k;
    }
    sodium_memzero(chunk, sizeof chunk);
}

uint32_t souk_random_uniform(uint32_t upper)
{
    ensure_sodium();
    /* randombytes_uniform rejects the biased tail itself; 0 for upper < 2. */
    return randombytes_uniform(upper);
}

void souk_random_code(char *out, int digits)
{
    ensure_sodium();
    if (digits < 1) {
        out[0] = '\0';
        return;
    }
    if (digits > SOUK_CODE_MAX_DIGITS)
        digits = SOUK_CODE_MAX_DIGITS;
    /* Each digit on its own: uniform over all 10^digits codes, leading zeros
     * included (a code is text, not a number). */
    for (int i = 0; i < digits; i++)
        out[i] = (char)('0' + randombytes_uniform(10));
    out[digits] = '\0';
}

void souk_keyed_hash(const char *purpose, const void *data, size_t len, char *out)
{
    if (!key_loaded) {
        /* Fail closed: a value that matches nothing ever stored, never a hash an
         * attacker could compute without the key. */
        souk_log(SOUK_LOG_ERROR, "keyed hash for '%s' without a store key", purpose);
        souk_random_hex(out, SOUK_HASH_BYTES);
        return;
    }
    unsigned char subkey[SOUK_KEY_BYTES], h[SOUK_HASH_BYTES];
    crypto_generichash(subkey, sizeof subkey, (const unsigned char *)purpose, strlen(purpose),
                       store_key, sizeof store_key);
    crypto_generichash(h, sizeof h, data, len, subkey, sizeof subkey);
    sodium_bin2hex(out, 2 * SOUK_HASH_BYTES + 1, h, sizeof h);
    sodium_memzero(subkey, sizeof subkey);
}

int souk_equal_ct(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

char *souk_seal(const void *plain, size_t len)
{
    if (!key_loaded) {
        souk_log(SOUK_LOG_ERROR, "seal without a store key");
        return NULL;
    }
    const size_t overhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (len > SIZE_MAX / 2 - overhead) /* base64 grows by 4/3 */
        return NULL;
    size_t blen = overhead + len;
    unsigned char *box = malloc(blen);
    if (!box)
        return NULL;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, len, box, store_key);
    size_t tlen = sodium_base64_ENCODED_LEN(blen, SOUK_B64);
    char *text = malloc(tlen);
    if (text)
        sodium_bin2base64(text, tlen, box, blen, SOUK_B64);
    free(box);
    return text;
}

void *souk_unseal(const char *sealed, size_t *len)
{
    if (!key_loaded || !sealed)
        return NULL;
    const size_t overhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    size_t tlen = strlen(sealed);
    size_t cap = tlen / 4 * 3 + 3; /* enough for any base64 of that length */
    unsigned char *box = malloc(cap);
    if (!box)
        return NULL;
    size_t blen = 0;
    const char *end = NULL;
    if (sodium_base642bin(box, cap, sealed, tlen, NULL, &blen, &end, SOUK_B64) != 0 ||
        end != sealed + tlen || blen < overhead) {
        free(box);
        return NULL;
    }
    size_t plen = blen - overhead;
    unsigned char *plain = malloc(plen + 1); /* +1: NUL-terminated for text callers */
    if (!plain ||
        crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                   blen - crypto_secretbox_NONCEBYTES, box, store_key) != 0) {
        free(box);
        free(plain);
        return NULL;
    }
    free(box);
    plain[plen] = '\0';
    if (len)
        *len = plen;
    return plain;
}
