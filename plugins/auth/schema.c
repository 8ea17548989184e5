/* schema.c -- the auth plugin's tables.  Times are Unix milliseconds of the store
 * clock; phones are E.164, emails lower case. */
#include "auth_internal.h"

const souk_migration auth_migrations[] = {
    {1, "accounts, challenges, rate counters, sessions, contacts, preferences",
     /* An account.  phone and email are NULL after deletion (the row stays as an
      * anonymous tombstone so that other plugins' rows keep a valid reference). */
     "CREATE TABLE auth_account ("
     "  id INTEGER PRIMARY KEY,"
     "  phone TEXT UNIQUE,"
     "  email TEXT UNIQUE,"               /* verified email only */
     "  name TEXT,"
     "  birth_date TEXT,"                 /* YYYY-MM-DD */
     "  locale TEXT NOT NULL DEFAULT 'ru',"
     "  referral_code TEXT NOT NULL UNIQUE,"
     "  referrer_id INTEGER REFERENCES auth_account(id) ON DELETE SET NULL,"
     "  terms_version TEXT NOT NULL,"
     "  terms_accepted_at INTEGER NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  deleted_at INTEGER,"
     "  deletion_reason TEXT"
     ");"
     /* A one-time code sent to a destination for a purpose. */
     "CREATE TABLE auth_challenge ("
     "  id INTEGER PRIMARY KEY,"
     "  public_id TEXT NOT NULL UNIQUE,"
     "  purpose TEXT NOT NULL,"
     "  channel TEXT NOT NULL,"
     "  destination TEXT NOT NULL,"
     "  account_id INTEGER REFERENCES auth_account(id) ON DELETE CASCADE,"
     "  code_hash TEXT NOT NULL,"
     "  data TEXT,"                       /* JSON */
     "  created_at INTEGER NOT NULL,"
     "  sent_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  tries INTEGER NOT NULL DEFAULT 0,"
     "  verified_at INTEGER,"
     "  used_at INTEGER"
     ");"
     "CREATE INDEX auth_challenge_dest ON auth_challenge(destination, purpose, sent_at);"
     "CREATE INDEX auth_challenge_expiry ON auth_challenge(expires_at);"
     /* Fixed-window counters. */
     "CREATE TABLE auth_rate ("
     "  key TEXT NOT NULL,"
     "  window INTEGER NOT NULL,"         /* window start, ms */
     "  hits INTEGER NOT NULL,"
     "  PRIMARY KEY (key, window)"
     ") WITHOUT ROWID;"
     "CREATE TABLE auth_session ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES auth_account(id) ON DELETE CASCADE,"
     "  token_hash TEXT NOT NULL UNIQUE,"
     "  created_at INTEGER NOT NULL,"
     "  last_seen_at INTEGER NOT NULL,"
     "  ip TEXT,"
     "  user_agent TEXT"
     ");"
     "CREATE INDEX auth_session_account ON auth_session(account_id);"
     /* A phone change in progress: one per account. */
     "CREATE TABLE auth_phone_change ("
     "  account_id INTEGER PRIMARY KEY REFERENCES auth_account(id) ON DELETE CASCADE,"
     "  new_phone TEXT NOT NULL,"
     "  new_confirmed_at INTEGER,"
     "  old_confirmed_at INTEGER,"
     "  due_at INTEGER,"                  /* completes by itself then (old number lost) */
     "  created_at INTEGER NOT NULL"
     ");"
     "CREATE INDEX auth_phone_change_due ON auth_phone_change(due_at);"
     /* Notification preferences; a missing row means the kind's default. */
     "CREATE TABLE auth_pref ("
     "  account_id INTEGER NOT NULL REFERENCES auth_account(id) ON DELETE CASCADE,"
     "  kind TEXT NOT NULL,"
     "  channel TEXT NOT NULL,"
     "  enabled INTEGER NOT NULL,"
     "  PRIMARY KEY (account_id, kind, channel)"
     ") WITHOUT ROWID;"},
    {2, "challenge delivery flag; indexes for the purge",
     /* deliver = 0: a decoy challenge that counts and answers like a real one but
      * never sends its code (an email sign-in for an unknown address). */
     "ALTER TABLE auth_challenge ADD COLUMN deliver INTEGER NOT NULL DEFAULT 1;"
     "CREATE INDEX auth_rate_window ON auth_rate(window);"
     "CREATE INDEX auth_session_seen ON auth_session(last_seen_at);"},
};

const int auth_migration_count = (int)(sizeof auth_migrations / sizeof auth_migrations[0]);
