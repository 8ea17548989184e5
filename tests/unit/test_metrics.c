/* test_metrics.c -- the shared metrics area: counts from several processes add up,
 * the Prometheus text is exact, label values are escaped, a full table counts
 * drops instead of losing track. */
#define _GNU_SOURCE
#include "metrics.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh area for each test, attached in this process. */
static int area_open(void)
{
    int fd = souk_metrics_create();
    CHECK(fd >= 0);
    CHECK_INT(souk_metrics_attach(fd), 0);
    return fd;
}

static void area_close(int fd)
{
    souk_metrics_detach();
    close(fd);
}

/* Whether text holds line as one whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, k) == 0)
            n++;
    return n;
}

#define CHECK_LINE(text, line)                                                                     \
    do {                                                                                           \
        if (!has_line((text), (line))) {                                                           \
            fprintf(stderr, "%s:%d: missing line: %s\n", __FILE__, __LINE__, (line));              \
            test_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

enum { FORK_CHILDREN = 2, FORK_ROUTES = 100, FORK_ROUNDS = 1000 };

/* Two children count the same keys at the same time (so they also race to claim
 * the same empty slots); the parent's view must hold the exact sums and exactly
 * one series per key.  The children wait on a pipe so that they start together
 * and their updates really overlap. */
TEST(processes_add_up)
{
    int fd = area_open();
    int gate[2];
    CHECK(pipe(gate) == 0);
    pid_t kids[FORK_CHILDREN];
    for (int c = 0; c < FORK_CHILDREN; c++) {
        kids[c] = fork();
        CHECK(kids[c] >= 0);
        if (kids[c] == 0) {
            close(gate[1]);
            char go;
            if (read(gate[0], &go, 1) != 0) /* EOF: the parent opened the gate */
                _exit(1);
            char route[32];
            for (int round = 0; round < FORK_ROUNDS; round++) {
                for (int r = 0; r < FORK_ROUTES; r++) {
                    snprintf(route, sizeof route, "/r/%d", r);
                    souk_metrics_request(route, "GET", 200, 2.0);
                }
            }
            souk_metrics_worker_restart();
            _exit(0); /* no atexit handlers in the child */
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int c = 0; c < FORK_CHILDREN; c++) {
        int st = 0;
        CHECK(waitpid(kids[c], &st, 0) == kids[c]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    souk_metrics_request("/r/0", "GET", 200, 2.0); /* the parent counts too */

    char *text = souk_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        char want[128];
        snprintf(want, sizeof want,
                 "souk_http_requests_total{route=\"/r/0\",method=\"GET\",status=\"200\"} %d",
                 FORK_CHILDREN * FORK_ROUNDS + 1);
        CHECK_LINE(text, want);
        snprintf(want, sizeof want,
                 "souk_http_requests_total{route=\"/r/99\",method=\"GET\",status=\"200\"} %d",
                 FORK_CHILDREN * FORK_ROUNDS);
        CHECK_LINE(text, want);
        CHECK_INT(count_lines_starting(text, "souk_http_requests_total{"), FORK_ROUTES);
        snprintf(want, sizeof want, "souk_worker_restarts_total %d", FORK_CHILDREN);
        CHECK_LINE(text, want);
        /* 2 ms: above le=0.001, within le=0.0025 */
        snprintf(want, sizeof want,
                 "souk_http_request_duration_seconds_bucket{route=\"/r/5\",method=\"GET\","
                 "le=\"0.0025\"} %d",
                 FORK_CHILDREN * FORK_ROUNDS);
        CHECK_LINE(text, want);
        CHECK_LINE(text, "souk_metrics_dropped_total 0");
    }
    free(text);
    area_close(fd);
}

/* The whole output for a small known set of requests, line by line. */
TEST(render_exact)
{
    int fd = area_open();
    souk_metrics_request("/p/:id", "GET", 200, 3.0);
    souk_metrics_request("/p/:id", "GET", 404, 0.5);
    souk_metrics_request("/p/:id", "GET", 200, 1.0);  /* le is inclusive */
    souk_metrics_request("/p/:id", "GET", 200, 7000); /* beyond 5 s: +Inf */
    souk_metrics_request("static", "HEAD", 304, -1);  /* clamped to 0 */
    size_t len = 0;
    char *text = souk_metrics_render(&len);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK_INT(len, strlen(text));
    /* clang-format off */
    const char *want =
        "# HELP souk_http_requests_total HTTP requests served, by route, method and status.\n"
        "# TYPE souk_http_requests_total counter\n"
        "souk_http_requests_total{route=\"/p/:id\",method=\"GET\",status=\"200\"} 3\n"
        "souk_http_requests_total{route=\"/p/:id\",method=\"GET\",status=\"404\"} 1\n"
        "souk_http_requests_total{route=\"static\",method=\"HEAD\",status=\"304\"} 1\n"
        "# HELP souk_http_request_duration_seconds HTTP request latency, by route and method.\n"
        "# TYPE souk_http_request_duration_seconds histogram\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.001\"} 2\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.0025\"} 2\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.005\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.01\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.025\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.05\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.1\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.25\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"0.5\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"1\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"2.5\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"5\"} 3\n"
        "souk_http_request_duration_seconds_bucket{route=\"/p/:id\",method=\"GET\",le=\"+Inf\"} 4\n"
        "souk_http_request_duration_seconds_sum{route=\"/p/:id\",method=\"GET\"} 7.004500\n"
        "souk_http_request_duration_seconds_count{route=\"/p/:id\",method=\"GET\"} 4\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.001\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.0025\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.005\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.01\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.025\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.05\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.1\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.25\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"0.5\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"1\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"2.5\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"5\"} 1\n"
        "souk_http_request_duration_seconds_bucket{route=\"static\",method=\"HEAD\",le=\"+Inf\"} 1\n"
        "souk_http_request_duration_seconds_sum{route=\"static\",method=\"HEAD\"} 0.000000\n"
        "souk_http_request_duration_seconds_count{route=\"static\",method=\"HEAD\"} 1\n"
        "# HELP souk_worker_restarts_total Workers restarted after they died.\n"
        "# TYPE souk_worker_restarts_total counter\n"
        "souk_worker_restarts_total 0\n"
        "# HELP souk_metrics_dropped_total Requests not counted because the metrics table was full.\n"
        "# TYPE souk_metrics_dropped_total counter\n"
        "souk_metrics_dropped_total 0\n";
    /* clang-format on */
    CHECK_STR(text, want);
    free(text);
    area_close(fd);
}

TEST(label_escaping)
{
    int fd = area_open();
    souk_metrics_request("a\"b\\c\nd", "GET", 500, 1);
    char *text = souk_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_LINE(text, "souk_http_requests_total{route=\"a\\\"b\\\\c\\nd\",method=\"GET\","
                         "status=\"500\"} 1");
        CHECK_LINE(text, "souk_http_request_duration_seconds_count{route=\"a\\\"b\\\\c\\nd\","
                         "method=\"GET\"} 1");
        /* no raw line feed leaked into a sample line */
        CHECK(strstr(text, "\nd\"") == NULL);
    }
    free(text);
    area_close(fd);
}

/* A route label longer than a slot keeps is cut at a character boundary, never in
 * the middle of a UTF-8 sequence. */
TEST(long_label_cut_at_character)
{
    int fd = area_open();
    char route[400];
    size_t n = 0;
    route[n++] = '/'; /* two ASCII bytes put the cut inside a character */
    route[n++] = '/';
    while (n + 2 < sizeof route - 1) {
        route[n++] = (char)0xD0; /* "Ж" */
        route[n++] = (char)0x96;
    }
    route[n] = '\0';
    souk_metrics_request(route, "GET", 200, 1);
    souk_metrics_request(route, "GET", 200, 1); /* same (cut) key: same series */
    char *text = souk_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_INT(count_lines_starting(text, "souk_http_requests_total{"), 1);
        const char *start = strstr(text, "souk_http_requests_total{route=\"");
        CHECK(start != NULL);
        if (start) {
            start += strlen("souk_http_requests_total{route=\"");
            const char *end = strchr(start, '"');
            CHECK(end != NULL && end > start);
            /* cut short, and an even length after the two slashes: whole
             * characters only */
            CHECK(end && (size_t)(end - start) < n);
            CHECK(end && (end - start - 2) % 2 == 0);
            CHECK(end && strncmp(end, "\",method=\"GET\",status=\"200\"} 2\n", 30) == 0);
        }
    }
    free(text);
    area_close(fd);
}

