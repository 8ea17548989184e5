/* notifyprobe.c -- a test plugin that queues messages through the notify.v1
 * service exactly as another plugin would (notify.h only), so that black-box
 * tests can drive the outbox over HTTP.
 *
 *   POST /api/v1/notifyprobe/send
 *        {"channel", "to", "message", "locale", "data", "unsubscribe_url",
 *         "dedupe_key", "fail_after", "via"}
 *        200 {"id"}: queued in the request's transaction;
 *        422 {"error": {"code": "notify", "message"}} when notify refused;
 *        with "fail_after": true the message is queued, then the request
 *        answers 422 "failed_after", so its transaction (and the message) is
 *        rolled back;
 *        with "via": "job" the message is queued after the request, in a job of
 *        its own (the way a background sweep queues), and the answer is
 *        {"id": null, "via": "job"}.
 *   GET  /api/v1/notifyprobe/ping   {"ok": true}: a request that touches nothing */
#include "notify/notify.h"

#include <stdlib.h>
#include <string.h>

static const souk_host_api *api;
static souk_plugin *probe_self;
static const notify_v1 *notify;

static const char *str(json_t *in, const char *key)
{
    return json_string_value(json_object_get(in, key));
}

/* Queue the message described by in (the request's input or a copy). */
static int probe_queue(souk_ctx *ctx, json_t *in, int64_t *id, const char **error)
{
    notify_message m = {
        .channel = str(in, "channel"),
        .to = str(in, "to"),
        .message = str(in, "message"),
        .locale = str(in, "locale"),
        .data = json_object_get(in, "data"),
        .unsubscribe_url = str(in, "unsubscribe_url"),
        .dedupe_key = str(in, "dedupe_key"),
    };
    return notify->queue(ctx, &m, id, error);
}

static int job_queue(souk_ctx *ctx, void *udata)
{
    int64_t id = 0;
    const char *error = NULL;
    if (probe_queue(ctx, udata, &id, &error) != SOUK_OK) {
        api->log(probe_self, SOUK_LOG_ERROR, "queue in a job: %s", error);
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static void after_request(souk_ctx *ctx, int committed, void *udata)
{
    json_t *copy = udata;
    if (committed)
        api->job_run(probe_self, 1, job_queue, copy);
    json_decref(copy);
}

static int probe_send(souk_ctx *ctx)
{
    json_t *in = api->req_input(ctx);
    if (json_is_true(json_object_get(in, "fail_after")) || !str(in, "via")) {
        int64_t id = 0;
        const char *error = NULL;
        if (probe_queue(ctx, in, &id, &error) != SOUK_OK)
            return api->res_error(ctx, 422, "notify", error ? error : "refused", NULL);
        if (json_is_true(json_object_get(in, "fail_after")))
            return api->res_error(ctx, 422, "failed_after", "queued, then failed", NULL);
        json_object_set_new(api->view(ctx), "id", json_integer(id));
        return SOUK_OK;
    }
    if (strcmp(str(in, "via"), "job") != 0)
        return api->res_error(ctx, 422, "invalid", "via must be \"job\"", "via");
    json_t *copy = json_deep_copy(in);
    if (api->on_done(ctx, after_request, copy) != SOUK_OK) {
        json_decref(copy);
        return api->res_error(ctx, 500, "on_done", "on_done refused", NULL);
    }
    json_object_set_new(api->view(ctx), "id", json_null());
    json_object_set_new(api->view(ctx), "via", json_string("job"));
    return SOUK_OK;
}

static int probe_ping(souk_ctx *ctx)
{
    json_object_set_new(api->view(ctx), "ok", json_true());
    return SOUK_OK;
}

static const souk_route routes[] = {
    {"POST", "/api/v1/notifyprobe/send", probe_send, NULL, 0, NULL},
    {"GET", "/api/v1/notifyprobe/ping", probe_ping, NULL, 0, NULL},
};

static int notifyprobe_init(souk_plugin *self, const souk_host_api *host)
{
    api = host;
    probe_self = self;
    if (!SOUK_API_HAS(api, job_run)) {
        api->log(self, SOUK_LOG_ERROR, "needs souk plugin ABI 1.3");
        return SOUK_ERR;
    }
    notify = api->service_get(self, NOTIFY_SERVICE, NOTIFY_SERVICE_VERSION);
    if (!notify)
        return SOUK_ERR; /* service_get logged why */
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    return SOUK_OK;
}

static const char *const depends[] = {"notify", NULL};

SOUK_PLUGIN("notifyprobe", "1.0.0", depends, notifyprobe_init, NULL);
