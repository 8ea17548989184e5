/* master.h -- `souk serve`: the master process and its workers (the nginx model).
 *
 * The master opens the listening socket, creates the shared metrics area and spawns
 * N workers (`souk __worker DIR`, the socket inherited as fd 3, a control pipe as fd
 * 4, the metrics memfd as fd 5).  A worker opens the app, starts serving and writes
 * "ready\n" on the control pipe, or "error <line>\n" and exits 1.  The master:
 *   - at start: waits for the first worker to be ready; if it fails, prints its
 *     line and exits 1;
 *   - restarts a worker that died (logged with signal/status), with back-off;
 *   - SIGHUP: re-reads the config and starts a new generation of workers; when all
 *     are ready, asks the old ones to drain (SIGTERM); if one of the new fails, the
 *     new generation is stopped and the old one keeps serving;
 *   - SIGTERM/SIGINT: asks every worker to drain, SIGKILLs what is left after
 *     limits.shutdown_timeout_ms, exits 0.
 * A worker whose control pipe closes (master gone) drains and exits. */
#ifndef SOUK_MASTER_H
#define SOUK_MASTER_H

/* `souk serve DIR [--listen ADDR:PORT] [--workers N]`.  Returns the exit code. */
int souk_master_main(int argc, char **argv);
/* `souk __worker DIR` (internal, spawned by the master).  Returns the exit code. */
int souk_worker_main(int argc, char **argv);

#endif
