/* prefs.c -- notification preferences per kind and channel, the signed one-click
 * unsubscribe link of newsletters, and `souk newsletter`.
 *
 *   GET  /account/notifications, /api/v1/account/notifications
 *        {"notifications": [{"kind", "is": {<kind>: true}, "channels":
 *          [{"channel", "is_email", "enabled", "available", "field", "id"}]}],
 *         "email_verified": bool}
 *   PUT  /api/v1/account/notifications {"<kind>": {"<channel>": bool}}  (only the
 *        pairs given change)
 *   POST /account/notifications (form): one checkbox per pair, named
 *        "<kind>.<channel>", and form=1; an unchecked box turns the pair off.
 *   GET  /unsubscribe/:token    a page that asks to confirm (changes nothing)
 *   POST /unsubscribe/:token, /api/v1/unsubscribe/:token
 *        turn that kind's email off; also the RFC 8058 one-click POST
 *        ("List-Unsubscribe=One-Click").  No sign-in and no CSRF token: the
 *        token's signature is the authority.  {"unsubscribed": true, "kind"}
 *
 * The token is "<account id>.<kind>.<mac>": mac is the store's keyed hash
 * (purpose "auth.unsubscribe") of "<account id>.<kind>", compared in constant
 * time.  It does not expire: a newsletter read a year later must still let its
 * reader leave, and turning a newsletter off is all it can do.  A stored choice
 * overrides the kind's default; a missing row means the default. */
#include "account_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNSUB_PURPOSE "auth.unsubscribe"
#define MAC_HEX 64             /* keyed_hash: 64 hex characters */
#define ID_DIGITS_MAX 19       /* an int64 in decimal */
#define MESSAGE_NAME_MAX 64    /* `souk newsletter --message NAME` */

typedef struct pref_kind {
    const char *kind;
    int email, sms;  /* channels the kind is sent by */
    int def;         /* on unless the shopper says otherwise */
    int bulk;        /* sent to many at once: emails carry the unsubscribe link */
} pref_kind;

/* Newsletters go by email only (an SMS cannot carry an unsubscribe link). */
static const pref_kind kinds[] = {
    {AUTH_PREF_NEWSLETTER, 1, 0, 0, 1},
    {AUTH_PREF_ORDERS, 1, 1, 1, 0},
    {AUTH_PREF_BACK_IN_STOCK, 1, 1, 1, 0},
};
#define N_KINDS (sizeof kinds / sizeof *kinds)

