/* demo.c -- a test plugin that exercises every part of the plugin ABI.
 *
 * Routes (JSON under /api/, pages elsewhere; see docs/plugins.md):
 *   GET    /demo/hello/:name          page demo_hello, listed: {"greeting": "Hello, <name>"}
 *                                     (?excited=1 appends "!")
 *   GET    /demo/notes                page demo_notes, listed: {"notes": [...], "count": n}
 *   POST   /demo/notes                form: saves, flashes "Note saved" and redirects
 *                                     (303) to /demo/notes; an empty text flashes an
 *                                     error and redirects the same way
 *   GET    /api/v1/demo/notes         the same list as JSON
 *   POST   /api/v1/demo/notes         {"text"} -> 201 {"note": {...}}; emits demo.note_added
 *   POST   /api/v1/demo/notes/fail    inserts a note, then fails with 422 (rolled back)
 *   DELETE /api/v1/demo/notes/:id     asks demo.note_deleting (409 when vetoed)
 *   GET    /api/v1/demo/me            signed-in only: {"user": {...}}
 *   GET    /demo/private              the same as a page (demo_hello): guests are sent
 *                                     to the sign-in page
 *   GET    /demo/signin               page demo_signin {"next", "hint"}: where guests
 *                                     are sent; a signed-in user gets page demo_hello
 *   GET|POST /api/v1/demo/echo        reflects the request; sets a header and a cookie
 *   GET    /api/v1/demo/crypto        exercises the crypto slots
 *   GET    /api/v1/demo/info          plugin name, settings and store
 *   POST   /api/v1/demo/script        {"script", "fn", "args"} -> {"result"}
 *   GET    /api/v1/demo/cached        {"token", "x", "locale", "cacheable"}: a fresh random
 *                                     token, declared reusable (res_cache, ABI 1.2) for
 *                                     ?ms= (60 s); page demo_cached at /demo/cached
 * Also: migrations (demo_notes, 2 versions), an SQL function demo_shout() on every
 * connection (db_on_open, ABI 1.1), service "demo" v1 (demo.h), identity
 * from the X-Demo-User header (tests only!) and the command `souk demo-count DIR`
 * (`--fail`: returns SOUK_ERR). */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEMO_NOTE_MAX 1000  /* characters in a note */
#define DEMO_TOKEN_BYTES 16 /* random token of the crypto route */
#define DEMO_CODE_DIGITS 6
#define DEMO_CACHE_MS 60000 /* default max age of the cached route */

/* Set in init and valid until fini: the host's table and our handle. */
static const souk_host_api *api;
static souk_plugin *self;

/* ------------------------------------------------------------------ service */

static int demo_note_count(souk_ctx *ctx)
{
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT count(*) FROM demo_notes");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int(st, 0);
}

static const demo_v1 demo_service = {demo_note_count};

/* ------------------------------------------------------------------- routes */

static int hello(souk_ctx *ctx)
{
    const char *name = api->req_param(ctx, "name");
    const char *excited = api->req_query(ctx, "excited");
    const char *mark = excited && strcmp(excited, "1") == 0 ? "!" : "";
    /* json_string refuses text that is not UTF-8: answer that instead of
     * dropping the key. */
    json_t *greeting = json_string(api->format(ctx, "Hello, %s%s", name, mark));
    if (!greeting)
        return api->res_error(ctx, 400, "invalid", "the name must be UTF-8 text", "name");
    json_t *view = api->view(ctx);
    json_object_set_new(view, "greeting", greeting);
    json_object_set_new(view, "name", json_string(name));
    return SOUK_OK;
}

static json_t *note_json(sqlite3_int64 id, const char *text, sqlite3_int64 created_at)
{
    return json_pack("{s:I, s:s, s:I}", "id", (json_int_t)id, "text", text, "created_at",
                     (json_int_t)created_at);
}

