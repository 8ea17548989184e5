/* worker.c -- `souk __worker DIR`: one serving process (see master.h, proc.h).
 *
 * Life of a worker: check the descriptors the master handed over, map the metrics,
 * open the app (running pending migrations: they are transactional, so workers
 * starting together are safe), start the HTTP server on the inherited socket, say
 * "ready" on the control pipe, serve.  SIGTERM or the end of the control pipe
 * (the master is gone) drains it: no new connections, requests in flight finish,
 * then it exits 0; limits.shutdown_timeout_ms later it exits regardless. */
#define _GNU_SOURCE
#include "master.h"

#include "accesslog.h"
#include "app.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <souk/souk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

typedef struct worker {
    uv_loop_t loop;
    souk_app *app;
    souk_server *server;
    const souk_limits *limits; /* the app's config: lives as long as the app */
    uv_signal_t sig_term, sig_hup;
    uv_timer_t deadline;
    uv_pipe_t control;
    int handles_ready; /* the four handles above were initialised */
    int control_open;  /* control is a uv_pipe (else fd 4 is still a plain fd) */
    int draining;
} worker;

/* ---------------------------------------------------------------- control pipe */

/* Write all of s to fd (a blocking socket) or fail. */
static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Tell the master why this worker cannot serve: one line, whatever err holds. */
static void control_error(const char *err)
{
    char line[SOUK_CONTROL_LINE_MAX];
    int n = snprintf(line, sizeof line - 1, SOUK_CONTROL_ERROR "%s", err);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    if (write_all(SOUK_WORKER_FD_CONTROL, line, (size_t)n) != 0)
        souk_log(SOUK_LOG_ERROR, "%s", err); /* no master to tell: the log has it */
}

/* ---------------------------------------------------------------- draining */

static void on_drained(void *ud)
{
    worker *w = ud;
    souk_log(SOUK_LOG_DEBUG, "drained");
    uv_stop(&w->loop);
}

static void on_deadline(uv_timer_t *t)
{
    worker *w = t->data;
    souk_log(SOUK_LOG_WARN,
             "shutdown deadline (%u ms) passed with %d connection(s) open; "
             "exiting",
             (unsigned)w->limits->shutdown_timeout_ms, souk_server_connections(w->server));
    uv_stop(&w->loop);
}

static void worker_drain(worker *w, const char *why)
{
    if (w->draining)
        return;
    w->draining = 1;
    souk_app_worker_stop(w->app, &w->loop); /* plugins' background work ends first */
    souk_log(SOUK_LOG_INFO, "draining (%s): %d connection(s) open", why,
             souk_server_connections(w->server));
    /* The timer first: drain may call on_drained at once when nothing is open. */
    uv_timer_start(&w->deadline, on_deadline, w->limits->shutdown_timeout_ms, 0);
    souk_server_drain(w->server, on_drained, w);
}

static void on_signal(uv_signal_t *h, int signum)
{
    worker *w = h->data;
    if (signum == SIGTERM) {
        worker_drain(w, "SIGTERM");
    } else if (signum == SIGHUP) {
        souk_log(SOUK_LOG_INFO, "SIGHUP: reloading scripts");
        souk_app_reload_scripts(w->app);
    }
}

static void on_control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char scratch[64]; /* the master sends nothing yet: only EOF matters */
    buf->base = scratch;
    buf->len = sizeof scratch;
}

static void on_control_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread >= 0)
        return;
    worker *w = s->data;
    uv_read_stop(s);
    worker_drain(w, nread == UV_EOF ? "master gone" : "control pipe error");
}

/* ---------------------------------------------------------------- server hooks */

static void on_request(void *ud, souk_request *req, souk_response *res)
{
    souk_app_handle(ud, req, res);
}

static void on_complete(void *ud, const souk_request *req, const souk_response *res, size_t bytes,
                        double duration_ms)
{
    souk_accesslog_write(req, res, bytes, duration_ms);
    souk_metrics_request(res && res->route ? res->route : "unknown",
                         req && req->method ? req->method : "-", res ? res->status : 0,
                         duration_ms);
}

/* ---------------------------------------------------------------- start and stop */