static const pref_kind *kind_find(const char *kind)
{
    for (size_t i = 0; kind && i < N_KINDS; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

static int kind_offers(const pref_kind *k, const char *channel)
{
    if (strcmp(channel, NOTIFY_EMAIL) == 0)
        return k->email;
    if (strcmp(channel, NOTIFY_SMS) == 0)
        return k->sms;
    return 0;
}

int account_pref_is_bulk(const char *kind)
{
    const pref_kind *k = kind_find(kind);
    return k && k->bulk;
}

int account_pref_enabled(souk_ctx *ctx, int64_t account_id, const char *kind,
                         const char *channel)
{
    /* A kind of another plugin's (not in the table): every channel, on by default. */
    const pref_kind *k = kind_find(kind);
    if (k && !kind_offers(k, channel))
        return 0;
    sqlite3_stmt *st = auth_api->db_prepare(
        ctx, "SELECT enabled FROM auth_pref WHERE account_id = ?1 AND kind = ?2 AND channel = ?3");
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int on = sqlite3_column_int(st, 0) != 0;
        sqlite3_reset(st);
        return on;
    }
    return k ? k->def : 1;
}

static int pref_set(souk_ctx *ctx, int64_t account_id, const char *kind, const char *channel,
                    int enabled)
{
    sqlite3_stmt *st = auth_api->db_prepare(
        ctx, "INSERT INTO auth_pref(account_id, kind, channel, enabled) VALUES(?1, ?2, ?3, ?4)"
             " ON CONFLICT(account_id, kind, channel) DO UPDATE SET enabled = excluded.enabled");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, enabled != 0);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

/* ------------------------------------------------------------ the page/API */

static int prefs_fill(souk_ctx *ctx, int64_t id)
{
    account_row row;
    if (account_row_load(ctx, id, &row) != SOUK_OK)
        return SOUK_ERR;
    json_t *list = json_array();
    for (size_t i = 0; i < N_KINDS; i++) {
        const pref_kind *k = &kinds[i];
        json_t *channels = json_array();
        const char *chans[] = {NOTIFY_EMAIL, NOTIFY_SMS};
        for (size_t c = 0; c < sizeof chans / sizeof *chans; c++) {
            if (!kind_offers(k, chans[c]))
                continue;
            int email = strcmp(chans[c], NOTIFY_EMAIL) == 0;
            json_array_append_new(
                channels,
                json_pack("{s:s, s:b, s:b, s:b, s:s++, s:s++}", "channel", chans[c], "is_email",
                          email, "enabled", account_pref_enabled(ctx, id, k->kind, chans[c]),
                          "available", email ? row.email != NULL : row.phone != NULL, "field",
                          k->kind, ".", chans[c], "id", k->kind, "-", chans[c]));
        }
        json_array_append_new(list, json_pack("{s:s, s:{s:b}, s:o}", "kind", k->kind, "is",
                                              k->kind, 1, "channels", channels));
    }
    json_t *view = auth_api->view(ctx);
    json_object_set_new(view, "notifications", list);
    json_object_set_new(view, "email_verified", json_boolean(row.email != NULL));
    return SOUK_OK;
}

static int h_prefs_show(souk_ctx *ctx) { return account_show(ctx, prefs_fill); }

/* The form: every pair the page shows, "on" when its box was ticked. */
static int save_form(souk_ctx *ctx, int64_t id, json_t *in)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        const char *chans[] = {NOTIFY_EMAIL, NOTIFY_SMS};
        for (size_t c = 0; c < sizeof chans / sizeof *chans; c++) {
            if (!kind_offers(&kinds[i], chans[c]))
                continue;
            const char *field = auth_api->format(ctx, "%s.%s", kinds[i].kind, chans[c]);
            json_t *v = json_object_get(in, field);
            if (pref_set(ctx, id, kinds[i].kind, chans[c], v != NULL && !json_is_false(v)) !=
                SOUK_OK)
                return SOUK_ERR;
        }
    }
    return SOUK_OK;
}

static int h_prefs_save(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t id = account_current(ctx);
    json_t *in = api->req_input(ctx);
    if (json_object_get(in, "form")) {
        if (save_form(ctx, id, in) != SOUK_OK)
            return api->res_error(ctx, 500, "db", "cannot save the preferences", NULL);
    } else {
        const char *kind;
        json_t *channels;
        json_object_foreach(in, kind, channels) {
            const pref_kind *k = kind_find(kind);
            if (!k)
                return account_error(ctx, 422, "kind_unknown", kind,
                                     api->format(ctx, "%s: no such kind of notification", kind),
                                     prefs_fill);
            if (!json_is_object(channels))
                return account_error(ctx, 422, "invalid", kind,
                                     api->format(ctx, "%s: expected {\"email\": true, ...}",
                                                 kind),
                                     prefs_fill);
            const char *channel;
            json_t *v;
            json_object_foreach(channels, channel, v) {
                const char *field = api->format(ctx, "%s.%s", kind, channel);
                if (!kind_offers(k, channel))
                    return account_error(ctx, 422, "channel_unknown", field,
                                         api->format(ctx, "%s: not sent by %s", kind, channel),
                                         prefs_fill);
                if (!json_is_boolean(v))
                    return account_error(ctx, 422, "invalid", field,
                                         api->format(ctx, "%s: expected true or false", field),
                                         prefs_fill);
                if (pref_set(ctx, id, kind, channel, json_is_true(v)) != SOUK_OK)
                    return api->res_error(ctx, 500, "db", "cannot save the preferences", NULL);
            }
        }
    }
    if (account_show(ctx, prefs_fill) != SOUK_OK)
        return SOUK_ERR;
    return account_done(ctx, "/account/notifications", "prefs_saved", "Preferences saved");
}