/* Every note, oldest first. */
static int notes_list(souk_ctx *ctx)
{
    sqlite3_stmt *st =
        api->db_prepare(ctx, "SELECT id, text, created_at FROM demo_notes ORDER BY id");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot read the notes", NULL);
    json_t *notes = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(notes, note_json(sqlite3_column_int64(st, 0),
                                               (const char *)sqlite3_column_text(st, 1),
                                               sqlite3_column_int64(st, 2)));
    json_t *view = api->view(ctx);
    json_object_set_new(view, "count", json_integer((json_int_t)json_array_size(notes)));
    json_object_set_new(view, "notes", notes);
    if (rc != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot read the notes", NULL);
    return SOUK_OK;
}

/* One handler for the API (JSON in, 201 + JSON out) and the page form
 * (url-encoded in, redirect + flash out). */
static int notes_create(souk_ctx *ctx)
{
    const char *text = json_string_value(json_object_get(api->req_input(ctx), "text"));
    if (!text || !*text) {
        if (!api->req_wants_json(ctx)) {
            /* A page form: back to the form with a message, not an error page. */
            api->res_flash(ctx, "error", "Write something first");
            return api->res_redirect(ctx, 303, "/demo/notes");
        }
        return api->res_error(ctx, 422, "invalid", "text is required", "text");
    }
    if (strlen(text) > DEMO_NOTE_MAX)
        return api->res_error(
            ctx, 422, "invalid",
            api->format(ctx, "text is longer than %d characters", DEMO_NOTE_MAX), "text");
    sqlite3_stmt *st =
        api->db_prepare(ctx, "INSERT INTO demo_notes(text, created_at) VALUES(?1, ?2)");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot save the note", NULL);
    int64_t now = api->now_ms(ctx);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot save the note", NULL);
    sqlite3_int64 id = sqlite3_last_insert_rowid(api->db(ctx));

    json_t *payload = json_pack("{s:I, s:s}", "id", (json_int_t)id, "text", text);
    int rc = api->event_emit(ctx, DEMO_EVENT_NOTE_ADDED, payload);
    json_decref(payload);
    if (rc != SOUK_OK) /* the whole request, note included, is rolled back */
        return api->res_error(ctx, 500, "event_failed", "a subscriber failed", NULL);

    if (!api->req_wants_json(ctx)) {
        api->res_flash(ctx, "success", "Note saved");
        return api->res_redirect(ctx, 303, "/demo/notes");
    }
    api->res_status(ctx, 201);
    json_object_set_new(api->view(ctx), "note", note_json(id, text, now));
    return SOUK_OK;
}

/* Writes, then fails: the core must roll the insert back. */
static int notes_fail(souk_ctx *ctx)
{
    sqlite3_stmt *st =
        api->db_prepare(ctx, "INSERT INTO demo_notes(text, created_at) VALUES('doomed', 0)");
    if (st)
        sqlite3_step(st);
    return api->res_error(ctx, 422, "rejected", "this note is always rejected", "text");
}

static int notes_delete(souk_ctx *ctx)
{
    const char *idtext = api->req_param(ctx, "id");
    char *end;
    long long id = strtoll(idtext, &end, 10);
    if (*end || id <= 0)
        return api->res_error(ctx, 404, "not_found", "no such note", "id");
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT text FROM demo_notes WHERE id=?1");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot read the note", NULL);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return api->res_error(ctx, 404, "not_found", "no such note", "id");
    const char *text = api->dup(ctx, (const char *)sqlite3_column_text(st, 0));

    json_t *payload = json_pack("{s:I, s:s}", "id", (json_int_t)id, "text", text);
    const char *reason = NULL, *by = NULL;
    int rc = api->event_ask(ctx, DEMO_EVENT_NOTE_DELETING, payload, &reason, &by);
    json_decref(payload);
    if (rc != SOUK_OK) {
        api->log(self, SOUK_LOG_INFO, "note %lld kept: %s (%s)", id, reason, by);
        return api->res_error(ctx, 409, "refused", reason, NULL);
    }
    st = api->db_prepare(ctx, "DELETE FROM demo_notes WHERE id=?1");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot delete the note", NULL);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot delete the note", NULL);
    json_object_set_new(api->view(ctx), "deleted", json_integer(id));
    return SOUK_OK;
}

