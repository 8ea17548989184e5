/* master.c -- `souk serve DIR`: the master process (see master.h for the protocol,
 * proc.h for what a worker is handed).
 *
 * The master serves nothing itself.  It owns the listening socket and the metrics
 * area, and supervises workers grouped in generations: generation 1 at start, one
 * more per SIGHUP.  At any time there is the serving generation (cur), at most one
 * generation starting up after a SIGHUP (next), and any number of retired ones
 * that are draining.  Each generation has N slots; a slot holds at most one live
 * worker process, and restarts it with back-off when it dies unasked.
 *
 * Everything runs on one libuv loop: child exits (uv_process_t), the workers'
 * control pipes, timers, and the signals (uv_signal_t), so no state is touched from
 * a signal handler. */
#define _GNU_SOURCE
#include "master.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <souk/souk.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

/* A worker that dies is restarted after a delay that starts here and doubles with
 * each death, up to the ceiling; a worker that lived RESTART_STABLE_MS resets it.
 * A plugin that crashes at once thus costs a restart every 10 s, not a fork storm. */
#define SOUK_RESTART_BACKOFF_MIN_MS 100
#define SOUK_RESTART_BACKOFF_MAX_MS 10000
#define SOUK_RESTART_STABLE_MS 30000
/* Draining workers give up on their own after limits.shutdown_timeout_ms; the
 * master SIGKILLs whatever is left this much later (a worker stuck in a loop). */
#define SOUK_KILL_GRACE_MS 1000
/* How often the master looks for workers that take too long to get ready. */
#define SOUK_WORKER_START_CHECK_MS 1000

typedef struct master master;
typedef struct generation generation;
typedef struct slot slot;
typedef struct proc proc;

/* One worker process.  Freed once both of its handles are closed. */
struct proc {
    slot *slot; /* NULL once reaped */
    uv_process_t process;
    uv_pipe_t control;
    int open_handles; /* process + control until their close callbacks ran */
    int control_closed;
    int pid;
    unsigned gen; /* generation number (for logs after the slot is gone) */
    int id;
    int ready;           /* said "ready" */
    int start_killed;    /* killed for not getting ready in time */
    int stop_requested;  /* we sent SIGTERM: its exit is expected */
    uint64_t spawned_ms; /* monotonic */
    char line[SOUK_CONTROL_LINE_MAX];
    size_t line_len;
    char error[SOUK_CONTROL_LINE_MAX]; /* text of its "error" line, or "" */
    char readbuf[256];
};

struct slot {
    generation *gen;
    int id;
    proc *proc; /* the live worker, or NULL (dead, restart pending) */
    uv_timer_t restart;
    uint32_t backoff_ms; /* delay before the next respawn */
    int was_ready;       /* a worker of this slot said "ready" at least once */
};

struct generation {
    master *m;
    unsigned num;
    int n;
    slot *slots;
    int ready;   /* slots with was_ready set */
    int live;    /* processes spawned and not yet reaped */
    int retired; /* stopping: no respawns, live workers were SIGTERMed */
    int freeing;
    generation *older;     /* the list of live generations, newest first */
    uv_timer_t kill_timer; /* SIGKILL deadline once retired */
    int open_handles;      /* timers still to close before the memory goes */
};

enum master_phase { PHASE_STARTING, PHASE_RUNNING, PHASE_STOPPING };

struct master {
    uv_loop_t loop;
    souk_config cfg;      /* the serving generation's configuration */
    souk_config next_cfg; /* the configuration of `next`, while it starts */
    int have_next_cfg;
    char exe[PATH_MAX];
    /* command line overrides, applied to every configuration loaded */
    const char *dir;
    char listen_host[256]; /* "" = none */
    int listen_port;
    int workers_override; /* -1 = none; 0 = one per core */
    /* what we listen on: as asked (port may be 0) and as bound */
    char asked_host[256];
    int asked_port;
    char host[256];
    int port;
    int listen_fd, metrics_fd;
    generation *cur, *next;
    generation *gens; /* every generation not yet freed, newest first */
    unsigned gen_counter;
    enum master_phase phase;
    int reload_pending; /* a SIGHUP arrived while another reload was running */
    int startup_failed; /* the reason was printed; stop without more noise */
    int finished;       /* master_finish ran */
    int exit_code;
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_timer_t start_watch; /* kills workers that never say "ready" */
};