/* ------------------------------------------------------------- unsubscribe */

static void unsub_mac(int64_t id, const char *kind, char out[MAC_HEX + 1])
{
    char msg[ID_DIGITS_MAX + 2 + 64];
    int n = snprintf(msg, sizeof msg, "%lld.%s", (long long)id, kind);
    auth_api->keyed_hash(UNSUB_PURPOSE, msg, (size_t)n, out);
}

const char *account_unsubscribe_url(souk_ctx *ctx, int64_t account_id, const char *kind)
{
    char mac[MAC_HEX + 1];
    unsub_mac(account_id, kind, mac);
    return auth_api->format(ctx, "%s/unsubscribe/%lld.%s.%s", account_site_url(),
                            (long long)account_id, kind, mac);
}

/* Check a token: SOUK_OK with the account (live) and the kind (a table entry). */
static int unsub_check(souk_ctx *ctx, const char *token, int64_t *id, const pref_kind **kind)
{
    const char *dot1 = token ? strchr(token, '.') : NULL;
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || dot1 == token || dot1 - token > ID_DIGITS_MAX || strlen(dot2 + 1) != MAC_HEX)
        return SOUK_ERR;
    for (const char *p = token; p < dot1; p++)
        if (!isdigit((unsigned char)*p))
            return SOUK_ERR;
    char kbuf[64];
    size_t klen = (size_t)(dot2 - dot1 - 1);
    if (klen == 0 || klen >= sizeof kbuf)
        return SOUK_ERR;
    memcpy(kbuf, dot1 + 1, klen);
    kbuf[klen] = '\0';
    const pref_kind *k = kind_find(kbuf);
    if (!k || !k->email)
        return SOUK_ERR;
    int64_t n = strtoll(token, NULL, 10);
    char mac[MAC_HEX + 1];
    unsub_mac(n, k->kind, mac);
    if (!auth_api->equal_ct(mac, dot2 + 1, MAC_HEX))
        return SOUK_ERR;
    account_row row;
    if (account_row_load(ctx, n, &row) != SOUK_OK)
        return SOUK_ERR;
    *id = n;
    *kind = k;
    return SOUK_OK;
}

static int unsub_fill(souk_ctx *ctx, int done)
{
    const souk_host_api *api = auth_api;
    const char *token = api->req_param(ctx, "token");
    int64_t id = 0;
    const pref_kind *k = NULL;
    if (unsub_check(ctx, token, &id, &k) != SOUK_OK)
        return account_error(ctx, 404, "link_invalid", NULL,
                             "this unsubscribe link is not valid: copy the whole link from "
                             "the email, or change your preferences in your account",
                             NULL);
    account_row row;
    account_row_load(ctx, id, &row);
    json_object_set_new(
        api->view(ctx), "unsubscribe",
        json_pack("{s:s, s:{s:b}, s:o, s:b, s:b, s:s+}", "kind", k->kind, "is", k->kind, 1,
                  "email", row.email ? json_string(auth_mask_email(ctx, row.email)) : json_null(),
                  "enabled", account_pref_enabled(ctx, id, k->kind, NOTIFY_EMAIL), "done", done,
                  "action", "/unsubscribe/", token));
    return SOUK_OK;
}

static int h_unsub_show(souk_ctx *ctx) { return unsub_fill(ctx, 0); }

static int h_unsub_do(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t id = 0;
    const pref_kind *k = NULL;
    if (unsub_check(ctx, api->req_param(ctx, "token"), &id, &k) != SOUK_OK)
        return unsub_fill(ctx, 0); /* answers 404 */
    if (pref_set(ctx, id, k->kind, NOTIFY_EMAIL, 0) != SOUK_OK)
        return api->res_error(ctx, 500, "db", "cannot save the preference", NULL);
    if (unsub_fill(ctx, 1) != SOUK_OK)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "unsubscribed", json_true());
    json_object_set_new(api->view(ctx), "kind", json_string(k->kind));
    return SOUK_OK;
}

