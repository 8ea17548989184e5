/* schema.c -- the outbox table.  Published migrations are append-only: change
 * the table with a new version, never by editing one below. */
#include "notify_internal.h"

const souk_migration notify_migrations[] = {
    {1, "create the outbox",
     /* One row per message, rendered when queued, so that the row holds exactly
      * what is sent.  state: queued (waiting, due at next_attempt_at), sending
      * (claimed by a worker until lease_until), sent, failed (gave up after
      * max_attempts; last_error says why).  transport: what delivered it. */
     "CREATE TABLE notify_outbox("
     " id INTEGER PRIMARY KEY,"
     " channel TEXT NOT NULL CHECK(channel IN ('email', 'sms')),"
     " recipient TEXT NOT NULL,"
     " message TEXT NOT NULL,"
     " locale TEXT NOT NULL,"
     " subject TEXT,"
     " body TEXT NOT NULL,"
     " headers TEXT NOT NULL DEFAULT '{}',"
     " dedupe_key TEXT UNIQUE,"
     " state TEXT NOT NULL DEFAULT 'queued'"
     "  CHECK(state IN ('queued', 'sending', 'sent', 'failed')),"
     " transport TEXT,"
     " attempts INTEGER NOT NULL DEFAULT 0,"
     " next_attempt_at INTEGER NOT NULL,"
     " lease_until INTEGER,"
     " last_error TEXT,"
     " created_at INTEGER NOT NULL,"
     " sent_at INTEGER);"
     /* The delivery loop's questions: what is due, what lease has expired. */
     "CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt_at);"
     "CREATE INDEX notify_outbox_lease ON notify_outbox(state, lease_until);"
     /* souk outbox --to ADDR. */
     "CREATE INDEX notify_outbox_recipient ON notify_outbox(recipient, id);"},
};

const int notify_migration_count = sizeof notify_migrations / sizeof *notify_migrations;