static int slot_spawn(slot *s, char *err, size_t errlen);
static void generation_retire(generation *g, uint32_t deadline_ms);
static void master_reload(master *m);
static void master_stop(master *m, const char *why);

/* ---------------------------------------------------------------- helpers */

static uint64_t now_ms(void)
{
    return souk_clock_mono_ms();
}

/* "killed by signal SIGSEGV" / "exited with status 1" */
static void describe_exit(char *out, size_t cap, int64_t status, int term_signal)
{
    if (term_signal) {
        const char *abbrev = sigabbrev_np(term_signal);
        if (abbrev)
            snprintf(out, cap, "killed by signal SIG%s", abbrev);
        else
            snprintf(out, cap, "killed by signal %d", term_signal);
    } else {
        snprintf(out, cap, "exited with status %lld", (long long)status);
    }
}

static int host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

/* host:port for a URL or a log line ("[::1]:8080" for IPv6). */
static void format_addr(char *out, size_t cap, const char *host, int port)
{
    if (strchr(host, ':'))
        snprintf(out, cap, "[%s]:%d", host, port);
    else
        snprintf(out, cap, "%s:%d", host, port);
}

/* The command line wins over souk.lua and SOUK_* for listen and workers. */
static void apply_overrides(const master *m, souk_config *cfg)
{
    if (m->listen_host[0]) {
        char *h = strdup(m->listen_host);
        if (h) {
            free(cfg->listen_host);
            cfg->listen_host = h;
        }
        cfg->listen_port = m->listen_port;
    }
    if (m->workers_override >= 0)
        cfg->workers = m->workers_override;
}

static int worker_count(const souk_config *cfg)
{
    int n = cfg->workers;
    if (n <= 0)
        n = (int)uv_available_parallelism();
    if (n < 1)
        n = 1;
    return n > SOUK_MAX_WORKERS ? SOUK_MAX_WORKERS : n;
}

/* ---------------------------------------------------------------- generations */

static void generation_handle_closed(uv_handle_t *h)
{
    generation *g = h->data;
    if (--g->open_handles == 0) {
        free(g->slots);
        free(g);
    }
}

static void slot_timer_closed(uv_handle_t *h)
{
    slot *s = h->data;
    h->data = s->gen;
    generation_handle_closed(h);
}

static generation *generation_new(master *m, int n)
{
    generation *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->slots = calloc((size_t)n, sizeof *g->slots);
    if (!g->slots) {
        free(g);
        return NULL;
    }
    g->m = m;
    g->num = ++m->gen_counter;
    g->n = n;
    uv_timer_init(&m->loop, &g->kill_timer);
    g->kill_timer.data = g;
    g->open_handles = 1;
    for (int i = 0; i < n; i++) {
        slot *s = &g->slots[i];
        s->gen = g;
        s->id = i;
        s->backoff_ms = SOUK_RESTART_BACKOFF_MIN_MS;
        uv_timer_init(&m->loop, &s->restart);
        s->restart.data = s;
        g->open_handles++;
    }
    g->older = m->gens;
    m->gens = g;
    return g;
}

static void master_finish(master *m)
{
    if (m->finished)
        return;
    m->finished = 1;
    if (!m->startup_failed)
        souk_log(SOUK_LOG_INFO, "shutdown complete");
    uv_close((uv_handle_t *)&m->sig_hup, NULL);
    uv_close((uv_handle_t *)&m->sig_term, NULL);
    uv_close((uv_handle_t *)&m->sig_int, NULL);
    uv_close((uv_handle_t *)&m->start_watch, NULL);
}

/* Called once a retired generation has no process left. */
static void generation_free(generation *g)
{
    if (g->freeing)
        return;
    g->freeing = 1;
    master *m = g->m;
    for (generation **pp = &m->gens; *pp; pp = &(*pp)->older) {
        if (*pp == g) {
            *pp = g->older;
            break;
        }
    }
    uv_close((uv_handle_t *)&g->kill_timer, generation_handle_closed);
    for (int i = 0; i < g->n; i++)
        uv_close((uv_handle_t *)&g->slots[i].restart, slot_timer_closed);
    if (!m->gens && m->phase == PHASE_STOPPING)
        master_finish(m);
}

static void generation_kill(generation *g)
{
    for (int i = 0; i < g->n; i++) {
        proc *p = g->slots[i].proc;
        if (p) {
            souk_log(SOUK_LOG_WARN,
                     "worker %d (pid %d, generation %u) still running; "
                     "sending SIGKILL",
                     p->id, p->pid, p->gen);
            uv_process_kill(&p->process, SIGKILL);
        }
    }
}

