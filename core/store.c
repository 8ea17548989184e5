/* store.c -- the store's SQLite connection; see store.h.
 *
 * One connection per process (SQLITE_OPEN_NOMUTEX: a worker is single-threaded).
 * Workers share the file through WAL, so readers never block the one writer and
 * BEGIN IMMEDIATE serialises writers (busy_timeout makes them queue rather than
 * fail).
 *
 * Statement cache: a hash map from SQL text to a short chain of prepared
 * statements.  souk_store_prepare() hands out an idle one (reset, bindings
 * cleared) or prepares another when every cached one for that text is in use (a
 * handler stepping a SELECT while it calls a service that runs the same SQL).
 * Every handed-out statement is remembered until souk_store_release_all() at the
 * end of the request, which resets them so that no read transaction stays open.
 * The cache is bounded: past SOUK_STORE_CACHE_MAX statements (dynamically built
 * SQL), or past SOUK_STORE_CACHE_PER_SQL copies of one text, a statement is
 * finalized on release instead of kept. */
#include "store.h"

#include "clock.h"
#include "log.h"

#include <souk/souk.h> /* log levels */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STORE_WAL_RETRY_MS 10 /* between attempts to switch a new store to WAL */
#define SOUK_STORE_BUCKETS 256       /* power of two: the hash is masked */
#define SOUK_STORE_CACHE_MAX 512     /* cached statements in all */
#define SOUK_STORE_CACHE_PER_SQL 4   /* cached copies of one SQL text */
#define SOUK_STORE_HANDED_INITIAL 16 /* first size of the handed-out list */
#define SOUK_STORE_DIR_MODE 0700     /* data/ holds personal data: owner only */
/* How long a migrating process waits for another one that holds the write lock
 * (a long migration in a sibling worker), beyond the ordinary busy timeout. */
#define SOUK_STORE_MIGRATE_WAIT_MS 60000

typedef struct stmt_entry stmt_entry;
struct stmt_entry {
    char *sql; /* owned copy of the text */
    sqlite3_stmt *stmt;
    int in_use;            /* handed out since the last release */
    int cached;            /* 0: finalized and freed on release */
    stmt_entry *next_copy; /* the other statements for the same text */
};

typedef struct bucket_node bucket_node;
struct bucket_node {
    stmt_entry *first; /* chain of copies; first->sql is the key */
    unsigned hash;
    bucket_node *next;
};

enum { TXN_BEGIN_WRITE, TXN_BEGIN_READ, TXN_COMMIT, TXN_ROLLBACK, TXN_COUNT };
static const char *const txn_sql[TXN_COUNT] = {"BEGIN IMMEDIATE", "BEGIN DEFERRED", "COMMIT",
                                               "ROLLBACK"};

struct souk_store {
    sqlite3 *db;
    char *path;
    bucket_node *buckets[SOUK_STORE_BUCKETS];
    int n_cached;
    stmt_entry **handed; /* statements handed out since the last release */
    size_t n_handed, cap_handed;
    int denied_txn; /* a migration tried BEGIN/COMMIT (see migrate_auth) */
    /* Transaction control runs on every request: prepared once at open, not
     * parsed again each time. */
    sqlite3_stmt *txn[TXN_COUNT];
    sqlite3_stmt *data_version; /* PRAGMA data_version, for souk_store_version() */
};

static unsigned sql_hash(const char *s)
{
    /* FNV-1a: the keys are short SQL texts; any decent spread will do. */
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* mkdir -p of the directory part of path (not the last component). */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char *dir = strdup(path);
    if (!dir) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, SOUK_STORE_DIR_MODE) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(dir);
    return 0;
}

static int store_fail(souk_store *s, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    return -1;
}

