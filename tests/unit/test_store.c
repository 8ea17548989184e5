/* test_store.c -- the SQLite store: pragmas, statement cache, transactions and
 * migrations (including several processes migrating one database at once). */
#include "clock.h"
#include "store.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_root[] = "/tmp/souk-test-store-XXXXXX";
static int tmp_seq;

/* A fresh database path under the test's temporary directory. */
static void fresh_path(char *out, size_t len)
{
    snprintf(out, len, "%s/s%d/data/souk.db", tmp_root, ++tmp_seq);
}

static souk_store *open_fresh(char *path, size_t len)
{
    char err[512] = "";
    souk_store *s = NULL;
    fresh_path(path, len);
    if (souk_store_open(&s, path, err, sizeof err) != 0)
        fprintf(stderr, "open: %s\n", err);
    return s;
}

static long long query_int(souk_store *s, const char *sql)
{
    sqlite3_stmt *st = souk_store_prepare(s, sql);
    long long v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    souk_store_release_all(s);
    return v;
}

static const char *query_text(souk_store *s, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = souk_store_prepare(s, sql);
    snprintf(out, len, "%s", "(none)");
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    souk_store_release_all(s);
    return out;
}

TEST(open_sets_pragmas_and_creates_dir)
{
    char path[512], buf[64];
    souk_store *s = open_fresh(path, sizeof path);
    CHECK(s != NULL);
    if (!s)
        return;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/s%d/data", tmp_root, tmp_seq);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 0777, 0700);
    CHECK(access(path, F_OK) == 0);
    CHECK_STR(query_text(s, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_INT(query_int(s, "PRAGMA synchronous"), 2); /* FULL */
    CHECK_INT(query_int(s, "PRAGMA foreign_keys"), 1);
    CHECK_INT(query_int(s, "PRAGMA busy_timeout"), SOUK_STORE_BUSY_TIMEOUT_MS);
    CHECK(souk_store_db(s) != NULL);
    souk_store_close(s);
}

TEST(open_reports_bad_path)
{
    char file[512], path[600], err[512] = "";
    snprintf(file, sizeof file, "%s/plainfile", tmp_root);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/data/souk.db", file);
    souk_store *s = (souk_store *)1;
    CHECK_INT(souk_store_open(&s, path, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "plainfile") != NULL);
    CHECK(strstr(err, "cannot create directory") != NULL);
}

TEST(foreign_keys_enforced)
{
    char path[512], err[256];
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    CHECK_INT(souk_store_exec(s,
                              "CREATE TABLE t_parent(id INTEGER PRIMARY KEY);"
                              "CREATE TABLE t_child(p INTEGER REFERENCES t_parent(id))",
                              err, sizeof err),
              0);
    CHECK_INT(souk_store_exec(s, "INSERT INTO t_child VALUES(42)", err, sizeof err), -1);
    CHECK(strstr(err, "FOREIGN KEY") != NULL);
    souk_store_close(s);
}

TEST(statement_cache)
{
    char path[512];
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    const char *sql = "SELECT ?1";
    sqlite3_stmt *a = souk_store_prepare(s, sql);
    CHECK(a != NULL);
    /* In use: the same text gives an independent statement. */
    sqlite3_stmt *b = souk_store_prepare(s, sql);
    CHECK(b != NULL && b != a);
    sqlite3_bind_int(a, 1, 7);
    CHECK_INT(sqlite3_step(a), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(a, 0), 7);
    CHECK(sqlite3_stmt_busy(a));
    souk_store_release_all(s);
    /* Released statements are reset (no open read) and reused. */
    CHECK(!sqlite3_stmt_busy(a));
    sqlite3_stmt *c = souk_store_prepare(s, sql);
    CHECK(c == a || c == b);
    /* Bindings were cleared. */
    CHECK_INT(sqlite3_step(c), SQLITE_ROW);
    CHECK_INT(sqlite3_column_type(c, 0), SQLITE_NULL);
    souk_store_release_all(s);

    /* More copies than the cache keeps for one text: all usable, none leaked. */
    sqlite3_stmt *many[10];
    for (int i = 0; i < 10; i++) {
        many[i] = souk_store_prepare(s, sql);
        CHECK(many[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK(many[i] != many[j]);
    }
    souk_store_release_all(s);
    CHECK(souk_store_prepare(s, "SELEC nonsense") == NULL);
    CHECK(souk_store_prepare(s, "SELECT * FROM no_such_table") == NULL);
    souk_store_release_all(s);
    souk_store_close(s);
}

TEST(transactions)
{
    char path[512], err[256];
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    souk_store_exec(s, "CREATE TABLE t(x)", err, sizeof err);
    CHECK(!souk_store_in_transaction(s));
    CHECK_INT(souk_store_begin(s, 1, err, sizeof err), 0);
    CHECK(souk_store_in_transaction(s));
    CHECK_INT(souk_store_begin(s, 1, err, sizeof err), -1);
    CHECK(strstr(err, "already open") != NULL);
    souk_store_exec(s, "INSERT INTO t VALUES(1)", err, sizeof err);
    souk_store_rollback(s);
    CHECK(!souk_store_in_transaction(s));
    CHECK_INT(query_int(s, "SELECT count(*) FROM t"), 0);
    souk_store_rollback(s); /* harmless without a transaction */

    CHECK_INT(souk_store_begin(s, 1, err, sizeof err), 0);
    souk_store_exec(s, "INSERT INTO t VALUES(2)", err, sizeof err);
    CHECK_INT(souk_store_commit(s, err, sizeof err), 0);
    CHECK_INT(query_int(s, "SELECT count(*) FROM t"), 1);

    /* A write transaction holds the write lock from BEGIN; a read one does not. */
    souk_store *other = NULL;
    CHECK_INT(souk_store_open(&other, path, err, sizeof err), 0);
    if (!other) {
        souk_store_close(s);
        return;
    }
    sqlite3_busy_timeout(souk_store_db(other), 1);
    CHECK_INT(souk_store_begin(s, 1, err, sizeof err), 0);
    CHECK_INT(souk_store_begin(other, 1, err, sizeof err), -1);
    CHECK(strstr(err, "locked") != NULL);
    souk_store_rollback(s);
    CHECK_INT(souk_store_begin(s, 0, err, sizeof err), 0);
    CHECK_INT(query_int(s, "SELECT count(*) FROM t"), 1);
    CHECK_INT(souk_store_begin(other, 1, err, sizeof err), 0);
    souk_store_rollback(other);
    CHECK_INT(souk_store_commit(s, err, sizeof err), 0);
    CHECK_INT(souk_store_commit(s, err, sizeof err), -1); /* nothing to commit */
    souk_store_close(other);
    souk_store_close(s);
}

static int reported;
static char report_log[256];

static void on_report(void *ud, const souk_store_migration *m)
{
    reported++;
    size_t n = strlen(report_log);
    snprintf(report_log + n, sizeof report_log - n, "%s%s%d", n ? "," : "", m->plugin, m->version);
}

static int table_exists(souk_store *s, const char *name)
{
    sqlite3_stmt *st = souk_store_prepare(s, "SELECT count(*) FROM sqlite_master WHERE name=?1");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    souk_store_release_all(s);
    return n;
}

TEST(migrations)
{
    char path[512], err[512] = "";
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    souk_store_migration list[] = {
        {"alpha", 1, "create", "CREATE TABLE alpha_t(id INTEGER PRIMARY KEY, x TEXT)"},
        {"alpha", 2, "add column", "ALTER TABLE alpha_t ADD COLUMN y INTEGER DEFAULT 3"},
        {"beta", 1, "create",
         "CREATE TABLE beta_t(id INTEGER PRIMARY KEY);"
         "INSERT INTO beta_t VALUES(1);INSERT INTO beta_t VALUES(2)"},
        {"alpha", 3, "bad", "CREATE TABLE alpha_x(id); INSERT INTO no_such_table VALUES(1)"},
    };
    CHECK_INT(souk_store_pending(s, list, 3), 3); /* no souk_migrations table yet */

    souk_clock_set_fixed(1700000000123LL);
    reported = 0;
    report_log[0] = '\0';
    CHECK_INT(souk_store_migrate(s, list, 3, on_report, NULL, err, sizeof err), 3);
    CHECK_INT(reported, 3);
    CHECK_STR(report_log, "alpha1,alpha2,beta1");
    CHECK_INT(query_int(s, "SELECT count(*) FROM beta_t"), 2);
    CHECK_INT(query_int(s, "SELECT count(*) FROM souk_migrations"), 3);
    CHECK_INT(query_int(s, "SELECT min(applied_at) FROM souk_migrations"), 1700000000123LL);
    char name[64];
    CHECK_STR(query_text(s,
                         "SELECT name FROM souk_migrations WHERE plugin='alpha' "
                         "AND version=2",
                         name, sizeof name),
              "add column");
    souk_clock_set_fixed(0);

    /* Nothing left to do. */
    CHECK_INT(souk_store_migrate(s, list, 3, on_report, NULL, err, sizeof err), 0);
    CHECK_INT(souk_store_pending(s, list, 3), 0);
    CHECK_INT(souk_store_pending(s, list, 4), 1);

    /* A failing migration changes nothing and names plugin, version and name. */
    CHECK_INT(souk_store_migrate(s, list, 4, NULL, NULL, err, sizeof err), -1);
    CHECK_STR(err, "plugin alpha migration 3 (bad): no such table: no_such_table");
    CHECK_INT(table_exists(s, "alpha_x"), 0);
    CHECK_INT(souk_store_pending(s, list, 4), 1);
    CHECK(!souk_store_in_transaction(s));
    souk_store_close(s);
}

TEST(failing_migration_in_the_middle)
{
    char path[512], err[512] = "";
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    /* theta 2 fails after its first statement ran; the migrations after it (its
     * plugin's and a dependent plugin's) must not run at all. */
    souk_store_migration list[] = {
        {"theta", 1, "create", "CREATE TABLE theta_t(x); INSERT INTO theta_t VALUES(1)"},
        {"theta", 2, "half", "CREATE TABLE theta_half(x); INSERT INTO theta_t VALUES(2);"
                             "INSERT INTO theta_nope VALUES(3)"},
        {"theta", 3, "after", "CREATE TABLE theta_after(x)"},
        {"iota", 1, "dependent", "CREATE TABLE iota_t(x)"},
    };
    reported = 0;
    report_log[0] = '\0';
    CHECK_INT(souk_store_migrate(s, list, 4, on_report, NULL, err, sizeof err), -1);
    CHECK_STR(err, "plugin theta migration 2 (half): no such table: theta_nope");
    CHECK_STR(report_log, "theta1");
    CHECK_INT(query_int(s, "SELECT count(*) FROM theta_t"), 1); /* 1 kept, 2's insert undone */
    CHECK_INT(table_exists(s, "theta_half"), 0);
    CHECK_INT(table_exists(s, "theta_after"), 0);
    CHECK_INT(table_exists(s, "iota_t"), 0);
    CHECK_INT(query_int(s, "SELECT count(*) FROM souk_migrations"), 1);
    CHECK_INT(souk_store_pending(s, list, 4), 3);
    CHECK(!souk_store_in_transaction(s));

    /* Fixed, the rest applies from where it stopped. */
    list[1].sql = "CREATE TABLE theta_half(x); INSERT INTO theta_t VALUES(2)";
    CHECK_INT(souk_store_migrate(s, list, 4, on_report, NULL, err, sizeof err), 3);
    CHECK_STR(report_log, "theta1,theta2,theta3,iota1");
    CHECK_INT(query_int(s, "SELECT count(*) FROM theta_t"), 2);
    CHECK_INT(souk_store_pending(s, list, 4), 0);
    souk_store_close(s);
}

TEST(migration_cannot_end_its_transaction)
{
    char path[512], err[512] = "";
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    souk_store_migration list[] = {
        {"gamma", 1, "sneaky", "CREATE TABLE gamma_a(x); COMMIT; CREATE TABLE gamma_b(x)"},
    };
    CHECK_INT(souk_store_migrate(s, list, 1, NULL, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "plugin gamma migration 1 (sneaky): BEGIN/COMMIT") != NULL);
    CHECK_INT(table_exists(s, "gamma_a"), 0);
    CHECK_INT(souk_store_pending(s, list, 1), 1);
    souk_store_close(s);
}

TEST(migration_versions)
{
    char path[512], err[512] = "";
    souk_store *s = open_fresh(path, sizeof path);
    if (!s)
        return;
    souk_store_migration v123[] = {
        {"delta", 1, "one", "CREATE TABLE delta_1(x)"},
        {"delta", 2, "two", "CREATE TABLE delta_2(x)"},
        {"delta", 3, "three", "CREATE TABLE delta_3(x)"},
    };
    CHECK_INT(souk_store_migrate(s, v123, 3, NULL, NULL, err, sizeof err), 3);

    /* A recorded version the plugin no longer declares is ignored. */
    souk_store_migration v13[] = {v123[0], v123[2]};
    CHECK_INT(souk_store_migrate(s, v13, 2, NULL, NULL, err, sizeof err), 0);

    /* The database ahead of the code is refused. */
    CHECK_INT(souk_store_migrate(s, v123, 2, NULL, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "plugin delta: the database is at migration 3, newer than the "
                      "plugin's latest (2)") != NULL);

    /* Versions must increase within a plugin. */
    souk_store_migration bad[] = {{"eta", 2, "two", "SELECT 1"}, {"eta", 1, "one", "SELECT 1"}};
    CHECK_INT(souk_store_migrate(s, bad, 2, NULL, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "versions must increase") != NULL);
    souk_store_migration zero[] = {{"delta", 0, "zero", "SELECT 1"}};
    CHECK_INT(souk_store_migrate(s, zero, 1, NULL, NULL, err, sizeof err), -1);
    souk_store_close(s);
}

/* Several processes open the same new database and migrate it at the same time:
 * each migration is applied exactly once (a second CREATE TABLE would fail). */
TEST(concurrent_migrations)
{
    enum { CHILDREN = 4 };
    char path[512];
    fresh_path(path, sizeof path);
    souk_store_migration list[] = {
        {"eps", 1, "create", "CREATE TABLE eps_t(x); INSERT INTO eps_t VALUES(1)"},
        {"eps", 2, "more", "CREATE TABLE eps_u(x); INSERT INTO eps_t VALUES(2)"},
        {"zeta", 1, "create", "CREATE TABLE zeta_t(x); INSERT INTO eps_t VALUES(3)"},
    };
    int gate[2];
    CHECK(pipe(gate) == 0);
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(gate[1]);
            char c;
            /* Wait until every sibling exists, then race. */
            ssize_t r = read(gate[0], &c, 1);
            (void)r;
            char err[512];
            souk_store *s = NULL;
            if (souk_store_open(&s, path, err, sizeof err) != 0) {
                fprintf(stderr, "child open: %s\n", err);
                _exit(100);
            }
            int n = souk_store_migrate(s, list, 3, NULL, NULL, err, sizeof err);
            if (n < 0)
                fprintf(stderr, "child migrate: %s\n", err);
            souk_store_close(s);
            _exit(n < 0 ? 101 : n);
        }
    }
    close(gate[0]);
    close(gate[1]); /* EOF releases every child at once */
    int total = 0, failures = 0;
    for (int i = 0; i < CHILDREN; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 3)
            failures++;
        else
            total += WEXITSTATUS(status);
    }
    CHECK_INT(failures, 0);
    CHECK_INT(total, 3);
    char err[512];
    souk_store *s = NULL;
    CHECK_INT(souk_store_open(&s, path, err, sizeof err), 0);
    if (!s)
        return;
    CHECK_INT(query_int(s, "SELECT count(*) FROM eps_t"), 3);
    CHECK_INT(query_int(s, "SELECT count(*) FROM souk_migrations"), 3);
    souk_store_close(s);
}

int main(void)
{
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(open_sets_pragmas_and_creates_dir);
    RUN(open_reports_bad_path);
    RUN(foreign_keys_enforced);
    RUN(statement_cache);
    RUN(transactions);
    RUN(migrations);
    RUN(failing_migration_in_the_middle);
    RUN(migration_cannot_end_its_transaction);
    RUN(migration_versions);
    RUN(concurrent_migrations);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return test_report();
}
