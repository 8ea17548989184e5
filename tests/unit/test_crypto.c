/* test_crypto.c -- the store key, random codes, keyed hashes and secretbox. */
#include "crypto.h"
#include "test.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_root[] = "/tmp/souk-test-crypto-XXXXXX";

static void keys_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmp_root, name);
}

TEST(key_created_private)
{
    char dir[512], file[600], err[512] = "";
    keys_path(dir, sizeof dir, "keys1");
    CHECK_INT(souk_crypto_open(dir, 0, err, sizeof err), -1); /* no key, no create */
    CHECK(strstr(err, "store.key: cannot open") != NULL);
    CHECK(!souk_crypto_ready());
    CHECK_INT(souk_crypto_open(dir, 1, err, sizeof err), 0);
    CHECK(souk_crypto_ready());
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    snprintf(file, sizeof file, "%s/store.key", dir);
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_INT(st.st_size, 32);
    /* create=1 on an existing key keeps it (a hash stays the same). */
    char h1[65], h2[65];
    souk_keyed_hash("p", "x", 1, h1);
    CHECK_INT(souk_crypto_open(dir, 1, err, sizeof err), 0);
    souk_keyed_hash("p", "x", 1, h2);
    CHECK_STR(h1, h2);
}

/* Processes creating the key at the same moment all end up with the one key
 * (none reads a half-written file, none replaces another's key). */