static void on_kill_timer(uv_timer_t *t)
{
    generation_kill(t->data);
}

/* Stop a generation: no more respawns, SIGTERM (drain) to every live worker,
 * SIGKILL to what is left after deadline_ms. */
static void generation_retire(generation *g, uint32_t deadline_ms)
{
    if (g->retired)
        return;
    g->retired = 1;
    for (int i = 0; i < g->n; i++) {
        slot *s = &g->slots[i];
        uv_timer_stop(&s->restart);
        if (s->proc) {
            s->proc->stop_requested = 1;
            uv_process_kill(&s->proc->process, SIGTERM);
        }
    }
    if (g->live == 0)
        generation_free(g);
    else
        uv_timer_start(&g->kill_timer, on_kill_timer, deadline_ms, 0);
}

static uint32_t drain_deadline(const master *m)
{
    return m->cfg.limits.shutdown_timeout_ms + SOUK_KILL_GRACE_MS;
}

/* ---------------------------------------------------------------- events */

static void announce_serving(master *m)
{
    char addr[300];
    format_addr(addr, sizeof addr, m->host, m->port);
    int n = m->cur->n;
    /* stdout: the line scripts and tests look for; stderr: the log. */
    printf("souk: serving http://%s (%d worker%s)\n", addr, n, n == 1 ? "" : "s");
    fflush(stdout);
    souk_log(SOUK_LOG_INFO, "serving http://%s (%d worker%s)", addr, n, n == 1 ? "" : "s");
}

/* A start-up failure: the reason goes to stderr as the one line a person reads. */
static void startup_failed(master *m, const char *reason)
{
    fprintf(stderr, "%s\n", reason);
    fflush(stderr);
    m->exit_code = 1;
    m->startup_failed = 1;
    master_stop(m, "start-up failed");
}

static void reload_failed(master *m, const char *reason)
{
    souk_log(SOUK_LOG_ERROR, "reload failed: %s; keeping generation %u", reason,
             m->cur ? m->cur->num : 0);
    if (m->next) {
        generation *g = m->next;
        m->next = NULL;
        generation_retire(g, drain_deadline(m));
    }
    if (m->have_next_cfg) {
        souk_config_free(&m->next_cfg);
        m->have_next_cfg = 0;
    }
    if (m->reload_pending) {
        m->reload_pending = 0;
        master_reload(m);
    }
}

static void reload_complete(master *m)
{
    generation *old = m->cur;
    souk_log(SOUK_LOG_INFO, "reload: generation %u ready; draining generation %u", m->next->num,
             old->num);
    m->cur = m->next;
    m->next = NULL;
    souk_config_free(&m->cfg);
    m->cfg = m->next_cfg;
    m->have_next_cfg = 0;
    souk_log_setup("master", souk_proc_log_level(m->cfg.log_level));
    generation_retire(old, drain_deadline(m));
    if (m->reload_pending) {
        m->reload_pending = 0;
        master_reload(m);
    }
}

static void proc_ready(proc *p)
{
    slot *s = p->slot;
    generation *g = s->gen;
    master *m = g->m;
    souk_log(SOUK_LOG_INFO, "worker %d ready (pid %d, generation %u)", p->id, p->pid, p->gen);
    if (p->stop_requested || g->retired)
        return;
    int first = !s->was_ready; /* not a respawn of a slot that was ready before */
    if (first) {
        s->was_ready = 1;
        g->ready++;
    }
    if (g == m->cur && m->phase == PHASE_STARTING) {
        /* Worker 0 went first so that a broken store fails with its one line;
         * now that it works, start the others. */
        if (s->id == 0 && first) {
            for (int i = 1; i < g->n; i++) {
                char err[256];
                if (slot_spawn(&g->slots[i], err, sizeof err) != 0) {
                    startup_failed(m, err);
                    return;
                }
            }
        }
        if (g->ready == g->n) {
            m->phase = PHASE_RUNNING;
            announce_serving(m);
            if (m->reload_pending) {
                m->reload_pending = 0;
                master_reload(m);
            }
        }
    } else if (g == m->next && g->ready == g->n) {
        reload_complete(m);
    }
}