int souk_store_open(souk_store **out, const char *db_path, char *err, size_t errlen)
{
    *out = NULL;
    if (make_parent_dirs(db_path, err, errlen) != 0)
        return -1;
    souk_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(db_path))) {
        free(s);
        snprintf(err, errlen, "%s: out of memory", db_path);
        return -1;
    }
    int rc = sqlite3_open_v2(
        db_path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            store_fail(s, "cannot open", err, errlen);
        else
            snprintf(err, errlen, "%s: cannot open: %s", db_path, sqlite3_errstr(rc));
        souk_store_close(s);
        return -1;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* The busy timeout first: switching to WAL needs a lock that another process
     * opening the same store at the same moment may hold. */
    sqlite3_busy_timeout(s->db, SOUK_STORE_BUSY_TIMEOUT_MS);

    /* journal_mode answers with the mode in effect; a file system without shared
     * memory (or an in-memory database) silently stays in another mode, and then
     * readers and the writer would block each other. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK) {
        store_fail(s, "journal_mode", err, errlen);
        souk_store_close(s);
        return -1;
    }
    /* SQLite answers SQLITE_BUSY at once, without the busy handler, where waiting
     * could deadlock (several processes creating the same new store at once): retry
     * for as long as the busy timeout would have waited. */
    for (int waited = 0;; waited += STORE_WAL_RETRY_MS) {
        rc = sqlite3_step(st);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= SOUK_STORE_BUSY_TIMEOUT_MS)
            break;
        sqlite3_reset(st);
        sqlite3_sleep(STORE_WAL_RETRY_MS);
    }
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!mode || strcasecmp(mode, "wal") != 0) {
        if (mode)
            snprintf(err, errlen, "%s: journal_mode WAL not available (got '%s')", db_path, mode);
        else
            store_fail(s, "journal_mode", err, errlen);
        sqlite3_finalize(st);
        souk_store_close(s);
        return -1;
    }
    sqlite3_finalize(st);
    if (souk_store_exec(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", err, errlen) != 0) {
        souk_store_close(s);
        return -1;
    }
    for (int i = 0; i < TXN_COUNT; i++) {
        if (sqlite3_prepare_v2(s->db, txn_sql[i], -1, &s->txn[i], NULL) != SQLITE_OK) {
            store_fail(s, txn_sql[i], err, errlen);
            souk_store_close(s);
            return -1;
        }
    }
    if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &s->data_version, NULL) !=
        SQLITE_OK) {
        store_fail(s, "PRAGMA data_version", err, errlen);
        souk_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void entry_free(stmt_entry *e)
{
    sqlite3_finalize(e->stmt);
    free(e->sql);
    free(e);
}

void souk_store_close(souk_store *s)
{
    if (!s)
        return;
    if (s->db) {
        souk_store_release_all(s);
        souk_store_rollback(s);
    }
    for (int i = 0; i < SOUK_STORE_BUCKETS; i++) {
        bucket_node *b = s->buckets[i];
        while (b) {
            bucket_node *next = b->next;
            for (stmt_entry *e = b->first, *n; e; e = n) {
                n = e->next_copy;
                entry_free(e);
            }
            free(b);
            b = next;
        }
    }
    free(s->handed);
    for (int i = 0; i < TXN_COUNT; i++)
        sqlite3_finalize(s->txn[i]);
    sqlite3_finalize(s->data_version);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        souk_log(SOUK_LOG_ERROR, "%s: close: %s", s->path, sqlite3_errmsg(s->db));
    free(s->path);
    free(s);
}

/* data_version moves when another connection commits; our own commits show in
 * total_changes instead.  Packed into one number: the high half is the former, the
 * low half the latter, so that either moving changes the stamp. */
uint64_t souk_store_version(souk_store *s)
{
    uint64_t dv = 0;
    if (s && s->data_version) {
        if (sqlite3_step(s->data_version) == SQLITE_ROW)
            dv = (uint64_t)sqlite3_column_int64(s->data_version, 0);
        sqlite3_reset(s->data_version);
    }
    uint64_t own = s && s->db ? (uint64_t)sqlite3_total_changes64(s->db) : 0;
    return (dv << 32) ^ (own & 0xffffffffu);
}

sqlite3 *souk_store_db(souk_store *s)
{
    return s->db;
}

static int handed_push(souk_store *s, stmt_entry *e)
{
    if (s->n_handed == s->cap_handed) {
        size_t cap = s->cap_handed ? s->cap_handed * 2 : SOUK_STORE_HANDED_INITIAL;
        stmt_entry **h = realloc(s->handed, cap * sizeof *h);
        if (!h)
            return -1;
        s->handed = h;
        s->cap_handed = cap;
    }
    s->handed[s->n_handed++] = e;
    return 0;
}

static bucket_node *bucket_find(souk_store *s, const char *sql, unsigned h)
{
    for (bucket_node *b = s->buckets[h & (SOUK_STORE_BUCKETS - 1)]; b; b = b->next)
        if (b->hash == h && strcmp(b->first->sql, sql) == 0)
            return b;
    return NULL;
}

sqlite3_stmt *souk_store_prepare(souk_store *s, const char *sql)
{
    unsigned h = sql_hash(sql);
    bucket_node *b = bucket_find(s, sql, h);
    int copies = 0;
    if (b) {
        for (stmt_entry *e = b->first; e; e = e->next_copy, copies++) {
            if (e->in_use)
                continue;
            if (handed_push(s, e) != 0)
                goto oom;
            sqlite3_reset(e->stmt);
            sqlite3_clear_bindings(e->stmt);
            e->in_use = 1;
            return e->stmt;
        }
    }

    sqlite3_stmt *st = NULL;
    /* PERSISTENT: these statements live for the whole process. */
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        souk_log(SOUK_LOG_ERROR, "sql error: %s in: %s", sqlite3_errmsg(s->db), sql);
        sqlite3_finalize(st);
        return NULL;
    }
    if (!st) { /* only whitespace or a comment: nothing to run */
        souk_log(SOUK_LOG_ERROR, "sql error: empty statement: '%s'", sql);
        return NULL;
    }
    stmt_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->sql = strdup(sql))) {
        free(e);
        sqlite3_finalize(st);
        goto oom;
    }
    e->stmt = st;
    e->in_use = 1;
    e->cached = s->n_cached < SOUK_STORE_CACHE_MAX && copies < SOUK_STORE_CACHE_PER_SQL;
    if (handed_push(s, e) != 0) {
        entry_free(e);
        goto oom;
    }
    if (e->cached) {
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) {
                e->cached = 0; /* still handed out; freed on release */
                return st;
            }
            b->hash = h;
            unsigned i = h & (SOUK_STORE_BUCKETS - 1);
            b->next = s->buckets[i];
            s->buckets[i] = b;
        }
        e->next_copy = b->first;
        b->first = e;
        s->n_cached++;
    }
    return st;
