/* plugin.c -- the plugin loader and registry; see plugin.h and souk.h.
 *
 * Loading happens in three passes so that every error is found before any
 * plugin code runs: (1) resolve, dlopen and check each configured plugin's
 * descriptor, (2) check dependencies and order the plugins (dependencies first,
 * otherwise configured order), (3) call init() in that order.  Any failure
 * unloads what was loaded and returns one line "plugin '<name>': <reason>".
 *
 * Registrations are accepted only from the plugin whose init() is running
 * (registry->initing); a refused registration during init fails the load even
 * when init() ignores the return value, because a half-registered plugin would
 * fail later in a far less obvious way.  Everything a plugin registers keeps
 * pointers to the plugin's own strings (borrowed for as long as the .so is
 * mapped, i.e. the life of the registry); route structs are copied. */
#include "plugin.h"

#include "ctx.h"
#include "log.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOUK_PLUGIN_NAME_MAX 64 /* [a-z][a-z0-9_]* up to this length */
#define SOUK_PLUGIN_ERR_MAX 512 /* one error line */
#define SOUK_REGISTRY_INITIAL 8 /* first capacity of each registry array */

typedef struct event_entry {
    const char *event;
    souk_event_fn fn;
    void *udata;
    souk_plugin *plugin;
} event_entry;

typedef struct service_entry {
    const char *name;
    int version;
    const void *vtable;
    souk_plugin *plugin;
} service_entry;

struct souk_plugin {
    souk_registry *reg;
    char *name;   /* the configured name (owned) */
    char *path;   /* where the .so was found (owned) */
    void *handle; /* dlopen handle */
    const souk_plugin_desc *desc;
    json_t *settings;                  /* settings[name] (a reference) or NULL */
    int mark;                          /* ordering: 0 unvisited, 1 on the path, 2 done */
    int inited;                        /* init() returned SOUK_OK: fini() is owed */
    size_t first_migration;            /* index of its first migration in the registry */
    char reg_err[SOUK_PLUGIN_ERR_MAX]; /* first refused registration during init */
};

typedef struct worker_hook_entry {
    souk_plugin *plugin;
    int (*start)(souk_plugin *self, void *loop, void *udata);
    void (*stop)(souk_plugin *self, void *loop, void *udata);
    void *udata;
    int started; /* start() succeeded: stop() is owed */
} worker_hook_entry;

typedef struct db_hook_entry {
    souk_plugin *plugin;
    int (*fn)(sqlite3 *db, void *udata);
    void *udata;
} db_hook_entry;

struct souk_registry {
    souk_plugin **configured; /* in souk.lua order */
    int n_configured;
    souk_plugin **order; /* load order: dependencies first */
    int n_order;
    souk_plugin *initing; /* whose init() is running, else NULL */
    char *store_dir;
    json_t *empty; /* settings of a plugin that has none */

    souk_route_entry *routes;
    size_t n_routes, cap_routes;
    souk_command_entry *commands;
    size_t n_commands, cap_commands;
    souk_store_migration *migrations;
    size_t n_migrations, cap_migrations;
    event_entry *events;
    size_t n_events, cap_events;
    service_entry *services;
    size_t n_services, cap_services;

    souk_identity_fn identity;
    const char *signin_path;
    souk_plugin *identity_plugin;

    db_hook_entry *db_hooks;
    size_t n_db_hooks, cap_db_hooks;
    worker_hook_entry *worker_hooks;
    size_t n_worker_hooks, cap_worker_hooks;

    void *owner; /* the app that loaded the plugins (souk_registry_set_owner) */
};

/* Make room for one more element in a registry array: 0, or -1 (out of memory,
 * the array unchanged). */
#define REGISTRY_GROW(arr, n, cap)                                                                 \
    __extension__({                                                                                \
        int rc_ = 0;                                                                               \
        if ((n) >= (cap)) {                                                                        \
            size_t ncap_ = (cap) ? (cap)*2 : SOUK_REGISTRY_INITIAL;                                \
            void *p_ = realloc((arr), ncap_ * sizeof *(arr));                                      \
            if (p_) {                                                                              \
                (arr) = p_;                                                                        \
                (cap) = ncap_;                                                                     \
            } else {                                                                               \
                rc_ = -1;                                                                          \
            }                                                                                      \
        }                                                                                          \
        rc_;                                                                                       \
    })

