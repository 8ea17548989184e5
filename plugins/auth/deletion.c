/* deletion.c -- deleting an account: the shopper gives a reason and confirms with
 * a code sent to the phone; every plugin may refuse (user.deleting); on success
 * the personal data are erased, the account row stays as a tombstone, and
 * user.deleted lets each plugin erase or anonymise its own rows.
 *
 *   GET  /account/delete [?challenge=ID]   {"account", "challenge" (or absent)}
 *   POST /account/delete (form), /api/v1/account/delete {"reason"}
 *        {"challenge"}: a code by SMS
 *   POST /account/delete/confirm (form), /api/v1/account/delete/confirm
 *        {"challenge", "code"}  ->  {"deleted": true}; the session cookie is
 *        cleared and every session of the account ends
 *   A refusal: the API answers 409 {"error": {"code": "deletion_refused",
 *   "message": the plugin's reason, "field": null, "plugin": its name}}; the page
 *   account_delete is shown again (409) with {"refused": {"reason", "plugin"}}.
 *
 * user.deleting is asked twice: when the shopper starts (so that nobody waits
 * for a code that cannot help) and again when the code is confirmed (things may
 * have changed in between), inside the deletion's own transaction. */
#include "account_internal.h"
#include "signin_internal.h"

static int delete_fill(souk_ctx *ctx, int64_t id)
{
    const souk_host_api *api = auth_api;
    account_row row;
    json_t *acct = account_view_row(ctx, id, &row);
    if (!acct)
        return SOUK_ERR;
    json_object_set_new(acct, "phone_masked",
                        json_string(row.phone ? auth_mask_phone(ctx, row.phone) : ""));
    json_t *view = api->view(ctx);
    auth_challenge c;
    if (account_challenge_mine(ctx, api->req_query(ctx, "challenge"), AUTH_P_DELETE, id, &c, NULL,
                               NULL) == SOUK_OK)
        json_object_set_new(view, "challenge", account_challenge_json(ctx, &c));
    return SOUK_OK;
}

static int h_delete_show(souk_ctx *ctx) { return account_show(ctx, delete_fill); }

/* Ask every plugin.  SOUK_OK to go on; otherwise the refusal is answered (see
 * the top of the file) and SOUK_ERR returned. */
static int ask_plugins(souk_ctx *ctx, int64_t id, const char *reason)
{
    const souk_host_api *api = auth_api;
    json_t *payload = json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", reason);
    const char *why = NULL, *by = NULL;
    int rc = api->event_ask(ctx, AUTH_EVENT_DELETING, payload, &why, &by);
    json_decref(payload);
    if (rc == SOUK_OK)
        return SOUK_OK;
    /* Copied: the reason is borrowed from the refusing round. */
    why = api->dup(ctx, why ? why : "another part of the shop refused");
    by = api->dup(ctx, by ? by : "");
    api->log(auth_self, SOUK_LOG_INFO, "account %lld: deletion refused by %s: %s",
             (long long)id, by, why);
    if (api->req_wants_json(ctx)) {
        api->res_error(ctx, 409, "deletion_refused", why, NULL);
        json_object_set_new(json_object_get(api->view(ctx), "error"), "plugin", json_string(by));
        return SOUK_ERR;
    }
    /* The delete page itself, with the reason where the shopper looks (the
     * generic error page would lose the way back). */
    delete_fill(ctx, id);
    api->res_status(ctx, 409);
    json_object_set_new(api->view(ctx), "refused",
                        json_pack("{s:s, s:s}", "reason", why, "plugin", by));
    return SOUK_ERR;
}

/* The reason: trimmed, 1..ACCOUNT_REASON_MAX characters.  Arena or NULL. */
static const char *clean_reason(souk_ctx *ctx, const char *in, int *too_long)
{
    const char *reason = auth_trimmed(ctx, in);
    *too_long = reason && auth_utf8_chars(reason) > ACCOUNT_REASON_MAX;
    return *too_long ? NULL : reason;
}

static int h_delete_start(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    int too_long = 0;
    const char *reason = clean_reason(
        ctx, json_string_value(json_object_get(api->req_input(ctx), "reason")), &too_long);
    if (!reason)
        return account_error(ctx, 422, too_long ? "reason_too_long" : "reason_required",
                             "reason",
                             too_long ? "the reason is too long (at most 500 characters)"
                                      : "tell us why you are leaving",
                             delete_fill);
    if (ask_plugins(ctx, id, reason) != SOUK_OK)
        return SOUK_ERR;
    if (!row.phone)
        return api->res_error(ctx, 409, "no_phone", "the account has no phone for the code",
                              NULL);
    json_t *data = json_pack("{s:s}", "reason", reason);
    auth_issue issue = {AUTH_P_DELETE, NOTIFY_SMS, row.phone, id, data, NULL, 1};
    auth_challenge c;
    auth_fail f;
    int rc = auth_challenge_issue(ctx, &issue, &c, &f);
    json_decref(data);
    if (rc != SOUK_OK)
        return account_fail(ctx, &f, delete_fill);
    json_object_set_new(api->view(ctx), "challenge", account_challenge_json(ctx, &c));
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    return account_done(ctx, api->format(ctx, "/account/delete?challenge=%s#delete-code",
                                         c.public_id),
                        "code_sent_delete", "We sent a code to your phone");
}

