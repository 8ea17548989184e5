/* test_respcache.c -- the response cache: hits, expiry, database version,
 * replacement and both bounds, and the store's version stamp it relies on. */
#include "test.h"

#include "respcache.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

TEST(hit_and_miss)
{
    souk_respcache *c = souk_respcache_new(8, 1 << 20);
    souk_respcache_hit h;
    CHECK(!souk_respcache_get(c, "j\nen\n/a", 0, 1, &h));
    CHECK_INT(souk_respcache_put(c, "j\nen\n/a", "application/json", "{\"a\":1}", 7, 100, 1), 0);
    CHECK(souk_respcache_get(c, "j\nen\n/a", 99, 1, &h));
    CHECK_STR(h.content_type, "application/json");
    CHECK_INT(h.body_len, 7);
    CHECK_STR(h.body, "{\"a\":1}");
    CHECK(!souk_respcache_get(c, "j\nru\n/a", 99, 1, &h)); /* another locale */
    CHECK(!souk_respcache_get(c, "h\nen\n/a", 99, 1, &h)); /* another representation */
    /* Replacing a key keeps one entry with the new body. */
    CHECK_INT(souk_respcache_put(c, "j\nen\n/a", "application/json", "[]", 2, 100, 1), 0);
    CHECK_INT(souk_respcache_count(c), 1);
    CHECK(souk_respcache_get(c, "j\nen\n/a", 50, 1, &h));
    CHECK_STR(h.body, "[]");
    souk_respcache_free(c);
}

TEST(expiry_and_version)
{
    souk_respcache *c = souk_respcache_new(8, 1 << 20);
    souk_respcache_hit h;
    CHECK_INT(souk_respcache_put(c, "k1", "text/html", "x", 1, 100, 7), 0);
    CHECK_INT(souk_respcache_put(c, "k2", "text/html", "y", 1, 1000, 7), 0);
    CHECK(!souk_respcache_get(c, "k1", 100, 7, &h)); /* expired at its deadline */
    CHECK_INT(souk_respcache_count(c), 1);           /* and dropped */
    CHECK(souk_respcache_get(c, "k2", 100, 7, &h));
    CHECK(!souk_respcache_get(c, "k2", 100, 8, &h)); /* the database changed */
    CHECK_INT(souk_respcache_count(c), 0);
    CHECK_INT(souk_respcache_bytes(c), 0);
    souk_respcache_free(c);
}

TEST(bounds)
{
    souk_respcache *c = souk_respcache_new(3, 1 << 20);
    souk_respcache_hit h;
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK_INT(souk_respcache_put(c, key, "t", "b", 1, 1000, 1), 0);
    }
    CHECK_INT(souk_respcache_count(c), 3);
    CHECK(!souk_respcache_get(c, "k0", 0, 1, &h)); /* the oldest went first */
    CHECK(!souk_respcache_get(c, "k1", 0, 1, &h));
    CHECK(souk_respcache_get(c, "k4", 0, 1, &h));
    souk_respcache_free(c);

    /* A byte budget for about two bodies of 400 bytes. */
    c = souk_respcache_new(100, 1000);
    char body[400];
    memset(body, 'x', sizeof body);
    CHECK_INT(souk_respcache_put(c, "a", "t", body, sizeof body, 1000, 1), 0);
    CHECK_INT(souk_respcache_put(c, "b", "t", body, sizeof body, 1000, 1), 0);
    CHECK_INT(souk_respcache_put(c, "c", "t", body, sizeof body, 1000, 1), 0);
    CHECK(souk_respcache_bytes(c) <= 1000);
    CHECK(!souk_respcache_get(c, "a", 0, 1, &h));
    CHECK(souk_respcache_get(c, "c", 0, 1, &h));
    char big[2000];
    memset(big, 'y', sizeof big);
    CHECK_INT(souk_respcache_put(c, "d", "t", big, sizeof big, 1000, 1), -1);
    CHECK(souk_respcache_get(c, "c", 0, 1, &h)); /* a refused put evicts nothing */
    souk_respcache_free(c);
}

TEST(store_version)
{
    char dir[] = "/tmp/souk-respcache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/data/souk.db", dir);
    souk_store *a = NULL, *b = NULL;
    CHECK_INT(souk_store_open(&a, path, err, sizeof err), 0);
    CHECK_INT(souk_store_open(&b, path, err, sizeof err), 0);
    CHECK_INT(souk_store_exec(a, "CREATE TABLE t(x)", err, sizeof err), 0);
    uint64_t va = souk_store_version(a), vb = souk_store_version(b);
    CHECK(va == souk_store_version(a)); /* reading changes nothing */
    CHECK_INT(souk_store_exec(a, "INSERT INTO t VALUES (1)", err, sizeof err), 0);
    CHECK(souk_store_version(a) != va); /* our own commit */
    CHECK(souk_store_version(b) != vb); /* another connection's commit */
    vb = souk_store_version(b);
    CHECK_INT(souk_store_exec(b, "SELECT * FROM t", err, sizeof err), 0);
    CHECK(souk_store_version(b) == vb);
    souk_store_close(a);
    souk_store_close(b);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CHECK_INT(system(path), 0);
}

int main(void)
{
    RUN(hit_and_miss);
    RUN(expiry_and_version);
    RUN(bounds);
    RUN(store_version);
    return test_report();
}