TEST(full_table_drops)
{
    int fd = area_open();
    char route[32];
    for (int i = 0; i < SOUK_METRICS_SLOTS; i++) {
        snprintf(route, sizeof route, "/k/%d", i);
        souk_metrics_request(route, "GET", 200, 1);
    }
    /* three new keys find no room; known keys are still counted */
    souk_metrics_request("/new/1", "GET", 200, 1);
    souk_metrics_request("/new/2", "POST", 201, 1);
    souk_metrics_request("/k/0", "GET", 201, 1);
    souk_metrics_request("/k/7", "GET", 200, 1);
    char *text = souk_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_LINE(text, "souk_metrics_dropped_total 3");
        CHECK_INT(count_lines_starting(text, "souk_http_requests_total{"), SOUK_METRICS_SLOTS);
        CHECK_LINE(text,
                   "souk_http_requests_total{route=\"/k/7\",method=\"GET\",status=\"200\"} 2");
        CHECK(strstr(text, "/new/") == NULL);
    }
    free(text);
    area_close(fd);
}

TEST(not_attached_is_noop)
{
    souk_metrics_request("/x", "GET", 200, 1);
    souk_metrics_worker_restart();
    char *text = souk_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_INT(count_lines_starting(text, "souk_http_requests_total{"), 0);
        CHECK_LINE(text, "souk_worker_restarts_total 0");
        CHECK_LINE(text, "souk_metrics_dropped_total 0");
    }
    free(text);
}