/* Erase what identifies the shopper; the row stays (deleted_at) so that other
 * plugins' rows keep a valid reference. */
static int erase(souk_ctx *ctx, const account_row *row, const char *reason)
{
    const souk_host_api *api = auth_api;
    sqlite3_stmt *st = api->db_prepare(
        ctx, "DELETE FROM auth_challenge WHERE account_id = ?1 OR destination = ?2"
             " OR destination = ?3");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, row->id);
    sqlite3_bind_text(st, 2, row->phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->email, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE ||
        auth_exec_id(ctx, "DELETE FROM auth_pref WHERE account_id = ?1", row->id) != SOUK_OK ||
        auth_exec_id(ctx, "DELETE FROM auth_phone_change WHERE account_id = ?1", row->id) !=
            SOUK_OK)
        return SOUK_ERR;
    st = api->db_prepare(ctx, "UPDATE auth_account SET phone = NULL, email = NULL, name = NULL,"
                              " birth_date = NULL, deleted_at = ?2, deletion_reason = ?3"
                              " WHERE id = ?1");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, row->id);
    sqlite3_bind_int64(st, 2, api->now_ms(ctx));
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int h_delete_confirm(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    json_t *in = api->req_input(ctx);
    const char *cid = json_string_value(json_object_get(in, "challenge"));
    const char *code = json_string_value(json_object_get(in, "code"));
    auth_challenge c;
    auth_fail f;
    json_t *data;
    if (account_challenge_mine(ctx, cid, AUTH_P_DELETE, id, &c, &data, &f) != SOUK_OK)
        return account_fail(ctx, &f, delete_fill);
    const char *reason = api->dup(ctx, json_string_value(json_object_get(data, "reason"))
                                           ? json_string_value(json_object_get(data, "reason"))
                                           : "");
    json_decref(data);
    if (!code || !*code)
        return account_error(ctx, 422, "code_required", "code", "enter the code from the SMS",
                             delete_fill);
    if (auth_challenge_verify(ctx, cid, AUTH_P_DELETE, code, 0, &c, &f) != SOUK_OK)
        return account_fail(ctx, &f, delete_fill);
    json_decref(c.data);
    if (ask_plugins(ctx, id, reason) != SOUK_OK)
        return SOUK_ERR;

    /* The farewell goes first, while the addresses are still known. */
    json_t *msg = json_pack("{s:{s:o}}", "customer", "name",
                            row.name ? json_string(row.name) : json_null());
    int rc = account_notice_both(ctx, &row, ACCOUNT_MSG_DELETED, msg);
    json_decref(msg);
    if (rc != SOUK_OK)
        return api->res_error(ctx, 500, "notice_failed", "the account could not be deleted now",
                              NULL);
    /* This request's session (and its cookie), then every other one. */
    auth_session_end(ctx);
    auth_session_end_all(ctx, id, 0);
    if (erase(ctx, &row, reason) != SOUK_OK)
        return api->res_error(ctx, 500, "db", "the account could not be deleted", NULL);
    json_t *payload = json_pack("{s:I}", "id", (json_int_t)id);
    rc = api->event_emit(ctx, AUTH_EVENT_DELETED, payload);
    json_decref(payload);
    if (rc != SOUK_OK)
        return api->res_error(ctx, 500, "event_failed",
                              "the account could not be deleted: a part of the shop failed to "
                              "erase its data",
                              NULL);
    api->log(auth_self, SOUK_LOG_INFO, "account %lld deleted", (long long)id);
    json_object_set_new(api->view(ctx), "deleted", json_true());
    return account_done(ctx, "/", "account_deleted", "Your account has been deleted");
}

static const souk_route routes[] = {
    {"GET", "/account/delete", h_delete_show, "account_delete", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/delete", h_delete_start, "account_delete", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/delete/confirm", h_delete_confirm, "account_delete", SOUK_ROUTE_AUTH,
     NULL},
    {"POST", "/api/v1/account/delete", h_delete_start, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/delete/confirm", h_delete_confirm, NULL, SOUK_ROUTE_AUTH, NULL},
};

int auth_deletion_init(souk_plugin *self, const souk_host_api *api)
{
    return AUTH_ROUTES_ADD(self, api, routes);
}