oom:
    souk_log(SOUK_LOG_ERROR, "sql error: out of memory preparing: %s", sql);
    return NULL;
}

void souk_store_release_all(souk_store *s)
{
    for (size_t i = 0; i < s->n_handed; i++) {
        stmt_entry *e = s->handed[i];
        if (!e->cached) {
            entry_free(e);
            continue;
        }
        sqlite3_reset(e->stmt);
        sqlite3_clear_bindings(e->stmt);
        e->in_use = 0;
    }
    s->n_handed = 0;
}

int souk_store_exec(souk_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int store_txn(souk_store *s, int which, char *err, size_t errlen)
{
    sqlite3_stmt *st = s->txn[which];
    if (!st) {
        snprintf(err, errlen, "%s: %s: the store is not open", s->path, txn_sql[which]);
        return -1;
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s: %s", s->path, txn_sql[which], sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

int souk_store_in_transaction(souk_store *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int souk_store_begin(souk_store *s, int write, char *err, size_t errlen)
{
    if (souk_store_in_transaction(s)) {
        snprintf(err, errlen, "%s: a transaction is already open", s->path);
        return -1;
    }
    /* IMMEDIATE takes the write lock now, so a writing request waits its turn at
     * BEGIN (busy_timeout) instead of failing with SQLITE_BUSY half-way through. */
    return store_txn(s, write ? TXN_BEGIN_WRITE : TXN_BEGIN_READ, err, errlen);
}

int souk_store_commit(souk_store *s, char *err, size_t errlen)
{
    if (store_txn(s, TXN_COMMIT, err, errlen) != 0) {
        /* Leave nothing half-open: the caller treats a failed commit as a failed
         * unit of work. */
        souk_store_rollback(s);
        return -1;
    }
    return 0;
}

void souk_store_rollback(souk_store *s)
{
    if (!souk_store_in_transaction(s))
        return;
    char err[512];
    if (store_txn(s, TXN_ROLLBACK, err, sizeof err) != 0)
        souk_log(SOUK_LOG_ERROR, "%s", err);
}

/* ------------------------------------------------------------------ migrations */

static const char MIGRATIONS_DDL[] =
    "CREATE TABLE IF NOT EXISTS souk_migrations("
    "plugin TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL, PRIMARY KEY(plugin, version))";

/* A migration runs inside the transaction that also records it; a BEGIN, COMMIT
 * or ROLLBACK in its SQL would end that transaction early and break "a failed
 * migration changes nothing", so the authorizer refuses them while one runs. */
static int migrate_auth(void *ud, int action, const char *a, const char *b, const char *c,
                        const char *d)
{
    souk_store *s = ud;
    if (action == SQLITE_TRANSACTION) {
        s->denied_txn = 1;
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

/* Begin the migration's write transaction.  Beyond the busy timeout, keep waiting
 * (bounded) while another process migrates: it is expected at start-up, when every
 * worker opens the store at once. */
static int migrate_begin(souk_store *s, char *err, size_t errlen)
{
    uint64_t deadline = souk_clock_mono_ms() + SOUK_STORE_MIGRATE_WAIT_MS;
    for (;;) {
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY || souk_clock_mono_ms() >= deadline)
            return store_fail(s, "begin migration", err, errlen);
    }
}

static int table_exists(souk_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM sqlite_master WHERE type='table' AND "
                           "name='souk_migrations'",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* 1 recorded, 0 not, -1 error. */
static int is_recorded(souk_store *s, const char *plugin, int version)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM souk_migrations WHERE plugin=?1 AND version=?2",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The highest recorded version of plugin (0 when none), -1 on error. */
static long long recorded_max(souk_store *s, const char *plugin)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coalesce(max(version), 0) FROM souk_migrations "
                           "WHERE plugin=?1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* The list must be usable before anything is touched: versions positive and
 * strictly increasing within a plugin, and the database not ahead of the code. */
static int migrate_check(souk_store *s, const souk_store_migration *list, size_t n, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const souk_store_migration *m = &list[i];
        if (!m->plugin || !m->sql || m->version < 1) {
            snprintf(err, errlen, "plugin %s migration %d: needs a version >= 1 and SQL",
                     m->plugin ? m->plugin : "(null)", m->version);
            return -1;
        }
        int latest = m->version, first = 1;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(list[j].plugin, m->plugin) != 0)
                continue;
            if (j < i) {
                first = 0;
                if (list[j].version >= m->version) {
                    snprintf(err, errlen,
                             "plugin %s migration %d: listed after migration %d; versions "
                             "must increase",
                             m->plugin, m->version, list[j].version);
                    return -1;
                }
            }
            if (list[j].version > latest)
                latest = list[j].version;
        }
        if (!first)
            continue;
        long long rec = recorded_max(s, m->plugin);
        if (rec < 0)
            return store_fail(s, "read souk_migrations", err, errlen);
        if (rec > latest) {
            snprintf(err, errlen,
                     "plugin %s: the database is at migration %lld, newer than the "
                     "plugin's latest (%d); install the newer plugin",
                     m->plugin, rec, latest);
            return -1;
        }
    }
    return 0;
}

/* Apply one migration with its record in one transaction.  1 applied, 0 already
 * there (another process was first), -1 error (nothing changed). */
static int migrate_one(souk_store *s, const souk_store_migration *m, char *err, size_t errlen)
{
    if (migrate_begin(s, err, errlen) != 0)
        return -1;
    /* Re-check under the write lock: a sibling process may have applied it
     * between our first look and BEGIN IMMEDIATE. */
    int rec = is_recorded(s, m->plugin, m->version);
    if (rec != 0) {
        if (rec < 0)
            store_fail(s, "read souk_migrations", err, errlen);
        souk_store_rollback(s);
        return rec < 0 ? -1 : 0;
    }
    char *msg = NULL;
    s->denied_txn = 0;
    sqlite3_set_authorizer(s->db, migrate_auth, s);
    int rc = sqlite3_exec(s->db, m->sql, NULL, NULL, &msg);
    sqlite3_set_authorizer(s->db, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "plugin %s migration %d (%s): %s", m->plugin, m->version,
                 m->name ? m->name : "",
                 s->denied_txn ? "BEGIN/COMMIT/ROLLBACK not allowed (each migration "
                                 "already runs in its own transaction)"
                 : msg         ? msg
                               : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        souk_store_rollback(s);
        return -1;
    }
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(s->db,
                            "INSERT INTO souk_migrations(plugin, version, name, applied_at) "
                            "VALUES(?1, ?2, ?3, ?4)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m->plugin, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, m->version);
        sqlite3_bind_text(st, 3, m->name ? m->name : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, souk_clock_now_ms());
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "plugin %s migration %d (%s): recording it: %s", m->plugin,
                 m->version, m->name ? m->name : "", sqlite3_errmsg(s->db));
        souk_store_rollback(s);
        return -1;
    }
    char cerr[256];
    if (souk_store_commit(s, cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "plugin %s migration %d (%s): %s", m->plugin, m->version,
                 m->name ? m->name : "", cerr);
        return -1;
    }
    return 1;
}

int souk_store_migrate(souk_store *s, const souk_store_migration *list, size_t n,
                       void (*report)(void *ud, const souk_store_migration *m), void *ud, char *err,
                       size_t errlen)
{
    if (souk_store_in_transaction(s)) {
        snprintf(err, errlen, "%s: cannot migrate inside an open transaction", s->path);
        return -1;
    }
    /* Creating the record table is itself a write: take the lock like a migration
     * so that processes starting together do not trip over each other.  Once it
     * exists, a store with nothing pending is opened without any write. */
    int exists = table_exists(s);
    if (exists < 0)
        return store_fail(s, "read sqlite_master", err, errlen);
    if (!exists) {
        if (migrate_begin(s, err, errlen) != 0)
            return -1;
        if (souk_store_exec(s, MIGRATIONS_DDL, err, errlen) != 0) {
            souk_store_rollback(s);
            return -1;
        }
        if (souk_store_commit(s, err, errlen) != 0)
            return -1;
    }
    if (migrate_check(s, list, n, err, errlen) != 0)
        return -1;

    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        int rec = is_recorded(s, list[i].plugin, list[i].version);
        if (rec < 0)
            return store_fail(s, "read souk_migrations", err, errlen);
        if (rec)
            continue;
        int rc = migrate_one(s, &list[i], err, errlen);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            applied++;
            if (report)
                report(ud, &list[i]);
        }
    }
    return applied;
}

int souk_store_pending(souk_store *s, const souk_store_migration *list, size_t n)
{
    int exists = table_exists(s);
    if (exists < 0)
        return -1;
    if (!exists)
        return (int)n;
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        int rec = is_recorded(s, list[i].plugin, list[i].version);
        if (rec < 0)
            return -1;
        pending += !rec;
    }
    return pending;
}