static void control_line(proc *p, const char *line)
{
    if (strcmp(line, SOUK_CONTROL_READY) == 0) {
        if (!p->ready) {
            p->ready = 1;
            if (p->slot)
                proc_ready(p);
        }
    } else if (strncmp(line, SOUK_CONTROL_ERROR, strlen(SOUK_CONTROL_ERROR)) == 0) {
        if (!p->error[0])
            snprintf(p->error, sizeof p->error, "%s", line + strlen(SOUK_CONTROL_ERROR));
    } else {
        souk_log(SOUK_LOG_WARN, "worker %d (pid %d): unexpected control message \"%s\"", p->id,
                 p->pid, line);
    }
}

static void control_feed(proc *p, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            p->line[p->line_len] = '\0';
            p->line_len = 0;
            control_line(p, p->line);
        } else if (p->line_len + 1 < sizeof p->line) {
            p->line[p->line_len++] = data[i]; /* beyond the limit: cut */
        }
    }
}

static void proc_handle_closed(uv_handle_t *h)
{
    proc *p = h->data;
    if (--p->open_handles == 0)
        free(p);
}

static void control_close(proc *p)
{
    if (p->control_closed)
        return;
    p->control_closed = 1;
    uv_close((uv_handle_t *)&p->control, proc_handle_closed);
}

static void on_control_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    proc *p = h->data;
    buf->base = p->readbuf;
    buf->len = sizeof p->readbuf;
}

static void on_control_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    proc *p = st->data;
    if (nread > 0)
        control_feed(p, buf->base, (size_t)nread);
    else if (nread < 0)
        control_close(p);
}

static void on_restart_timer(uv_timer_t *t);

/* Schedule the slot's next start after its back-off delay; returns the delay. */
static uint32_t slot_schedule_restart(slot *s)
{
    uint32_t delay = s->backoff_ms;
    s->backoff_ms =
        delay >= SOUK_RESTART_BACKOFF_MAX_MS / 2 ? SOUK_RESTART_BACKOFF_MAX_MS : delay * 2;
    uv_timer_start(&s->restart, on_restart_timer, delay, 0);
    return delay;
}

static void on_restart_timer(uv_timer_t *t)
{
    slot *s = t->data;
    generation *g = s->gen;
    if (g->retired || g->m->phase == PHASE_STOPPING || s->proc)
        return;
    char err[256];
    if (slot_spawn(s, err, sizeof err) != 0) {
        uint32_t delay = slot_schedule_restart(s);
        souk_log(SOUK_LOG_ERROR, "%s; retrying in %u ms", err, (unsigned)delay);
    }
}

/* A worker process ended; its slot is already empty. */
static void proc_exited(proc *p, slot *s, int64_t status, int term_signal)
{
    generation *g = s->gen;
    master *m = g->m;
    char how[64];
    describe_exit(how, sizeof how, status, term_signal);

    if (p->stop_requested || g->retired) {
        /* SIGTERM is what we sent: a worker still opening the store dies of it. */
        if ((term_signal && term_signal != SIGTERM) || status != 0)
            souk_log(SOUK_LOG_WARN, "worker %d (pid %d, generation %u) stopped: %s", p->id, p->pid,
                     p->gen, how);
        else
            souk_log(SOUK_LOG_INFO, "worker %d (pid %d, generation %u) stopped", p->id, p->pid,
                     p->gen);
        if (g->retired && g->live == 0)
            generation_free(g);
        return;
    }

    char reason[SOUK_CONTROL_LINE_MAX + 128];
    if (p->error[0])
        snprintf(reason, sizeof reason, "%s", p->error);
    else
        snprintf(reason, sizeof reason, "worker %d (pid %d) %s%s", p->id, p->pid, how,
                 p->ready ? "" : " before it was ready");
    if (g == m->cur && m->phase == PHASE_STARTING && !p->ready) {
        startup_failed(m, reason);
        return;
    }
    if (g == m->next) {
        reload_failed(m, reason);
        return;
    }

    /* A serving worker died (a plugin crashed, or a respawn could not start). */
    if (now_ms() - p->spawned_ms >= SOUK_RESTART_STABLE_MS)
        s->backoff_ms = SOUK_RESTART_BACKOFF_MIN_MS;
    souk_metrics_worker_restart();
    uint32_t delay = slot_schedule_restart(s);
    if (p->error[0])
        souk_log(SOUK_LOG_ERROR, "worker %d (pid %d) %s: %s; restarting in %u ms", p->id, p->pid,
                 how, p->error, (unsigned)delay);
    else
        souk_log(SOUK_LOG_ERROR, "worker %d (pid %d) %s; restarting in %u ms", p->id, p->pid, how,
                 (unsigned)delay);
}