/* ------------------------------------------------------- souk newsletter */

/* The command queues in batches, each its own write transaction, so that its
 * memory and its hold on the write lock stay small however many subscribers
 * there are.  Each message has the dedupe key "newsletter:<name>:<account>":
 * a newsletter goes once per account and name, so running the command again
 * (after an interruption, or by mistake) sends only to those who have not had
 * it. */
#define NEWSLETTER_BATCH 500

typedef struct newsletter_run {
    const char *message;
    int dry_run;
    int64_t after;    /* the last account id done */
    int total;        /* subscribers when the run began */
    int queued, already, in_batch;
} newsletter_run;

static const char *const subscribers_sql =
    " FROM auth_account a WHERE a.deleted_at IS NULL AND a.email IS NOT NULL"
    " AND COALESCE((SELECT p.enabled FROM auth_pref p WHERE p.account_id = a.id"
    "               AND p.kind = ?1 AND p.channel = ?2), ?3) = 1";

static sqlite3_stmt *subscribers(souk_ctx *ctx, const char *select, const char *tail)
{
    const pref_kind *k = kind_find(AUTH_PREF_NEWSLETTER);
    sqlite3_stmt *st =
        auth_api->db_prepare(ctx, auth_api->format(ctx, "%s%s%s", select, subscribers_sql, tail));
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, k->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, NOTIFY_EMAIL, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, k->def);
    return st;
}

/* A read job: the template is there, and how many subscribers there are. */
static int newsletter_count(souk_ctx *ctx, void *udata)
{
    const souk_host_api *api = auth_api;
    newsletter_run *run = udata;
    const char *locale = json_string_value(json_object_get(api->site(auth_self), "locale"));
    const char *tmpl = api->format(ctx, "message.%s.email.%s", run->message, locale ? locale : "ru");
    if (!api->template_exists(ctx, tmpl)) {
        fprintf(stderr, "souk newsletter: the theme has no template %s\n", tmpl);
        return SOUK_ERR;
    }
    sqlite3_stmt *st = subscribers(ctx, "SELECT count(*)", "");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return SOUK_ERR;
    run->total = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return SOUK_OK;
}

/* A write job: the next batch of subscribers after run->after. */
static int newsletter_batch(souk_ctx *ctx, void *udata)
{
    const souk_host_api *api = auth_api;
    newsletter_run *run = udata;
    sqlite3_stmt *st = subscribers(ctx, "SELECT a.id", " AND a.id > ?4 ORDER BY a.id LIMIT ?5");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 4, run->after);
    sqlite3_bind_int(st, 5, NEWSLETTER_BATCH);
    int64_t ids[NEWSLETTER_BATCH];
    int n = 0, rc = SQLITE_DONE;
    while (n < NEWSLETTER_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return SOUK_ERR;
    int queued = 0, already = 0;
    for (int i = 0; i < n; i++) {
        account_row row;
        if (account_row_load(ctx, ids[i], &row) != SOUK_OK)
            continue;
        const char *url = account_unsubscribe_url(ctx, row.id, AUTH_PREF_NEWSLETTER);
        json_t *data = json_pack("{s:{s:o}, s:s, s:s}", "customer", "name",
                                 row.name ? json_string(row.name) : json_null(),
                                 "unsubscribe_url", url, "email", row.email);
        const char *key = api->format(ctx, "newsletter:%s:%lld", run->message, (long long)row.id);
        notify_message m = {NOTIFY_EMAIL, row.email, run->message, row.locale, data, url, key};
        const char *error = NULL;
        /* A message already queued under its key changes nothing in the database. */
        int before = sqlite3_total_changes(api->db(ctx));
        int q = auth_notify->queue(ctx, &m, NULL, &error);
        json_decref(data);
        if (q != SOUK_OK) {
            fprintf(stderr, "souk newsletter: account %lld: %s\n", (long long)row.id,
                    error ? error : "cannot queue the message");
            return SOUK_ERR;
        }
        if (sqlite3_total_changes(api->db(ctx)) != before)
            queued++;
        else
            already++;
    }
    /* Counted only once the batch is sure to commit (job_run commits on SOUK_OK). */
    run->queued += queued;
    run->already += already;
    run->in_batch = n;
    if (n)
        run->after = ids[n - 1];
    return SOUK_OK;
}

