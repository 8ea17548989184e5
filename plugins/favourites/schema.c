/* schema.c -- the favourites plugin's tables.  Times are Unix milliseconds of the
 * store clock.  Published migrations are never edited: a change is a new
 * migration at the end.
 *
 * account_id is the auth plugin's account id.  There is no foreign key to the
 * auth plugin's table (its rows are not part of its public contract); the
 * plugin erases an account's rows on user.deleted instead. */
#include "favourites_internal.h"

const souk_migration favourites_migrations[] = {
    {1, "favourites and back-in-stock subscriptions",
     "CREATE TABLE favourites_item ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL,"
     "  product TEXT NOT NULL,"          /* the catalog product's slug */
     "  added_at INTEGER NOT NULL,"
     "  UNIQUE (account_id, product)"
     ");"
     "CREATE INDEX favourites_item_added ON favourites_item(account_id, added_at);"
     /* A subscription to one variant.  Open while closed_at is NULL; it closes
      * when the alert is queued (notified_at = closed_at, sent = messages queued)
      * or when every channel was off (notified_at NULL, sent 0).  Unsubscribing
      * deletes the open row; closed rows stay as the shopper's history. */
     "CREATE TABLE favourites_waitlist ("
     "  id INTEGER PRIMARY KEY,"
     "  account_id INTEGER NOT NULL,"
     "  sku TEXT NOT NULL,"
     "  product TEXT NOT NULL,"          /* the variant's product slug when subscribed */
     "  created_at INTEGER NOT NULL,"
     "  notified_at INTEGER,"
     "  closed_at INTEGER,"
     "  sent INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE UNIQUE INDEX favourites_waitlist_open"
     "  ON favourites_waitlist(account_id, sku) WHERE closed_at IS NULL;"
     "CREATE INDEX favourites_waitlist_sku"
     "  ON favourites_waitlist(sku, id) WHERE closed_at IS NULL;"
     "CREATE INDEX favourites_waitlist_account ON favourites_waitlist(account_id);"},
};

const int favourites_migration_count =
    (int)(sizeof favourites_migrations / sizeof favourites_migrations[0]);
