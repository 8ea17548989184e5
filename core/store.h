/* store.h -- the store's SQLite database (STORE_DIR/data/souk.db): one connection
 * per process, WAL, synchronous=FULL, foreign keys on, busy timeout, a cache of
 * prepared statements, transactions and per-plugin migrations. */
#ifndef SOUK_STORE_H
#define SOUK_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define SOUK_STORE_BUSY_TIMEOUT_MS 5000

typedef struct souk_store souk_store;

typedef struct souk_store_migration {
    const char *plugin;
    int version;
    const char *name;
    const char *sql;
} souk_store_migration;

/* Open (creating data/ and the file when missing) and set the pragmas. */
int souk_store_open(souk_store **out, const char *db_path, char *err, size_t errlen);
void souk_store_close(souk_store *s);
sqlite3 *souk_store_db(souk_store *s);

/* A cached statement, reset and cleared.  If the cached one for this SQL is in use
 * (handed out and not yet released) a fresh one is prepared.  Borrowed until
 * souk_store_release_all().  NULL with the SQLite message logged on error. */
sqlite3_stmt *souk_store_prepare(souk_store *s, const char *sql);
/* Reset every statement handed out since the last release (end of a request). */
void souk_store_release_all(souk_store *s);
int souk_store_exec(souk_store *s, const char *sql, char *err, size_t errlen);

/* BEGIN IMMEDIATE (write) or BEGIN (read); commit; rollback (never fails). */
int souk_store_begin(souk_store *s, int write, char *err, size_t errlen);
int souk_store_commit(souk_store *s, char *err, size_t errlen);
void souk_store_rollback(souk_store *s);
int souk_store_in_transaction(souk_store *s);
/* A stamp of the database's content: equal stamps (taken on this connection)
 * mean no transaction has committed a change since, from this connection or any
 * other.  Cheap (one prepared PRAGMA data_version step); 0 when s is NULL. */
uint64_t souk_store_version(souk_store *s);

/* Apply the pending migrations in list order (the caller orders plugins by their
 * dependencies), each in its own transaction together with its record in
 * souk_migrations(plugin, version, name, applied_at).  report (may be NULL) is
 * called for each applied one.  Returns the number applied, or -1 with err
 * "plugin catalog migration 3 (add brands): <sqlite message>"; a failed migration
 * changes nothing.  A recorded version that the plugin no longer declares is
 * ignored; a store at a version newer than any declared is an error. */
int souk_store_migrate(souk_store *s, const souk_store_migration *list, size_t n,
                       void (*report)(void *ud, const souk_store_migration *m), void *ud,
                       char *err, size_t errlen);
/* Count the pending migrations without applying them (for `souk check`). */
int souk_store_pending(souk_store *s, const souk_store_migration *list, size_t n);

#endif