static int newsletter_usage(FILE *out)
{
    fprintf(out, "usage: souk newsletter DIR --message NAME [--dry-run]\n"
                 "  Queue the email template message.NAME.email.<locale> to every account\n"
                 "  with a verified email that has the newsletter turned on, each with its\n"
                 "  own one-click unsubscribe link, once per account and NAME (a second\n"
                 "  run sends only to those who did not get it).  --dry-run only counts.\n");
    return 2;
}

static int valid_message_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MESSAGE_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static int cmd_newsletter(souk_ctx *ctx, int argc, char **argv)
{
    newsletter_run run = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            newsletter_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            run.dry_run = 1;
        } else if (strcmp(argv[i], "--message") == 0 && i + 1 < argc) {
            run.message = argv[++i];
        } else {
            fprintf(stderr, "souk newsletter: unknown argument '%s'\n", argv[i]);
            return newsletter_usage(stderr);
        }
    }
    if (!run.message)
        return newsletter_usage(stderr);
    if (!valid_message_name(run.message)) {
        fprintf(stderr, "souk newsletter: --message %s: expected a template name part such "
                        "as newsletter_may (a-z, 0-9, _)\n", run.message);
        return 2;
    }
    if (auth_api->job_run(auth_self, 0, newsletter_count, &run) != SOUK_OK) {
        fprintf(stderr, "souk newsletter: nothing was queued\n");
        return 1;
    }
    if (run.dry_run) {
        printf("newsletter %s: would queue %d message(s) (fewer if some subscribers had it "
               "already)\n", run.message, run.total);
        return 0;
    }
    do {
        if (auth_api->job_run(auth_self, 1, newsletter_batch, &run) != SOUK_OK) {
            fprintf(stderr, "souk newsletter: stopped after queuing %d message(s); run the "
                            "same command again to queue the rest (nobody gets it twice)\n",
                    run.queued);
            return 1;
        }
        if (run.total > NEWSLETTER_BATCH && run.in_batch)
            fprintf(stderr, "souk newsletter: %d/%d\n", run.queued + run.already, run.total);
    } while (run.in_batch == NEWSLETTER_BATCH);
    printf("newsletter %s: queued %d message(s)", run.message, run.queued);
    if (run.already)
        printf(", %d subscriber(s) had it already", run.already);
    printf("\n");
    return 0;
}

/* ------------------------------------------------------------------ routes */

static const souk_route routes[] = {
    {"GET", "/account/notifications", h_prefs_show, "account_notifications", SOUK_ROUTE_AUTH,
     NULL},
    {"POST", "/account/notifications", h_prefs_save, "account_notifications", SOUK_ROUTE_AUTH,
     NULL},
    {"GET", "/api/v1/account/notifications", h_prefs_show, NULL, SOUK_ROUTE_AUTH, NULL},
    {"PUT", "/api/v1/account/notifications", h_prefs_save, NULL, SOUK_ROUTE_AUTH, NULL},
    {"GET", "/unsubscribe/:token", h_unsub_show, "account_unsubscribe", 0, NULL},
    {"POST", "/unsubscribe/:token", h_unsub_do, "account_unsubscribe", SOUK_ROUTE_NO_CSRF, NULL},
    {"POST", "/api/v1/unsubscribe/:token", h_unsub_do, NULL, SOUK_ROUTE_NO_CSRF, NULL},
};

int auth_prefs_init(souk_plugin *self, const souk_host_api *api)
{
    if (AUTH_ROUTES_ADD(self, api, routes) != SOUK_OK)
        return SOUK_ERR;
    return api->command_add(self, "newsletter",
                            "queue a newsletter email to every subscribed account",
                            cmd_newsletter);
}
