/* log.c -- see log.h. */
#include "log.h"

#include <souk/souk.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_source[32] = "souk";
static int log_min = SOUK_LOG_INFO;

static const char *level_name(int level)
{
    switch (level) {
    case SOUK_LOG_DEBUG: return "debug";
    case SOUK_LOG_INFO: return "info";
    case SOUK_LOG_WARN: return "warn";
    default: return "error";
    }
}

void souk_log_setup(const char *source, int min_level)
{
    snprintf(log_source, sizeof log_source, "%s", source);
    log_min = min_level;
}

void souk_logv(int level, const char *tag, const char *fmt, va_list ap)
{
    if (level < log_min)
        return;
    char msg[2048], line[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Quote the message: escape backslash, quote and control characters so that a
     * line stays one line whatever a plugin or a client put into it. */
    char q[4096];
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && j + 5 < sizeof q; p++) {
        if (*p == '"' || *p == '\\') {
            q[j++] = '\\';
            q[j++] = (char)*p;
        } else if (*p < 0x20) {
            j += (size_t)snprintf(q + j, sizeof q - j, "\\x%02x", *p);
        } else {
            q[j++] = (char)*p;
        }
    }
    q[j] = '\0';
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line, sizeof line, "ts=%s.%03dZ level=%s pid=%d src=%s%s%s msg=\"%s\"\n",
                     ts, (int)(tv.tv_usec / 1000), level_name(level), (int)getpid(),
                     log_source, tag ? " plugin=" : "", tag ? tag : "", q);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    /* One write() per line so that lines of several processes never interleave. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void souk_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    souk_logv(level, NULL, fmt, ap);
    va_end(ap);
}

void souk_log_tag(int level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    souk_logv(level, tag, fmt, ap);
    va_end(ap);
}

void souk_log_raw(const char *line)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (n > (int)sizeof buf - 1) {
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w;
}

void souk_errorf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