TEST(key_created_once_by_racing_processes)
{
    enum { CHILDREN = 4 };
    char dir[512];
    keys_path(dir, sizeof dir, "keys_race");
    int gate[2], out[2];
    CHECK(pipe(gate) == 0 && pipe(out) == 0);
    for (int i = 0; i < CHILDREN; i++) {
        if (fork() == 0) {
            close(gate[1]);
            char c, err[512], h[65] = "";
            ssize_t r = read(gate[0], &c, 1); /* EOF: go */
            (void)r;
            if (souk_crypto_open(dir, 1, err, sizeof err) == 0)
                souk_keyed_hash("p", "x", 1, h);
            else
                fprintf(stderr, "child: %s\n", err);
            r = write(
                out[1],
                h[0] ? h : "failed-failed-failed-failed-failed-failed-failed-failed-failed-xx", 64);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);
    close(out[1]);
    char first[65] = "", h[65];
    int same = 0;
    for (int i = 0; i < CHILDREN; i++) {
        h[64] = '\0';
        if (read(out[0], h, 64) != 64)
            break;
        if (!first[0])
            memcpy(first, h, sizeof first);
        same += strcmp(first, h) == 0 && strspn(h, "0123456789abcdef") == 64;
    }
    close(out[0]);
    while (wait(NULL) > 0)
        ;
    CHECK_INT(same, CHILDREN);
}

TEST(key_mode_too_open)
{
    char dir[512], file[600], err[512] = "";
    keys_path(dir, sizeof dir, "keys2");
    CHECK_INT(souk_crypto_open(dir, 1, err, sizeof err), 0);
    snprintf(file, sizeof file, "%s/store.key", dir);
    CHECK(chmod(file, 0644) == 0);
    CHECK_INT(souk_crypto_open(dir, 0, err, sizeof err), -1);
    char want[700];
    snprintf(want, sizeof want, "%s: mode 0644 is too open; chmod 600", file);
    CHECK_STR(err, want);
    CHECK(!souk_crypto_ready());
    CHECK(souk_seal("x", 1) == NULL); /* nothing works without a key */
    CHECK(chmod(file, 0640) == 0);
    CHECK_INT(souk_crypto_open(dir, 0, err, sizeof err), -1);
    CHECK(strstr(err, "mode 0640 is too open") != NULL);
    CHECK(chmod(file, 0400) == 0);
    CHECK_INT(souk_crypto_open(dir, 0, err, sizeof err), 0);
}

TEST(key_wrong_size)
{
    char dir[512], file[600], err[512] = "";
    keys_path(dir, sizeof dir, "keys3");
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(file, sizeof file, "%s/store.key", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("short", f);
    fclose(f);
    chmod(file, 0600);
    CHECK_INT(souk_crypto_open(dir, 0, err, sizeof err), -1);
    CHECK(strstr(err, "expected 32 bytes, found fewer") != NULL);
}

TEST(random_hex)
{
    char a[2 * 40 + 1], b[2 * 40 + 1];
    memset(a, 'z', sizeof a);
    souk_random_hex(a, 40); /* longer than one internal chunk */
    souk_random_hex(b, 40);
    CHECK_INT(strlen(a), 80);
    CHECK(strspn(a, "0123456789abcdef") == 80);
    CHECK(strcmp(a, b) != 0);
    char one[3];
    souk_random_hex(one, 1);
    CHECK_INT(strlen(one), 2);
}

/* Chi-square bounds with P(false failure) < 1e-9: 60.66 for 9 degrees of
 * freedom, 53.34 for 6. */
#define CHI2_9DF_1E9 60.7
#define CHI2_6DF_1E9 53.4

static double chi2(const long *counts, int cells, long total)
{
    double expect = (double)total / cells, sum = 0;
    for (int i = 0; i < cells; i++)
        sum += (counts[i] - expect) * (counts[i] - expect) / expect;
    return sum;
}

TEST(random_code_uniform)
{
    enum { DIGITS = 6, DRAWS = 20000 };
    long counts[DIGITS][10] = {{0}};
    int leading_zero = 0;
    char code[DIGITS + 1];
    for (int n = 0; n < DRAWS; n++) {
        souk_random_code(code, DIGITS);
        CHECK_INT(strlen(code), DIGITS);
        for (int i = 0; i < DIGITS; i++) {
            if (code[i] < '0' || code[i] > '9') {
                CHECK(!"a code holds only digits");
                return;
            }
            counts[i][code[i] - '0']++;
        }
        leading_zero += code[0] == '0';
    }
    /* Each position is uniform on its own (a code built from a number without
     * zero padding would fail position 0). */
    for (int i = 0; i < DIGITS; i++) {
        double x = chi2(counts[i], 10, DRAWS);
        if (x >= CHI2_9DF_1E9)
            fprintf(stderr, "position %d: chi-square %.1f\n", i, x);
        CHECK(x < CHI2_9DF_1E9);
    }
    CHECK(leading_zero > 0);

    char big[19 + 1];
    memset(big, 'x', sizeof big);
    souk_random_code(big, 40); /* clamped to 18 digits */
    CHECK_INT(strlen(big), 18);
    souk_random_code(big, 0);
    CHECK_STR(big, "");
}

TEST(random_uniform)
{
    enum { DRAWS = 70000 };
    long counts[7] = {0};
    for (int n = 0; n < DRAWS; n++) {
        uint32_t v = souk_random_uniform(7);
        if (v >= 7) {
            CHECK(!"random_uniform out of range");
            return;
        }
        counts[v]++;
    }
    CHECK(chi2(counts, 7, DRAWS) < CHI2_6DF_1E9);
    CHECK_INT(souk_random_uniform(1), 0);
}

TEST(keyed_hash)
{
    char dir_a[512], dir_b[512], err[512];
    keys_path(dir_a, sizeof dir_a, "keys_a");
    keys_path(dir_b, sizeof dir_b, "keys_b");
    char a1[65], a2[65], a3[65], b1[65];

    CHECK_INT(souk_crypto_open(dir_a, 1, err, sizeof err), 0);
    souk_keyed_hash("session", "token", 5, a1);
    souk_keyed_hash("session", "token", 5, a2);
    souk_keyed_hash("signin_code", "token", 5, a3);
    CHECK_INT(strlen(a1), 64);
    CHECK(strspn(a1, "0123456789abcdef") == 64);
    CHECK_STR(a1, a2);          /* deterministic */
    CHECK(strcmp(a1, a3) != 0); /* depends on the purpose */

    /* The construction is pinned: BLAKE2b-256(data, key = BLAKE2b-256(purpose,
     * key = store key)). */
    unsigned char key[32], sub[32], h[32];
    char path[600], hex[65];
    snprintf(path, sizeof path, "%s/store.key", dir_a);
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(key, 1, 32, f) == 32);
    if (f)
        fclose(f);
    crypto_generichash(sub, 32, (const unsigned char *)"session", 7, key, 32);
    crypto_generichash(h, 32, (const unsigned char *)"token", 5, sub, 32);
    sodium_bin2hex(hex, sizeof hex, h, 32);
    CHECK_STR(a1, hex);

    CHECK_INT(souk_crypto_open(dir_b, 1, err, sizeof err), 0);
    souk_keyed_hash("session", "token", 5, b1);
    CHECK(strcmp(a1, b1) != 0); /* depends on the key */
}

TEST(equal_ct)
{
    CHECK_INT(souk_equal_ct("abcdef", "abcdef", 6), 1);
    CHECK_INT(souk_equal_ct("abcdef", "abcdeg", 6), 0);
    CHECK_INT(souk_equal_ct("xbcdef", "abcdef", 6), 0);
    CHECK_INT(souk_equal_ct("", "", 0), 1);
}

TEST(seal_unseal)
{
    char dir[512], err[512];
    keys_path(dir, sizeof dir, "keys_seal");
    CHECK_INT(souk_crypto_open(dir, 1, err, sizeof err), 0);
    const char *plain = "passport 4510 123456";
    char *s1 = souk_seal(plain, strlen(plain));
    char *s2 = souk_seal(plain, strlen(plain));
    CHECK(s1 && s2);
    if (!s1 || !s2) {
        free(s1);
        free(s2);
        return;
    }
    CHECK(strcmp(s1, s2) != 0); /* a fresh nonce each time */
    CHECK(strspn(s1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          strlen(s1));
    size_t len = 0;
    char *back = souk_unseal(s1, &len);
    CHECK(back != NULL);
    CHECK_INT(len, strlen(plain));
    if (back)
        CHECK_STR(back, plain); /* NUL-terminated for text */
    free(back);

    /* Flipping any character is detected. */
    int undetected = 0;
    for (size_t i = 0; s1[i]; i++) {
        char saved = s1[i];
        s1[i] = saved == 'A' ? 'B' : 'A';
        void *p = souk_unseal(s1, &len);
        if (p)
            undetected++;
        free(p);
        s1[i] = saved;
    }
    CHECK_INT(undetected, 0);
    /* Truncated, extended, garbage and empty input. */
    char *cut = strdup(s1);
    cut[strlen(cut) - 3] = '\0';
    CHECK(souk_unseal(cut, &len) == NULL);
    free(cut);
    CHECK(souk_unseal("not base64 at all!", &len) == NULL);
    CHECK(souk_unseal("", &len) == NULL);

    /* Empty plaintext round-trips. */
    char *se = souk_seal("", 0);
    void *pe = se ? souk_unseal(se, &len) : NULL;
    CHECK(pe != NULL);
    CHECK_INT(len, 0);
    free(pe);
    free(se);

    /* Another key cannot open it. */
    char dir2[512];
    keys_path(dir2, sizeof dir2, "keys_seal2");
    CHECK_INT(souk_crypto_open(dir2, 1, err, sizeof err), 0);
    CHECK(souk_unseal(s1, &len) == NULL);
    free(s1);
    free(s2);
}

int main(void)
{
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(key_created_private);
    RUN(key_created_once_by_racing_processes);
    RUN(key_mode_too_open);
    RUN(key_wrong_size);
    RUN(random_hex);
    RUN(random_code_uniform);
    RUN(random_uniform);
    RUN(keyed_hash);
    RUN(equal_ct);
    RUN(seal_unseal);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return test_report();
}