static int me(souk_ctx *ctx)
{
    /* SOUK_ROUTE_AUTH: the core only calls us with a signed-in user. */
    json_object_set(api->view(ctx), "user", api->req_user(ctx));
    return SOUK_OK;
}

static int signin(souk_ctx *ctx)
{
    json_t *view = api->view(ctx);
    json_t *user = api->req_user(ctx);
    if (user) {
        /* Already signed in: greet instead, with another page template. */
        const char *name = json_string_value(json_object_get(user, "name"));
        json_object_set_new(view, "greeting",
                            json_string(api->format(ctx, "Hello, %s", name ? name : "")));
        return api->res_page(ctx, "demo_hello");
    }
    const char *next = api->req_query(ctx, "next");
    json_object_set_new(view, "next", next ? json_string(next) : json_null());
    json_object_set_new(view, "hint", json_string("send the X-Demo-User header"));
    return SOUK_OK;
}

/* GET /api/v1/demo/cached?x=&ms= and the page /demo/cached: a fresh random
 * token each time the handler runs, declared reusable for ms (default
 * DEMO_CACHE_MS) -- so the same token again means the response came from the
 * core's response cache.  "cacheable" is what res_cache answered. */
static int cached(souk_ctx *ctx)
{
    char token[2 * DEMO_TOKEN_BYTES + 1];
    api->random_hex(token, DEMO_TOKEN_BYTES);
    const char *ms_text = api->req_query(ctx, "ms");
    int64_t ms = ms_text ? strtoll(ms_text, NULL, 10) : DEMO_CACHE_MS;
    const char *x = api->req_query(ctx, "x");
    json_t *view = api->view(ctx);
    json_object_set_new(view, "token", json_string(token));
    json_object_set_new(view, "x", json_string(x ? x : ""));
    json_object_set_new(view, "locale", json_string(api->req_locale(ctx)));
    int rc = SOUK_API_HAS(api, res_cache) ? api->res_cache(ctx, ms) : SOUK_ERR;
    json_object_set_new(view, "cacheable", json_boolean(rc == SOUK_OK));
    return SOUK_OK;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int echo(souk_ctx *ctx)
{
    size_t body_len = 0;
    const char *body = api->req_body(ctx, &body_len);
    json_t *view = api->view(ctx);
    json_object_set_new(view, "method", str_or_null(api->req_method(ctx)));
    json_object_set_new(view, "path", str_or_null(api->req_path(ctx)));
    json_object_set_new(view, "q", str_or_null(api->req_query(ctx, "q")));
    json_object_set_new(view, "header", str_or_null(api->req_header(ctx, "X-Demo-Echo")));
    json_object_set_new(view, "cookie", str_or_null(api->req_cookie(ctx, "demo")));
    json_object_set_new(view, "ip", str_or_null(api->req_ip(ctx)));
    json_object_set_new(view, "request_id", str_or_null(api->req_id(ctx)));
    json_object_set_new(view, "locale", str_or_null(api->req_locale(ctx)));
    json_object_set_new(view, "wants_json", json_boolean(api->req_wants_json(ctx)));
    json_object_set_new(view, "body_len", json_integer(body ? (json_int_t)body_len : 0));
    json_object_set(view, "input", api->req_input(ctx));
    api->res_header(ctx, "X-Demo", "echo");
    souk_cookie opts = {.max_age = 3600, .http_only = 1, .same_site = "Lax", .path = "/"};
    api->res_cookie(ctx, "demo_seen", "1", &opts);
    return SOUK_OK;
}

static int crypto(souk_ctx *ctx)
{
    char *token = api->alloc(ctx, 2 * DEMO_TOKEN_BYTES + 1);
    api->random_hex(token, DEMO_TOKEN_BYTES);
    char code[DEMO_CODE_DIGITS + 1], h1[65], h2[65];
    api->random_code(code, DEMO_CODE_DIGITS);
    api->keyed_hash("demo_token", token, strlen(token), h1);
    api->keyed_hash("demo_token", token, strlen(token), h2);
    int same = api->equal_ct(h1, h2, 64);

    const char secret[] = "demo secret";
    char *sealed = api->seal(secret, strlen(secret));
    size_t len = 0;
    char *opened = sealed ? api->unseal(sealed, &len) : NULL;
    int roundtrip = opened && len == strlen(secret) && memcmp(opened, secret, len) == 0;
    api->free(opened);
    api->free(sealed);

    json_t *view = api->view(ctx);
    json_object_set_new(view, "token_length", json_integer((json_int_t)strlen(token)));
    json_object_set_new(view, "code", json_string(code));
    json_object_set_new(view, "hash", json_string(h1));
    json_object_set_new(view, "hash_stable", json_boolean(same));
    json_object_set_new(view, "seal_roundtrip", json_boolean(roundtrip));
    json_object_set_new(view, "die", json_integer(1 + api->random_uniform(6)));
    json_object_set_new(view, "now_ms", json_integer(api->now_ms(ctx)));
    return SOUK_OK;
}

/* demo_shout(text): TEXT in capitals and with "!" -- an SQL function registered on
 * every connection through db_on_open (ABI 1.1). */
static void demo_shout(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    const unsigned char *in = sqlite3_value_text(argv[0]);
    if (!in) {
        sqlite3_result_null(c);
        return;
    }
    size_t n = strlen((const char *)in);
    char *out = sqlite3_malloc64(n + 2);
    if (!out) {
        sqlite3_result_error_nomem(c);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 'a' + 'A') : (char)in[i];
    out[n] = '!';
    out[n + 1] = '\0';
    sqlite3_result_text(c, out, (int)n + 1, sqlite3_free);
}

static int demo_db_open(sqlite3 *db, void *udata)
{
    int rc = sqlite3_create_function(db, "demo_shout", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                     demo_shout, NULL, NULL);
    if (rc != SQLITE_OK) {
        api->log(self, SOUK_LOG_ERROR, "cannot register demo_shout: %s", sqlite3_errstr(rc));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static int info(souk_ctx *ctx)
{
    json_t *settings = api->config(self);
    const char *greeting = json_string_value(json_object_get(settings, "greeting"));
    json_t *view = api->view(ctx);
    json_object_set_new(view, "plugin", json_string(api->plugin_name(self)));
    json_object_set_new(view, "greeting", json_string(greeting ? greeting : "Hello"));
    json_object_set_new(view, "has_store_dir", json_boolean(api->store_dir(self) != NULL));
    json_object_set_new(view, "abi", json_integer(api->abi_version));
    json_object_set_new(view, "abi_minor", json_integer(api->abi_minor));
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT demo_shout('salaam')");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(view, "shout", json_string((const char *)sqlite3_column_text(st, 0)));
    return SOUK_OK;
}

static int script(souk_ctx *ctx)
{
    /* A slot newer than 1.0 would be tested like this before use. */
    if (!SOUK_API_HAS(api, script_call))
        return api->res_error(ctx, 501, "unsupported", "this souk cannot run scripts", NULL);
    json_t *in = api->req_input(ctx);
    const char *name = json_string_value(json_object_get(in, "script"));
    const char *fn = json_string_value(json_object_get(in, "fn"));
    json_t *args = json_object_get(in, "args");
    if (!name || !fn)
        return api->res_error(ctx, 422, "invalid", "script and fn are required",
                              name ? "fn" : "script");
    if (!json_is_array(args))
        args = NULL;
    json_t *empty = args ? NULL : json_array();
    json_t *result = NULL;
    const char *error = NULL;
    int rc = api->script_call(ctx, name, fn, args ? args : empty, &result, &error);
    json_decref(empty);
    if (rc != SOUK_OK)
        return api->res_error(ctx, 422, "script_failed", error ? error : "script failed", NULL);
    json_object_set_new(api->view(ctx), "result", result ? result : json_null());
    return SOUK_OK;
}

static const souk_route routes[] = {
    {"GET", "/demo/hello/:name", hello, "demo_hello", SOUK_ROUTE_LISTED, "Say hello"},
    {"GET", "/demo/notes", notes_list, "demo_notes", SOUK_ROUTE_LISTED, "Notes"},
    {"POST", "/demo/notes", notes_create, "demo_notes", 0, NULL},
    {"GET", "/api/v1/demo/notes", notes_list, NULL, 0, NULL},
    {"POST", "/api/v1/demo/notes", notes_create, NULL, 0, NULL},
    {"POST", "/api/v1/demo/notes/fail", notes_fail, NULL, 0, NULL},
    {"DELETE", "/api/v1/demo/notes/:id", notes_delete, NULL, 0, NULL},
    {"GET", "/api/v1/demo/me", me, NULL, SOUK_ROUTE_AUTH, NULL},
    {"GET", "/demo/private", me, "demo_hello", SOUK_ROUTE_AUTH, NULL},
    {"GET", "/demo/signin", signin, "demo_signin", 0, NULL},
    {"GET", "/api/v1/demo/echo", echo, NULL, 0, NULL},
    {"GET", "/api/v1/demo/cached", cached, NULL, 0, NULL},
    {"GET", "/demo/cached", cached, "demo_cached", 0, NULL},
    {"POST", "/api/v1/demo/echo", echo, NULL, 0, NULL},
    {"GET", "/api/v1/demo/crypto", crypto, NULL, 0, NULL},
    {"GET", "/api/v1/demo/info", info, NULL, 0, NULL},
    {"POST", "/api/v1/demo/script", script, NULL, 0, NULL},
};

/* ---------------------------------------------------------------- the rest */

static const souk_migration migrations[] = {
    {1, "create notes", "CREATE TABLE demo_notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL)"},
    {2, "add created_at",
     "ALTER TABLE demo_notes ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0"},
};

/* For tests only: whoever sends X-Demo-User is signed in as that user. */
static json_t *identity(souk_ctx *ctx)
{
    const char *user = api->req_header(ctx, "X-Demo-User");
    if (!user || !*user)
        return NULL;
    return json_pack("{s:s, s:s}", "id", user, "name", user); /* NULL if not UTF-8 */
}

static int count_command(souk_ctx *ctx, int argc, char **argv)
{
    /* --fail: fail as a careless plugin does, with SOUK_ERR instead of an exit
     * code (the host must still exit 1). */
    if (argc == 2 && strcmp(argv[1], "--fail") == 0)
        return SOUK_ERR;
    if (argc != 1) {
        fprintf(stderr, "usage: souk demo-count DIR\n");
        return 2;
    }
    int n = demo_note_count(ctx);
    if (n < 0) {
        fprintf(stderr, "demo-count: cannot read the notes\n");
        return 1;
    }
    printf("%d\n", n);
    return 0;
}

static int demo_init(souk_plugin *plugin, const souk_host_api *host)
{
    api = host;
    self = plugin;
    /* settings.demo.init_delay_ms: a slow start, for tests of signals that arrive
     * while workers are still starting. */
    json_t *delay = json_object_get(api->config(self), "init_delay_ms");
    if (json_is_integer(delay) && json_integer_value(delay) > 0) {
        struct timespec ts = {json_integer_value(delay) / 1000,
                              (json_integer_value(delay) % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++)
        if (api->migration_add(self, &migrations[i]) != SOUK_OK)
            return SOUK_ERR;
    if (api->service_register(self, DEMO_SERVICE, DEMO_SERVICE_VERSION, &demo_service) != SOUK_OK ||
        api->identity_set(self, identity, "/demo/signin") != SOUK_OK ||
        (SOUK_API_HAS(api, db_on_open) && api->db_on_open(self, demo_db_open, NULL) != SOUK_OK) ||
        api->command_add(self, "demo-count", "print the number of demo notes", count_command) !=
            SOUK_OK)
        return SOUK_ERR;
    api->log(self, SOUK_LOG_DEBUG, "demo plugin ready (host ABI %u.%u)", (unsigned)api->abi_version,
             (unsigned)api->abi_minor);
    return SOUK_OK;
}

static void demo_fini(souk_plugin *plugin)
{
    api = NULL;
    self = NULL;
}

/* What SOUK_PLUGIN("demo", "1.0.0", NULL, demo_init, demo_fini) declares: the
 * descriptor, exported under the name SOUK_PLUGIN_SYMBOL. */
SOUK_PLUGIN("demo", "1.0.0", NULL, demo_init, demo_fini);
