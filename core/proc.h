/* proc.h -- the contract between the master (master.c) and its workers (worker.c):
 * which file descriptor carries what, the environment a worker gets, and the
 * control messages.  Both sides include this one header so they cannot drift.
 *
 * A worker is `souk __worker DIR` with
 *   fd 0  /dev/null            fd 1, 2  the master's stdout and stderr
 *   fd 3  the listening socket (shared by every worker; the kernel hands each new
 *         connection to one of the workers blocked in accept)
 *   fd 4  the control pipe: the worker writes one line, "ready" once it serves or
 *         "error <one line>" before it exits 1; end of file on it means the master
 *         is gone (the worker drains and exits).  The master writes nothing yet.
 *   fd 5  the metrics memfd (metrics.h)
 * and SOUK_WORKER_ID (0..N-1, the worker's slot) and SOUK_GENERATION (1, 2, ...:
 * one per start or reload) in its environment.  Signals to a worker: SIGTERM
 * drains it, SIGHUP reloads its scripts; it ignores SIGINT (a ^C reaches the whole
 * process group, and only the master decides what happens then). */
#ifndef SOUK_PROC_H
#define SOUK_PROC_H

#include <souk/souk.h>
#include <string.h>

#define SOUK_WORKER_FD_LISTEN 3
#define SOUK_WORKER_FD_CONTROL 4
#define SOUK_WORKER_FD_METRICS 5
#define SOUK_WORKER_FD_COUNT 6 /* stdio entries the master hands to uv_spawn */

#define SOUK_ENV_WORKER_ID "SOUK_WORKER_ID"
#define SOUK_ENV_GENERATION "SOUK_GENERATION"

#define SOUK_CONTROL_READY "ready"
#define SOUK_CONTROL_ERROR "error " /* followed by the message */
/* Longest control line, newline included; longer lines are cut. */
#define SOUK_CONTROL_LINE_MAX 1024

/* souk_config.log_level ("debug", "info", "warn", "error") as a SOUK_LOG_* level;
 * anything else is info (the config loader has already rejected bad values). */
static inline int souk_proc_log_level(const char *name)
{
    if (!name)
        return SOUK_LOG_INFO;
    if (strcmp(name, "debug") == 0)
        return SOUK_LOG_DEBUG;
    if (strcmp(name, "warn") == 0)
        return SOUK_LOG_WARN;
    if (strcmp(name, "error") == 0)
        return SOUK_LOG_ERROR;
    return SOUK_LOG_INFO;
}

#endif
