/* config.h -- the store configuration: STORE_DIR/souk.lua, evaluated in the Lua
 * sandbox, must return a table.  Every key has a default here; SOUK_<KEY>
 * environment variables override scalars (nested keys joined by '_':
 * limits.body -> SOUK_LIMITS_BODY).  An unknown key or a wrong type is an error
 * naming the key (and the file). */
#ifndef SOUK_CONFIG_H
#define SOUK_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SOUK_MAX_PLUGINS 64
/* Most worker processes (souk.lua `workers`, SOUK_WORKERS, serve --workers). */
#define SOUK_MAX_WORKERS 256
/* Longest public_url. */
#define CONFIG_URL_MAX 512

typedef struct souk_limits {
    size_t header_size;           /* request line + headers, bytes (16 KiB) -> 431/414 */
    size_t url_size;              /* request target alone, bytes (8 KiB) -> 414 */
    int max_headers;              /* header count (100) -> 431 */
    size_t body_size;             /* body, bytes (1 MiB) -> 413 */
    uint32_t header_timeout_ms;   /* whole request head must arrive within (10 s) -> 408 */
    uint32_t body_timeout_ms;     /* max idle gap while reading a body (10 s) -> 408 */
    uint32_t keepalive_timeout_ms;/* idle keep-alive connection closed after (5 s) */
    uint32_t write_timeout_ms;    /* a client that does not read its response (30 s) */
    int requests_per_connection;  /* then Connection: close (1000) */
    int max_connections;          /* per worker (10000); beyond: accepted and closed */
    uint32_t shutdown_timeout_ms; /* graceful stop/reload deadline (10 s) */
    uint32_t startup_timeout_ms;  /* a worker not ready by then is killed (60 s) */
} souk_limits;

typedef struct souk_script_limits {
    int64_t instructions;         /* per call (10,000,000) */
    size_t memory;                /* per Lua state, bytes (32 MiB) */
} souk_script_limits;

typedef struct souk_config {
    char *store_dir;              /* absolute path of the store */
    char *config_file;            /* STORE_DIR/souk.lua */
    char *listen_host;            /* "127.0.0.1" */
    int listen_port;              /* 8080 */
    int workers;                  /* 0 = one per core */
    int dev;                      /* dev mode: outbox channel, clock file, verbose errors */
    int force_public;             /* allow dev mode on a non-loopback address */
    int https;                    /* served behind TLS: Secure cookies, __Host- prefix */
    char *public_url;             /* "https://shop.example" (no trailing slash), or NULL */
    char *theme;                  /* "default" */
    char *locale;                 /* default locale "ru" */
    char **locales;               /* supported locales, NULL-terminated ("ru","en") */
    char **plugins;               /* plugin names to load, NULL-terminated */
    char **plugin_path;           /* directories searched for <name>.so, NULL-terminated */
    char *themes_path;            /* directory holding the built-in themes */
    char *log_level;              /* "debug", "info", "warn", "error" */
    int static_max_age;           /* Cache-Control max-age for theme static files, s */
    souk_limits limits;
    souk_script_limits script;
    json_t *settings;             /* settings table: per-plugin objects (owned) */
} souk_config;

/* Fill cfg with the defaults (no store). */
void souk_config_defaults(souk_config *cfg);
/* Load STORE_DIR/souk.lua over the defaults, then apply SOUK_* environment
 * overrides.  On failure returns -1 with a message "souk.lua:12: ..." or
 * "souk.lua: key 'limits.body': expected an integer" in err. */
int souk_config_load(souk_config *cfg, const char *store_dir, char *err, size_t errlen);
void souk_config_free(souk_config *cfg);

#endif