/* Keep an error message on one line whatever dlerror() or a plugin put in it. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static int valid_name(const char *s)
{
    size_t n = 0;
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return n <= SOUK_PLUGIN_NAME_MAX;
}

/* ----------------------------------------------------------- registration */

/* Refuse a registration: log it and remember the first one as the load error. */
static int reg_refuse(souk_plugin *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reg_refuse(souk_plugin *self, const char *fmt, ...)
{
    char msg[SOUK_PLUGIN_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    souk_log_tag(SOUK_LOG_ERROR, self->name, "plugin '%s': %s", self->name, msg);
    if (self->reg->initing == self && !self->reg_err[0]) {
        size_t k =
            (size_t)snprintf(self->reg_err, sizeof self->reg_err, "plugin '%s': ", self->name);
        if (k < sizeof self->reg_err)
            memccpy(self->reg_err + k, msg, '\0', sizeof self->reg_err - k);
        self->reg_err[sizeof self->reg_err - 1] = '\0';
        one_line(self->reg_err);
    }
    return SOUK_ERR;
}

/* Whether self may register now (inside its own init). */
static int reg_open(souk_plugin *self, const char *what)
{
    if (!self) {
        souk_log(SOUK_LOG_ERROR, "%s: called without a plugin handle", what);
        return 0;
    }
    if (self->reg->initing != self) {
        reg_refuse(self, "%s refused: registration is only allowed inside init()", what);
        return 0;
    }
    return 1;
}

/* Same method and same pattern with parameter names ignored ("/a/:id" and
 * "/a/:slug" are one route): the router could never choose between them. */
static int same_pattern(const char *a, const char *b)
{
    int seg_start = 0;
    while (*a && *b) {
        if (seg_start && (*a == ':' || *a == '*') && *a == *b) {
            while (*a && *a != '/')
                a++;
            while (*b && *b != '/')
                b++;
            seg_start = 0;
            continue;
        }
        if (*a != *b)
            return 0;
        seg_start = *a == '/';
        a++;
        b++;
    }
    return *a == *b;
}

static int known_method(const char *m)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    for (int i = 0; methods[i]; i++)
        if (strcmp(m, methods[i]) == 0)
            return 1;
    return 0;
}

int souk_plugin_route_add(souk_plugin *self, const souk_route *route)
{
    if (!reg_open(self, "route_add"))
        return SOUK_ERR;
    if (!route || !route->method || !route->pattern || !route->handler)
        return reg_refuse(self, "route_add: a route needs a method, a pattern and a handler");
    const char *m = route->method, *pat = route->pattern;
    if (!known_method(m))
        return reg_refuse(self, "route %s %s: unknown method (GET, POST, PUT, PATCH, DELETE)", m,
                          pat);
    if (pat[0] != '/')
        return reg_refuse(self, "route %s %s: the pattern must start with '/'", m, pat);
    if (route->flags & ~(SOUK_ROUTE_AUTH | SOUK_ROUTE_LISTED | SOUK_ROUTE_NO_CSRF))
        return reg_refuse(self, "route %s %s: unknown flags 0x%x", m, pat, (unsigned)route->flags);
    souk_registry *r = self->reg;
    for (size_t i = 0; i < r->n_routes; i++) {
        const souk_route *o = &r->routes[i].route;
        if (strcmp(o->method, m) == 0 && same_pattern(o->pattern, pat))
            return reg_refuse(self, "route %s %s conflicts with %s %s of plugin '%s'", m, pat,
                              o->method, o->pattern, r->routes[i].plugin->name);
    }
    if (REGISTRY_GROW(r->routes, r->n_routes, r->cap_routes) != 0)
        return reg_refuse(self, "route %s %s: out of memory", m, pat);
    r->routes[r->n_routes].plugin = self;
    r->routes[r->n_routes].route = *route;
    r->n_routes++;
    return SOUK_OK;
}

int souk_plugin_migration_add(souk_plugin *self, const souk_migration *m)
{
    if (!reg_open(self, "migration_add"))
        return SOUK_ERR;
    if (!m || !m->sql || m->version < 1)
        return reg_refuse(self, "migration_add: a migration needs a version >= 1 and SQL");
    souk_registry *r = self->reg;
    for (size_t i = self->first_migration; i < r->n_migrations; i++)
        if (r->migrations[i].version == m->version)
            return reg_refuse(self, "migration %d registered twice", m->version);
    if (REGISTRY_GROW(r->migrations, r->n_migrations, r->cap_migrations) != 0)
        return reg_refuse(self, "migration %d: out of memory", m->version);
    r->migrations[r->n_migrations++] = (souk_store_migration){
        .plugin = self->name, .version = m->version, .name = m->name ? m->name : "", .sql = m->sql};
    return SOUK_OK;
}

int souk_plugin_event_on(souk_plugin *self, const char *event, souk_event_fn fn, void *udata)
{
    if (!reg_open(self, "event_on"))
        return SOUK_ERR;
    if (!event || !*event || !fn)
        return reg_refuse(self, "event_on: needs an event name and a handler");
    souk_registry *r = self->reg;
    if (REGISTRY_GROW(r->events, r->n_events, r->cap_events) != 0)
        return reg_refuse(self, "event '%s': out of memory", event);
    r->events[r->n_events++] = (event_entry){event, fn, udata, self};
    return SOUK_OK;
}

int souk_plugin_service_register(souk_plugin *self, const char *name, int version,
                                 const void *vtable)
{
    if (!reg_open(self, "service_register"))
        return SOUK_ERR;
    if (!name || !*name || version < 1 || !vtable)
        return reg_refuse(self, "service_register: needs a name, a version >= 1 and a table");
    souk_registry *r = self->reg;
    for (size_t i = 0; i < r->n_services; i++)
        if (r->services[i].version == version && strcmp(r->services[i].name, name) == 0)
            return reg_refuse(self, "service '%s' v%d is already registered by plugin '%s'", name,
                              version, r->services[i].plugin->name);
    if (REGISTRY_GROW(r->services, r->n_services, r->cap_services) != 0)
        return reg_refuse(self, "service '%s': out of memory", name);
    r->services[r->n_services++] = (service_entry){name, version, vtable, self};
    return SOUK_OK;
}

static int declares_dependency(const souk_plugin *self, const char *name)
{
    for (const char *const *d = self->desc->depends; d && *d; d++)
        if (strcmp(*d, name) == 0)
            return 1;
    return 0;
}

/* A lookup, not a registration: allowed at any time (init is the usual place,
 * keeping the pointer for later). */
const void *souk_plugin_service_get(souk_plugin *self, const char *name, int version)
{
    if (!self || !name) {
        souk_log(SOUK_LOG_ERROR, "service_get: called without a plugin handle or a name");
        return NULL;
    }
    souk_registry *r = self->reg;
    for (size_t i = 0; i < r->n_services; i++) {
        const service_entry *s = &r->services[i];
        if (s->version != version || strcmp(s->name, name) != 0)
            continue;
        if (s->plugin != self && !declares_dependency(self, s->plugin->name)) {
            souk_log_tag(SOUK_LOG_ERROR, self->name,
                         "plugin '%s': service '%s' v%d belongs to plugin '%s', which is "
                         "not a declared dependency",
                         self->name, name, version, s->plugin->name);
            return NULL;
        }
        return s->vtable;
    }
    souk_log_tag(SOUK_LOG_ERROR, self->name, "plugin '%s': service '%s' v%d not found", self->name,
                 name, version);
    return NULL;
}

int souk_plugin_identity_set(souk_plugin *self, souk_identity_fn fn, const char *signin_path)
{
    if (!reg_open(self, "identity_set"))
        return SOUK_ERR;
    if (!fn)
        return reg_refuse(self, "identity_set: needs a resolver function");
    souk_registry *r = self->reg;
    if (r->identity)
        return reg_refuse(self, "the identity resolver is already set by plugin '%s'",
                          r->identity_plugin->name);
    r->identity = fn;
    r->signin_path = signin_path;
    r->identity_plugin = self;
    return SOUK_OK;
}

static int valid_command(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

int souk_plugin_command_add(souk_plugin *self, const char *name, const char *summary,
                            souk_command_fn fn)
{
    if (!reg_open(self, "command_add"))
        return SOUK_ERR;
    if (!valid_command(name) || !fn)
        return reg_refuse(self, "command_add: needs a name ([a-z][a-z0-9_-]*) and a function");
    souk_registry *r = self->reg;
    for (size_t i = 0; i < r->n_commands; i++)
        if (strcmp(r->commands[i].name, name) == 0)
            return reg_refuse(self, "command '%s' is already added by plugin '%s'", name,
                              r->commands[i].plugin->name);
    if (REGISTRY_GROW(r->commands, r->n_commands, r->cap_commands) != 0)
        return reg_refuse(self, "command '%s': out of memory", name);
    r->commands[r->n_commands++] = (souk_command_entry){self, name, summary ? summary : "", fn};
    return SOUK_OK;
}

int souk_plugin_db_on_open(souk_plugin *self, int (*fn)(sqlite3 *db, void *udata), void *udata)
{
    if (!reg_open(self, "db_on_open"))
        return SOUK_ERR;
    if (!fn)
        return reg_refuse(self, "db_on_open: needs a function");
    souk_registry *r = self->reg;
    if (REGISTRY_GROW(r->db_hooks, r->n_db_hooks, r->cap_db_hooks) != 0)
        return reg_refuse(self, "db_on_open: out of memory");
    r->db_hooks[r->n_db_hooks++] = (db_hook_entry){self, fn, udata};
    return SOUK_OK;
}

int souk_plugin_worker_hooks(souk_plugin *self,
                             int (*start)(souk_plugin *self, void *loop, void *udata),
                             void (*stop)(souk_plugin *self, void *loop, void *udata),
                             void *udata)
{
    if (!reg_open(self, "worker_hooks"))
        return SOUK_ERR;
    if (!start)
        return reg_refuse(self, "worker_hooks: needs a start function");
    souk_registry *r = self->reg;
    if (REGISTRY_GROW(r->worker_hooks, r->n_worker_hooks, r->cap_worker_hooks) != 0)
        return reg_refuse(self, "worker_hooks: out of memory");
    r->worker_hooks[r->n_worker_hooks++] = (worker_hook_entry){self, start, stop, udata, 0};
    return SOUK_OK;
}

int souk_registry_worker_start(souk_registry *r, void *loop, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n_worker_hooks; i++) {
        worker_hook_entry *h = &r->worker_hooks[i];
        if (h->start(h->plugin, loop, h->udata) != SOUK_OK) {
            souk_errorf(err, errlen, "plugin '%s': background work failed to start (see the log)",
                        h->plugin->name);
            return -1;
        }
        h->started = 1;
    }
    return 0;
}

void souk_registry_worker_stop(souk_registry *r, void *loop)
{
    for (size_t i = r->n_worker_hooks; i-- > 0;) {
        worker_hook_entry *h = &r->worker_hooks[i];
        if (h->started && h->stop)
            h->stop(h->plugin, loop, h->udata);
        h->started = 0;
    }
}

void souk_registry_set_owner(souk_registry *r, void *owner)
{
    r->owner = owner;
}

void *souk_plugin_owner(const souk_plugin *p)
{
    return p ? p->reg->owner : NULL;
}

int souk_registry_db_open(const souk_registry *r, sqlite3 *db, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n_db_hooks; i++) {
        if (r->db_hooks[i].fn(db, r->db_hooks[i].udata) != SOUK_OK) {
            souk_errorf(err, errlen, "plugin '%s': database set-up failed (see the log)",
                        r->db_hooks[i].plugin->name);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- environment */

json_t *souk_plugin_config(souk_plugin *self)
{
    if (!self)
        return NULL;
    return self->settings ? self->settings : self->reg->empty;
}

const char *souk_plugin_name(souk_plugin *self)
{
    return self ? self->name : NULL;
}

const char *souk_plugin_store_dir(souk_plugin *self)
{
    return self ? self->reg->store_dir : NULL;
}

void souk_plugin_log(souk_plugin *self, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    souk_logv(level, self ? self->name : NULL, fmt, ap);
    va_end(ap);
}

/* ----------------------------------------------------------------- loading */

static int load_fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int load_fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "plugin '%s': ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    one_line(err);
    return -1;
}

/* Find NAME.so along the plugin path (the first directory that has it wins),
 * dlopen it and check its descriptor. */
static int plugin_open(souk_plugin *p, const souk_config *cfg, char *err, size_t errlen)
{
    char path[4096], searched[1024] = "";
    size_t slen = 0;
    for (char **dir = cfg->plugin_path; dir && *dir; dir++) {
        snprintf(path, sizeof path, "%s/%s.so", *dir, p->name);
        if (access(path, F_OK) == 0) {
            p->path = strdup(path);
            break;
        }
        int k = snprintf(searched + slen, sizeof searched - slen, "%s%s", slen ? ", " : "", *dir);
        if (k > 0 && slen + (size_t)k < sizeof searched)
            slen += (size_t)k;
    }
    if (!p->path)
        return load_fail(err, errlen, p->name, "%s.so not found in %s", p->name,
                         slen ? searched : "(plugin_path is empty)");

    dlerror();
    /* RTLD_NODELETE: code of a plugin may still be reached after dlclose -- an FTS5
     * tokenizer or SQL function it registered is called when the database closes,
     * which happens after the plugins are unloaded.  A process never loads a
     * plugin twice (a reload starts new workers), so keeping it mapped costs
     * nothing. */
    p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!p->handle) {
        const char *why = dlerror();
        return load_fail(err, errlen, p->name, "cannot load: %s", why ? why : p->path);
    }
    dlerror();
    p->desc = dlsym(p->handle, SOUK_PLUGIN_SYMBOL);
    if (!p->desc)
        return load_fail(err, errlen, p->name,
                         "%s does not export the symbol '%s' (not a souk plugin?)", p->path,
                         SOUK_PLUGIN_SYMBOL);
    /* abi_version first: it is the one field every ABI keeps in place. */
    if (p->desc->abi_version != SOUK_ABI_VERSION)
        return load_fail(err, errlen, p->name, "built for ABI %u, this souk has ABI %d",
                         (unsigned)p->desc->abi_version, SOUK_ABI_VERSION);
    if (!p->desc->signature || strcmp(p->desc->signature, SOUK_ABI_SIGNATURE) != 0)
        return load_fail(err, errlen, p->name, "ABI signature mismatch: plugin \"%s\", souk \"%s\"",
                         p->desc->signature ? p->desc->signature : "(none)", SOUK_ABI_SIGNATURE);
    if (!p->desc->name || strcmp(p->desc->name, p->name) != 0)
        return load_fail(err, errlen, p->name, "%s declares the name '%s'", p->path,
                         p->desc->name ? p->desc->name : "(none)");
    json_t *s = json_object_get(cfg->settings, p->name);
    if (json_is_object(s))
        p->settings = json_incref(s);
    return 0;
}

static souk_plugin *find_configured(const souk_registry *r, const char *name)
{
    for (int i = 0; i < r->n_configured; i++)
        if (strcmp(r->configured[i]->name, name) == 0)
            return r->configured[i];
    return NULL;
}

/* Depth-first: dependencies are appended to the load order before the plugin.
 * stack holds the path from the root, for naming a cycle. */
static int order_visit(souk_registry *r, souk_plugin *p, souk_plugin **stack, int depth, char *err,
                       size_t errlen)
{
    if (p->mark == 2)
        return 0;
    if (p->mark == 1) {
        int from = depth - 1;
        while (from > 0 && stack[from] != p)
            from--;
        char cycle[SOUK_PLUGIN_ERR_MAX] = "";
        size_t n = 0;
        for (int i = from; i < depth && n < sizeof cycle; i++) {
            int k = snprintf(cycle + n, sizeof cycle - n, "%s -> ", stack[i]->name);
            if (k > 0)
                n += (size_t)k;
        }
        return load_fail(err, errlen, p->name, "dependency cycle %s%s", cycle, p->name);
    }
    p->mark = 1;
    stack[depth] = p;
    for (const char *const *d = p->desc->depends; d && *d; d++)
        if (order_visit(r, find_configured(r, *d), stack, depth + 1, err, errlen) != 0)
            return -1;
    p->mark = 2;
    r->order[r->n_order++] = p;
    return 0;
}

static int by_version(const void *a, const void *b)
{
    const souk_store_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static int plugin_init(souk_registry *r, souk_plugin *p, const souk_host_api *api, char *err,
                       size_t errlen)
{
    p->first_migration = r->n_migrations;
    r->initing = p;
    int rc = p->desc->init ? p->desc->init(p, api) : SOUK_OK;
    r->initing = NULL;
    p->inited = rc == SOUK_OK;
    if (p->reg_err[0]) {
        snprintf(err, errlen, "%s", p->reg_err);
        return -1;
    }
    if (rc != SOUK_OK)
        return load_fail(err, errlen, p->name, "init failed");
    /* Versions ascending within the plugin, whatever order init() used. */
    qsort(r->migrations + p->first_migration, r->n_migrations - p->first_migration,
          sizeof *r->migrations, by_version);
    return 0;
}

int souk_plugins_load(souk_registry **out, const souk_config *cfg, const souk_host_api *api,
                      char *err, size_t errlen)
{
    return souk_plugins_load_owned(out, cfg, api, NULL, err, errlen);
}

int souk_plugins_load_owned(souk_registry **out, const souk_config *cfg,
                            const souk_host_api *api, void *owner, char *err, size_t errlen)
{
    *out = NULL;
    int n = 0;
    while (cfg->plugins && cfg->plugins[n])
        n++;
    if (n > SOUK_MAX_PLUGINS) {
        snprintf(err, errlen, "plugins: %d configured, at most %d", n, SOUK_MAX_PLUGINS);
        return -1;
    }
    souk_registry *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "plugins: out of memory");
        return -1;
    }
    r->owner = owner;
    r->store_dir = strdup(cfg->store_dir ? cfg->store_dir : "");
    r->empty = json_object();
    r->configured = calloc((size_t)n + 1, sizeof *r->configured);
    r->order = calloc((size_t)n + 1, sizeof *r->order);
    souk_plugin **stack = calloc((size_t)n + 1, sizeof *stack);
    if (!r->store_dir || !r->empty || !r->configured || !r->order || !stack) {
        snprintf(err, errlen, "plugins: out of memory");
        goto fail;
    }

    for (int i = 0; i < n; i++) {
        const char *name = cfg->plugins[i];
        if (!valid_name(name)) {
            load_fail(err, errlen, name,
                      "invalid name (expected [a-z][a-z0-9_]*, at most %d "
                      "characters)",
                      SOUK_PLUGIN_NAME_MAX);
            goto fail;
        }
        if (find_configured(r, name)) {
            load_fail(err, errlen, name, "configured twice");
            goto fail;
        }
        souk_plugin *p = calloc(1, sizeof *p);
        if (!p || !(p->name = strdup(name))) {
            free(p);
            snprintf(err, errlen, "plugins: out of memory");
            goto fail;
        }
        p->reg = r;
        r->configured[r->n_configured++] = p;
        if (plugin_open(p, cfg, err, errlen) != 0)
            goto fail;
    }

    for (int i = 0; i < n; i++) {
        souk_plugin *p = r->configured[i];
        for (const char *const *d = p->desc->depends; d && *d; d++)
            if (!find_configured(r, *d)) {
                load_fail(err, errlen, p->name, "depends on '%s', which is not configured", *d);
                goto fail;
            }
    }
    for (int i = 0; i < n; i++)
        if (order_visit(r, r->configured[i], stack, 0, err, errlen) != 0)
            goto fail;

    for (int i = 0; i < r->n_order; i++)
        if (plugin_init(r, r->order[i], api, err, errlen) != 0)
            goto fail;

    free(stack);
    *out = r;
    return 0;
fail:
    free(stack);
    souk_plugins_unload(r);
    return -1;
}