/* attach refuses an fd that is not a metrics area (a stray fd 5 in a worker run by
 * hand), and a second create gives an independent area. */
TEST(attach_checks_the_area)
{
    int other = memfd_create("not-metrics", MFD_CLOEXEC);
    CHECK(other >= 0);
    CHECK_INT(souk_metrics_attach(other), -1); /* empty file */
    CHECK(ftruncate(other, 1 << 20) == 0);
    CHECK_INT(souk_metrics_attach(other), -1); /* big enough, no magic */
    close(other);
    CHECK_INT(souk_metrics_attach(-1), -1);

    int a = area_open();
    souk_metrics_request("/a", "GET", 200, 1);
    int b = souk_metrics_create();
    CHECK(b >= 0);
    CHECK_INT(souk_metrics_attach(b), 0);
    char *text = souk_metrics_render(NULL);
    CHECK(text && strstr(text, "route=\"/a\"") == NULL);
    free(text);
    CHECK_INT(souk_metrics_attach(a), 0);
    text = souk_metrics_render(NULL);
    CHECK(text && has_line(text, "souk_http_requests_total{route=\"/a\",method=\"GET\","
                                 "status=\"200\"} 1"));
    free(text);
    close(b);
    area_close(a);
}

int main(void)
{
    RUN(not_attached_is_noop);
    RUN(processes_add_up);
    RUN(render_exact);
    RUN(label_escaping);
    RUN(long_label_cut_at_character);
    RUN(full_table_drops);
    RUN(attach_checks_the_area);
    return test_report();
}
