/* plugin.h -- the plugin loader and registry (host side of souk.h).
 *
 * souk_plugins_load() resolves each configured name to NAME.so along the plugin
 * path, dlopen()s it (RTLD_NOW|RTLD_LOCAL), checks the descriptor (symbol present,
 * ABI version, signature), orders the plugins so that every dependency comes first
 * (a missing dependency or a cycle is an error) and calls init() in that order with
 * the host API table.  Any failure stops loading with one line naming the plugin and
 * the reason:  plugin 'orders': depends on 'wallet', which is not configured */
#ifndef SOUK_PLUGIN_H
#define SOUK_PLUGIN_H

#include "config.h"
#include "store.h"

#include <souk/souk.h>

typedef struct souk_registry souk_registry;

typedef struct souk_route_entry {
    souk_plugin *plugin;
    souk_route route; /* copy of what the plugin registered */
} souk_route_entry;

typedef struct souk_command_entry {
    souk_plugin *plugin;
    const char *name, *summary;
    souk_command_fn fn;
} souk_command_entry;

int souk_plugins_load(souk_registry **out, const souk_config *cfg, const souk_host_api *api,
                      char *err, size_t errlen);
/* The same, with the owner (see souk_plugin_owner) known to plugins from init()
 * on. */
int souk_plugins_load_owned(souk_registry **out, const souk_config *cfg,
                            const souk_host_api *api, void *owner, char *err, size_t errlen);
/* fini() in reverse order, then dlclose. */
void souk_plugins_unload(souk_registry *r);

/* Loaded plugins in load (dependency) order. */
int souk_registry_count(const souk_registry *r);
souk_plugin *souk_registry_plugin(const souk_registry *r, int i);
const char *souk_plugin_get_name(const souk_plugin *p);
const char *souk_plugin_get_version(const souk_plugin *p);
const char *souk_plugin_get_path(const souk_plugin *p);

const souk_route_entry *souk_registry_routes(const souk_registry *r, int *n);
const souk_command_entry *souk_registry_commands(const souk_registry *r, int *n);
/* Every plugin's migrations, plugins in load order, versions ascending (arrays owned
 * by the registry). */
const souk_store_migration *souk_registry_migrations(const souk_registry *r, size_t *n);
souk_identity_fn souk_registry_identity(const souk_registry *r, const char **signin_path);

/* Call the subscribers of event.  ask = vetoable: stops at the first refusal and
 * returns SOUK_ERR with *reason (the refusal text, see souk_ctx_refusal in ctx.h)
 * and *by (plugin name).  Plain: calls every subscriber; SOUK_ERR if any failed. */
int souk_registry_emit(const souk_registry *r, souk_ctx *ctx, const char *event,
                       json_t *payload, int ask, const char **reason, const char **by);

/* The registration slots of the host API (souk.h), implemented here.  They refuse
 * (SOUK_ERR and a log line) when called outside init(). */
int souk_plugin_route_add(souk_plugin *self, const souk_route *route);
int souk_plugin_migration_add(souk_plugin *self, const souk_migration *m);
int souk_plugin_event_on(souk_plugin *self, const char *event, souk_event_fn fn, void *udata);
int souk_plugin_service_register(souk_plugin *self, const char *name, int version,
                                 const void *vtable);
const void *souk_plugin_service_get(souk_plugin *self, const char *name, int version);
int souk_plugin_identity_set(souk_plugin *self, souk_identity_fn fn, const char *signin_path);
int souk_plugin_command_add(souk_plugin *self, const char *name, const char *summary,
                            souk_command_fn fn);
int souk_plugin_db_on_open(souk_plugin *self, int (*fn)(sqlite3 *db, void *udata), void *udata);

int souk_plugin_worker_hooks(souk_plugin *self,
                             int (*start)(souk_plugin *self, void *loop, void *udata),
                             void (*stop)(souk_plugin *self, void *loop, void *udata),
                             void *udata);
/* Start every plugin's background work on a worker's loop, in load order: -1 with
 * "plugin 'x': ..." in err when one fails (those started are stopped by
 * souk_registry_worker_stop).  Stop runs the stop hooks of those started, in
 * reverse order, once. */
int souk_registry_worker_start(souk_registry *r, void *loop, char *err, size_t errlen);
void souk_registry_worker_stop(souk_registry *r, void *loop);
/* The app that owns the registry (set by the app after loading; opaque here), as
 * seen from one of its plugins: how api->job_run finds the store. */
void souk_registry_set_owner(souk_registry *r, void *owner);
void *souk_plugin_owner(const souk_plugin *p);

/* Run every plugin's db_on_open hook on db, in load order.  -1 with
 * "plugin 'x': database set-up failed" in err when one fails. */
int souk_registry_db_open(const souk_registry *r, sqlite3 *db, char *err, size_t errlen);
json_t *souk_plugin_config(souk_plugin *self);
const char *souk_plugin_name(souk_plugin *self);
const char *souk_plugin_store_dir(souk_plugin *self);
void souk_plugin_log(souk_plugin *self, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