static void on_proc_exit(uv_process_t *h, int64_t status, int term_signal)
{
    proc *p = h->data;
    /* Lines the worker wrote just before exiting may still be unread: take them now
     * (the socket is non-blocking; its writer is gone) so that its error line is
     * known before deciding what the exit means. */
    if (!p->control_closed) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&p->control, &fd) == 0) {
            char buf[512];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                    control_feed(p, buf, (size_t)n);
        }
        control_close(p);
    }
    uv_close((uv_handle_t *)&p->process, proc_handle_closed);
    slot *s = p->slot;
    p->slot = NULL;
    s->proc = NULL;
    s->gen->live--;
    proc_exited(p, s, status, term_signal);
}

/* ---------------------------------------------------------------- spawning */

/* The environment of a worker: ours, with its id and generation set. */
static char **worker_env(int id, unsigned gen)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t j = 0;
    size_t lid = strlen(SOUK_ENV_WORKER_ID), lgen = strlen(SOUK_ENV_GENERATION);
    for (size_t i = 0; i < n; i++) {
        if ((strncmp(environ[i], SOUK_ENV_WORKER_ID, lid) == 0 && environ[i][lid] == '=') ||
            (strncmp(environ[i], SOUK_ENV_GENERATION, lgen) == 0 && environ[i][lgen] == '='))
            continue;
        env[j++] = environ[i];
    }
    char *a = malloc(lid + 16), *b = malloc(lgen + 16);
    if (!a || !b) {
        free(a);
        free(b);
        free(env);
        return NULL;
    }
    snprintf(a, lid + 16, "%s=%d", SOUK_ENV_WORKER_ID, id);
    snprintf(b, lgen + 16, "%s=%u", SOUK_ENV_GENERATION, gen);
    env[j++] = a;
    env[j++] = b;
    env[j] = NULL;
    return env;
}

static void worker_env_free(char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    free(env[n - 1]); /* the two strings worker_env allocated are last */
    free(env[n - 2]);
    free(env);
}

static int slot_spawn(slot *s, char *err, size_t errlen)
{
    generation *g = s->gen;
    master *m = g->m;
    if (s->proc)
        return 0; /* one process per slot */
    proc *p = calloc(1, sizeof *p);
    char **env = p ? worker_env(s->id, g->num) : NULL;
    if (!env) {
        free(p);
        snprintf(err, errlen, "cannot start worker %d: out of memory", s->id);
        return -1;
    }
    p->id = s->id;
    p->gen = g->num;
    p->process.data = p;
    p->control.data = p;
    uv_pipe_init(&m->loop, &p->control, 0);

    uv_stdio_container_t stdio[SOUK_WORKER_FD_COUNT];
    memset(stdio, 0, sizeof stdio);
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = STDOUT_FILENO;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = STDERR_FILENO;
    stdio[SOUK_WORKER_FD_LISTEN].flags = UV_INHERIT_FD;
    stdio[SOUK_WORKER_FD_LISTEN].data.fd = m->listen_fd;
    stdio[SOUK_WORKER_FD_CONTROL].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE;
    stdio[SOUK_WORKER_FD_CONTROL].data.stream = (uv_stream_t *)&p->control;
    stdio[SOUK_WORKER_FD_METRICS].flags = UV_INHERIT_FD;
    stdio[SOUK_WORKER_FD_METRICS].data.fd = m->metrics_fd;

    /* The config's store_dir is absolute: the worker does not depend on our cwd. */
    char *args[] = {m->exe, "__worker", m->cfg.store_dir ? m->cfg.store_dir : (char *)m->dir, NULL};
    uv_process_options_t opt;
    memset(&opt, 0, sizeof opt);
    opt.exit_cb = on_proc_exit;
    opt.file = m->exe;
    opt.args = args;
    opt.env = env;
    opt.stdio_count = SOUK_WORKER_FD_COUNT;
    opt.stdio = stdio;

    int rc = uv_spawn(&m->loop, &p->process, &opt);
    worker_env_free(env);
    p->open_handles = 2;
    if (rc != 0) {
        snprintf(err, errlen, "cannot start worker %d: %s", s->id, uv_strerror(rc));
        p->control_closed = 1;
        uv_close((uv_handle_t *)&p->control, proc_handle_closed);
        uv_close((uv_handle_t *)&p->process, proc_handle_closed);
        return -1;
    }
    p->pid = p->process.pid;
    p->slot = s;
    p->spawned_ms = now_ms();
    s->proc = p;
    g->live++;
    uv_read_start((uv_stream_t *)&p->control, on_control_alloc, on_control_read);
    souk_log(SOUK_LOG_DEBUG, "worker %d started (pid %d, generation %u)", p->id, p->pid, p->gen);
    return 0;
}

