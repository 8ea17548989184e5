/* metrics.h -- counters shared by the master and all workers, in a memfd mapping
 * created by the master and inherited by the workers, so that /metrics served by
 * any worker shows the whole server.  Lock-free: atomic adds into fixed slots. */
#ifndef SOUK_METRICS_H
#define SOUK_METRICS_H

#include <stddef.h>

/* Distinct (route, method, status) keys the table holds; requests with a new key
 * beyond that are counted in souk_metrics_dropped_total only. */
#define SOUK_METRICS_SLOTS 512

/* Master: create the shared area; returns its fd (inherited by workers) or -1. */
int souk_metrics_create(void);
/* Worker (or master after create): map the area behind fd. 0 or -1. */
int souk_metrics_attach(int fd);
/* Unmap the area (at exit; counting becomes a no-op).  The fd is the caller's. */
void souk_metrics_detach(void);
/* Count one request: route label (the route pattern, "static", "notfound", ...),
 * method, status and latency.  No-op when not attached. */
void souk_metrics_request(const char *route, const char *method, int status, double ms);
void souk_metrics_worker_restart(void);
/* Prometheus text exposition format (0.0.4): a malloc'ed NUL-terminated string the
 * caller frees; *len (if len is not NULL) gets its length.  NULL when out of
 * memory.  When not attached, the families are rendered empty (zero counters). */
char *souk_metrics_render(size_t *len);

#endif