void souk_plugins_unload(souk_registry *r)
{
    if (!r)
        return;
    /* Dependents first: a plugin's fini may still call a dependency's service. */
    for (int i = r->n_order - 1; i >= 0; i--) {
        souk_plugin *p = r->order[i];
        if (p->inited && p->desc->fini)
            p->desc->fini(p);
    }
    for (int i = r->n_configured - 1; i >= 0; i--) {
        souk_plugin *p = r->configured[i];
        if (p->handle)
            dlclose(p->handle);
        json_decref(p->settings);
        free(p->name);
        free(p->path);
        free(p);
    }
    free(r->configured);
    free(r->order);
    free(r->routes);
    free(r->commands);
    free(r->db_hooks);
    free(r->worker_hooks);
    free(r->migrations);
    free(r->events);
    free(r->services);
    json_decref(r->empty);
    free(r->store_dir);
    free(r);
}

/* ----------------------------------------------------------------- queries */

int souk_registry_count(const souk_registry *r)
{
    return r->n_order;
}

souk_plugin *souk_registry_plugin(const souk_registry *r, int i)
{
    return i >= 0 && i < r->n_order ? r->order[i] : NULL;
}

const char *souk_plugin_get_name(const souk_plugin *p)
{
    return p->name;
}
const char *souk_plugin_get_version(const souk_plugin *p)
{
    return p->desc->version ? p->desc->version : "";
}
const char *souk_plugin_get_path(const souk_plugin *p)
{
    return p->path;
}