/* A worker that opens its store for longer than limits.startup_timeout_ms (a
 * plugin whose init hangs, a database lock that never clears) is killed: its
 * exit then counts as a failed start, so start-up or a reload fails with a reason
 * instead of waiting forever. */
static void on_start_watch(uv_timer_t *t)
{
    master *m = t->data;
    uint64_t now = now_ms();
    for (generation *g = m->gens; g; g = g->older) {
        if (g->retired)
            continue;
        for (int i = 0; i < g->n; i++) {
            proc *p = g->slots[i].proc;
            if (!p || p->ready || p->start_killed ||
                now - p->spawned_ms < m->cfg.limits.startup_timeout_ms)
                continue;
            p->start_killed = 1;
            snprintf(p->error, sizeof p->error,
                     "worker %d (pid %d) was not ready after %u ms (limits.startup_timeout_ms);"
                     " killed", p->id, p->pid, (unsigned)m->cfg.limits.startup_timeout_ms);
            souk_log(SOUK_LOG_ERROR, "%s", p->error);
            uv_process_kill(&p->process, SIGKILL);
        }
    }
}

/* ---------------------------------------------------------------- signals */

/* Dev mode exposes test controls (outbox, clock); never on a public address
 * unless the operator says so. */
static int dev_allowed(const souk_config *cfg, const char *host, char *err, size_t errlen)
{
    if (!cfg->dev || cfg->force_public || host_is_loopback(host))
        return 1;
    snprintf(err, errlen,
             "dev mode is on and %s is not a loopback address; set "
             "force_public = true in souk.lua to serve dev mode publicly",
             host);
    return 0;
}

static void master_reload(master *m)
{
    if (m->phase == PHASE_STOPPING)
        return;
    if (m->phase == PHASE_STARTING || m->next) {
        souk_log(SOUK_LOG_INFO, "reload: another start is in progress; reloading after it");
        m->reload_pending = 1;
        return;
    }
    char err[512];
    souk_config cfg;
    souk_config_defaults(&cfg);
    if (souk_config_load(&cfg, m->dir, err, sizeof err) != 0) {
        souk_config_free(&cfg);
        souk_log(SOUK_LOG_ERROR, "reload failed: %s; keeping generation %u", err, m->cur->num);
        return;
    }
    apply_overrides(m, &cfg);
    if (strcmp(cfg.listen_host, m->asked_host) != 0 || cfg.listen_port != m->asked_port) {
        char want[300], have[300];
        format_addr(want, sizeof want, cfg.listen_host, cfg.listen_port);
        format_addr(have, sizeof have, m->host, m->port);
        souk_log(SOUK_LOG_WARN, "reload: listen address %s needs a restart; still serving on %s",
                 want, have);
    }
    if (!dev_allowed(&cfg, m->host, err, sizeof err)) {
        souk_config_free(&cfg);
        souk_log(SOUK_LOG_ERROR, "reload failed: %s; keeping generation %u", err, m->cur->num);
        return;
    }
    generation *g = generation_new(m, worker_count(&cfg));
    if (!g) {
        souk_config_free(&cfg);
        souk_log(SOUK_LOG_ERROR, "reload failed: out of memory; keeping generation %u",
                 m->cur->num);
        return;
    }
    m->next_cfg = cfg;
    m->have_next_cfg = 1;
    m->next = g;
    souk_log(SOUK_LOG_INFO, "reload: starting generation %u (%d worker%s)", g->num, g->n,
             g->n == 1 ? "" : "s");
    for (int i = 0; i < g->n; i++) {
        if (slot_spawn(&g->slots[i], err, sizeof err) != 0) {
            reload_failed(m, err);
            return;
        }
    }
}