static int fd_valid(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* The master hands over a listening socket, a control socket and the metrics fd;
 * anything else means we were run by hand. */
static int fds_from_master(void)
{
    int listening = 0;
    socklen_t len = sizeof listening;
    if (!fd_valid(SOUK_WORKER_FD_LISTEN) || !fd_valid(SOUK_WORKER_FD_CONTROL) ||
        !fd_valid(SOUK_WORKER_FD_METRICS))
        return 0;
    if (getsockopt(SOUK_WORKER_FD_LISTEN, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
        !listening)
        return 0;
    int type = 0;
    len = sizeof type;
    return getsockopt(SOUK_WORKER_FD_CONTROL, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        souk_log(SOUK_LOG_DEBUG, "closing a %s handle left open at exit",
                 uv_handle_type_name(uv_handle_get_type(h)));
        uv_close(h, NULL);
    }
}

static void worker_cleanup(worker *w)
{
    if (w->server)
        souk_server_free(w->server);
    w->server = NULL;
    if (w->handles_ready) {
        /* Once the handlers are gone a second SIGTERM (the master's, after one sent to
         * the whole process group) must not kill a worker that is already leaving. */
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        uv_close((uv_handle_t *)&w->sig_term, NULL);
        uv_close((uv_handle_t *)&w->sig_hup, NULL);
        uv_close((uv_handle_t *)&w->deadline, NULL);
    }
    if (w->control_open)
        uv_close((uv_handle_t *)&w->control, NULL);
    else
        close(SOUK_WORKER_FD_CONTROL);
    souk_app_worker_stop(w->app, &w->loop); /* once: a drain may have stopped them */
    souk_app_close(w->app); /* closes its script watcher on the loop */
    w->app = NULL;
    /* Let the close callbacks run.  A handle still open after that belongs to a
     * module that did not close it; close it so that the loop can end. */
    uv_run(&w->loop, UV_RUN_NOWAIT);
    uv_walk(&w->loop, close_walk, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->loop) != 0)
        souk_log(SOUK_LOG_WARN, "event loop still busy at exit");
    souk_metrics_detach();
}

int souk_worker_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: souk __worker DIR (internal: started by `souk serve`)\n");
        return 2;
    }
    if (!fds_from_master()) {
        fprintf(stderr,
                "souk __worker is started by `souk serve`, which hands it the "
                "listening socket, control pipe and metrics on fds 3-5; run "
                "`souk serve %s` instead\n",
                argv[1]);
        return 2;
    }
    const char *dir = argv[1];
    /* Nothing this process runs (a plugin's helper program) may inherit the
     * master's descriptors: a stray copy of fd 4 would hide our exit from it. */
    for (int fd = SOUK_WORKER_FD_LISTEN; fd <= SOUK_WORKER_FD_METRICS; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN); /* until the handler below is installed */

    char source[32];
    const char *id = getenv(SOUK_ENV_WORKER_ID);
    snprintf(source, sizeof source, "worker.%s", id && *id ? id : "?");
    int level = souk_proc_log_level(getenv("SOUK_LOG_LEVEL"));
    souk_log_setup(source, level);
    souk_accesslog_setup(source, level);

    if (souk_metrics_attach(SOUK_WORKER_FD_METRICS) != 0) {
        control_error("cannot map the metrics area on fd 5");
        return 1;
    }
    close(SOUK_WORKER_FD_METRICS); /* the mapping stays */

    worker w;
    memset(&w, 0, sizeof w);
    char err[512] = "";
    int rc = uv_loop_init(&w.loop);
    if (rc != 0) {
        snprintf(err, sizeof err, "cannot start an event loop: %s", uv_strerror(rc));
        control_error(err);
        souk_metrics_detach();
        return 1;
    }
    if (souk_app_open(&w.app, dir, SOUK_APP_MIGRATE, err, sizeof err) != 0) {
        control_error(err);
        w.app = NULL;
        worker_cleanup(&w);
        return 1;
    }
    souk_config *cfg = souk_app_config(w.app);
    level = souk_proc_log_level(cfg->log_level);
    souk_log_setup(source, level);
    souk_accesslog_setup(source, level);
    w.limits = &cfg->limits;

    uv_signal_init(&w.loop, &w.sig_term);
    uv_signal_init(&w.loop, &w.sig_hup);
    uv_timer_init(&w.loop, &w.deadline);
    w.sig_term.data = w.sig_hup.data = w.deadline.data = &w;
    w.handles_ready = 1;
    uv_signal_start(&w.sig_term, on_signal, SIGTERM);
    uv_signal_start(&w.sig_hup, on_signal, SIGHUP);

    souk_server_hooks hooks = {.on_request = on_request, .on_complete = on_complete, .ud = w.app};
    if (souk_server_start(&w.server, &w.loop, SOUK_WORKER_FD_LISTEN, w.limits, &hooks, err,
                          sizeof err) != 0) {
        control_error(err);
        w.server = NULL;
        worker_cleanup(&w);
        return 1;
    }
    souk_app_watch(w.app, &w.loop);
    if (souk_app_worker_start(w.app, &w.loop, SOUK_WORKER_FD_LISTEN, err, sizeof err) != 0) {
        control_error(err);
        worker_cleanup(&w);
        return 1;
    }

    /* "ready" goes out while fd 4 is still a plain blocking socket; from here on the
     * loop watches it for the master's end of file. */
    static const char ready[] = SOUK_CONTROL_READY "\n";
    if (write_all(SOUK_WORKER_FD_CONTROL, ready, sizeof ready - 1) != 0) {
        souk_log(SOUK_LOG_ERROR, "cannot tell the master we are ready (%s); exiting",
                 strerror(errno));
        worker_cleanup(&w);
        return 1;
    }
    uv_pipe_init(&w.loop, &w.control, 0);
    w.control.data = &w;
    w.control_open = 1;
    if (uv_pipe_open(&w.control, SOUK_WORKER_FD_CONTROL) != 0 ||
        uv_read_start((uv_stream_t *)&w.control, on_control_alloc, on_control_read) != 0) {
        souk_log(SOUK_LOG_ERROR, "cannot watch the control pipe; exiting");
        worker_cleanup(&w);
        return 1;
    }
    souk_log(SOUK_LOG_DEBUG, "serving");

    uv_run(&w.loop, UV_RUN_DEFAULT);
    worker_cleanup(&w);
    return 0;
}