const souk_route_entry *souk_registry_routes(const souk_registry *r, int *n)
{
    *n = (int)r->n_routes;
    return r->routes;
}

const souk_command_entry *souk_registry_commands(const souk_registry *r, int *n)
{
    *n = (int)r->n_commands;
    return r->commands;
}

const souk_store_migration *souk_registry_migrations(const souk_registry *r, size_t *n)
{
    *n = r->n_migrations;
    return r->migrations;
}

souk_identity_fn souk_registry_identity(const souk_registry *r, const char **signin_path)
{
    if (signin_path)
        *signin_path = r->signin_path;
    return r->identity;
}

int souk_registry_emit(const souk_registry *r, souk_ctx *ctx, const char *event, json_t *payload,
                       int ask, const char **reason, const char **by)
{
    if (reason)
        *reason = NULL;
    if (by)
        *by = NULL;
    int result = SOUK_OK;
    for (size_t i = 0; i < r->n_events; i++) {
        const event_entry *e = &r->events[i];
        if (strcmp(e->event, event) != 0)
            continue;
        if (ctx)
            souk_ctx_refusal(ctx); /* drop a refusal left by an earlier handler */
        int rc = e->fn(ctx, event, payload, e->udata);
        const char *refusal = ctx ? souk_ctx_refusal(ctx) : NULL;
        if (ask) {
            /* A handler that refused but returned SOUK_OK still refused: for a
             * vetoable event the safe reading of a mixed answer is "no". */
            if (rc == SOUK_ERR || refusal) {
                if (reason)
                    *reason = refusal ? refusal : "refused without a reason";
                if (by)
                    *by = e->plugin->name;
                return SOUK_ERR;
            }
        } else if (rc == SOUK_ERR) {
            souk_log_tag(SOUK_LOG_ERROR, e->plugin->name,
                         "plugin '%s': handler of event '%s' failed", e->plugin->name, event);
            if (result == SOUK_OK) {
                if (reason)
                    *reason = refusal;
                if (by)
                    *by = e->plugin->name;
            }
            result = SOUK_ERR;
        }
    }
    return result;
}