static void master_stop(master *m, const char *why)
{
    if (m->phase == PHASE_STOPPING) {
        /* A second ^C: the operator does not want to wait for the drain. */
        souk_log(SOUK_LOG_WARN, "%s again: killing the workers now", why);
        for (generation *g = m->gens; g; g = g->older)
            generation_kill(g);
        return;
    }
    m->phase = PHASE_STOPPING;
    uint32_t deadline = drain_deadline(m);
    if (!m->startup_failed)
        souk_log(SOUK_LOG_INFO, "%s: stopping the workers (deadline %u ms)", why,
                 (unsigned)m->cfg.limits.shutdown_timeout_ms);
    generation *cur = m->cur, *next = m->next;
    m->cur = m->next = NULL;
    if (m->have_next_cfg) {
        souk_config_free(&m->next_cfg);
        m->have_next_cfg = 0;
    }
    if (next)
        generation_retire(next, deadline);
    if (cur)
        generation_retire(cur, deadline);
    if (!m->gens)
        master_finish(m);
}

static void on_signal(uv_signal_t *h, int signum)
{
    master *m = h->data;
    if (signum == SIGHUP) {
        souk_log(SOUK_LOG_INFO, "SIGHUP: reloading");
        master_reload(m);
    } else {
        master_stop(m, signum == SIGINT ? "SIGINT" : "SIGTERM");
    }
}

/* ---------------------------------------------------------------- main */

static const char SERVE_USAGE[] =
    "usage: souk serve DIR [--listen ADDR:PORT] [--workers N]\n"
    "\n"
    "Serve the store in DIR: a master process and N worker processes sharing one\n"
    "listening socket.\n"
    "\n"
    "  --listen ADDR:PORT  address to listen on (overrides `listen` in souk.lua and\n"
    "                      SOUK_LISTEN); [ADDR]:PORT for IPv6; port 0 picks a free\n"
    "                      port (the line \"souk: serving http://...\" names it)\n"
    "  --workers N         worker processes (overrides `workers`; 0 = one per core)\n"
    "\n"
    "Signals to the master: SIGHUP reloads (config, plugins, scripts, theme) with new\n"
    "workers and no dropped connection; SIGTERM or SIGINT stops gracefully within\n"
    "limits.shutdown_timeout_ms.  See docs/operations.md.\n";

static int usage_error(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));
static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "souk serve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", SERVE_USAGE);
    return 2;
}

/* "127.0.0.1:8080", "[::1]:0", "localhost:8080" into host and port. */
static int parse_listen(const char *v, char *host, size_t hostcap, int *port)
{
    const char *h = v, *ps;
    size_t hlen;
    if (v[0] == '[') {
        const char *end = strchr(v, ']');
        if (!end || end[1] != ':')
            return -1;
        h = v + 1;
        hlen = (size_t)(end - h);
        ps = end + 2;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon)
            return -1;
        hlen = (size_t)(colon - v);
        if (memchr(v, ':', hlen)) /* IPv6 without brackets: ambiguous */
            return -1;
        ps = colon + 1;
    }
    if (hlen == 0 || hlen >= hostcap)
        return -1;
    if (!*ps || strlen(ps) > 5 || strspn(ps, "0123456789") != strlen(ps))
        return -1;
    long p = strtol(ps, NULL, 10);
    if (p > 65535)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static int parse_workers(const char *v, int *n)
{
    if (!*v || strlen(v) > 4 || strspn(v, "0123456789") != strlen(v))
        return -1;
    long w = strtol(v, NULL, 10);
    if (w > SOUK_MAX_WORKERS)
        return -1;
    *n = (int)w;
    return 0;
}

/* Set up the master; on failure print the reason and return the exit code. */
static int master_start(master *m)
{
    char err[512];
    souk_config_defaults(&m->cfg);
    if (souk_config_load(&m->cfg, m->dir, err, sizeof err) != 0) {
        fprintf(stderr, "souk: %s\n", err);
        return 1;
    }
    apply_overrides(m, &m->cfg);
    souk_log_setup("master", souk_proc_log_level(m->cfg.log_level));
    if (!dev_allowed(&m->cfg, m->cfg.listen_host, err, sizeof err)) {
        fprintf(stderr, "souk: %s\n", err);
        return 1;
    }
    size_t len = sizeof m->exe;
    int rc = uv_exepath(m->exe, &len);
    if (rc != 0) {
        fprintf(stderr, "souk: cannot find the souk executable: %s\n", uv_strerror(rc));
        return 1;
    }
    m->listen_fd =
        souk_listen_socket(m->cfg.listen_host, m->cfg.listen_port, &m->port, err, sizeof err);
    if (m->listen_fd < 0) {
        fprintf(stderr, "souk: %s\n", err);
        return 1;
    }
    /* The wildcard spellings souk_listen_socket accepts, as a URL can show them. */
    const char *shown = m->cfg.listen_host;
    if (!shown[0] || strcmp(shown, "*") == 0)
        shown = "0.0.0.0";
    snprintf(m->host, sizeof m->host, "%s", shown);
    snprintf(m->asked_host, sizeof m->asked_host, "%s", m->cfg.listen_host);
    m->asked_port = m->cfg.listen_port;
    m->metrics_fd = souk_metrics_create();
    if (m->metrics_fd < 0 || souk_metrics_attach(m->metrics_fd) != 0) {
        fprintf(stderr, "souk: cannot create the shared metrics area: %s\n", strerror(errno));
        return 1;
    }
    rc = uv_loop_init(&m->loop);
    if (rc != 0) {
        fprintf(stderr, "souk: cannot start an event loop: %s\n", uv_strerror(rc));
        return 1;
    }
    uv_signal_init(&m->loop, &m->sig_hup);
    uv_signal_init(&m->loop, &m->sig_term);
    uv_signal_init(&m->loop, &m->sig_int);
    m->sig_hup.data = m->sig_term.data = m->sig_int.data = m;
    uv_signal_start(&m->sig_hup, on_signal, SIGHUP);
    uv_signal_start(&m->sig_term, on_signal, SIGTERM);
    uv_signal_start(&m->sig_int, on_signal, SIGINT);
    uv_timer_init(&m->loop, &m->start_watch);
    m->start_watch.data = m;
    uv_timer_start(&m->start_watch, on_start_watch, SOUK_WORKER_START_CHECK_MS,
                   SOUK_WORKER_START_CHECK_MS);
    uv_unref((uv_handle_t *)&m->start_watch);
    return 0;
}

/* Start generation 1 and supervise until the last worker is gone. */
static int master_run(master *m)
{
    generation *g = generation_new(m, worker_count(&m->cfg));
    if (!g) {
        startup_failed(m, "souk: out of memory");
    } else {
        char err[256];
        m->cur = g;
        m->phase = PHASE_STARTING;
        souk_log(SOUK_LOG_DEBUG, "starting %d worker%s (master pid %d)", g->n, g->n == 1 ? "" : "s",
                 (int)getpid());
        if (slot_spawn(&g->slots[0], err, sizeof err) != 0)
            startup_failed(m, err);
    }
    uv_run(&m->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&m->loop) != 0)
        souk_log(SOUK_LOG_WARN, "event loop still busy at exit");
    return m->exit_code;
}

int souk_master_main(int argc, char **argv)
{
    master m;
    memset(&m, 0, sizeof m);
    m.listen_fd = m.metrics_fd = -1;
    m.workers_override = -1;
    /* --help wins wherever it is, even after an option in error. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(SERVE_USAGE, stdout);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int is_listen = strncmp(a, "--listen", 8) == 0 && (a[8] == '\0' || a[8] == '=');
        int is_workers = strncmp(a, "--workers", 9) == 0 && (a[9] == '\0' || a[9] == '=');
        if (is_listen || is_workers) {
            const char *eq = strchr(a, '=');
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return usage_error("%s needs a value", a);
            if (is_listen &&
                parse_listen(val, m.listen_host, sizeof m.listen_host, &m.listen_port) != 0)
                return usage_error("--listen: expected ADDR:PORT (e.g. 127.0.0.1:8080 or "
                                   "[::1]:8080), got '%s'",
                                   val);
            if (is_workers && parse_workers(val, &m.workers_override) != 0)
                return usage_error("--workers: expected a number from 0 (one per core) to "
                                   SOUK_STR(SOUK_MAX_WORKERS) ", got '%s'",
                                   val);
        } else if (a[0] == '-') {
            return usage_error("unknown option '%s'", a);
        } else if (m.dir) {
            return usage_error("unexpected argument '%s'", a);
        } else {
            m.dir = a;
        }
    }
    if (!m.dir)
        return usage_error("%s", "missing the store directory");
    signal(SIGPIPE, SIG_IGN);

    int rc = master_start(&m);
    if (rc == 0)
        rc = master_run(&m);
    if (m.listen_fd >= 0)
        close(m.listen_fd);
    souk_metrics_detach();
    if (m.metrics_fd >= 0)
        close(m.metrics_fd);
    souk_config_free(&m.cfg);
    return rc;
}
