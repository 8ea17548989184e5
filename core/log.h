/* log.h -- the process log: one line per event on stderr, logfmt style
 *   ts=2026-11-29T19:30:46.123Z level=info pid=1234 src=master msg="..." key=value
 * and the access log (one structured line per request). */
#ifndef SOUK_LOG_H
#define SOUK_LOG_H

#include <stdarg.h>
#include <stddef.h>


/* Set the source tag ("master", "worker.3", "cli") and the least level printed. */
void souk_log_setup(const char *source, int min_level);
/* Log a message.  fmt is printf-style; the result is quoted as msg="...". */
void souk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void souk_logv(int level, const char *tag, const char *fmt, va_list ap);
/* Like souk_log with an extra tag=... field (a plugin name). */
void souk_log_tag(int level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Format an error message into err[errlen] (the "char *err, size_t errlen" pair
 * that fallible functions take).  NULL err or errlen 0: nothing is written. */
void souk_errorf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write one preformatted line as is (access log).  line has no newline. */
void souk_log_raw(const char *line);

#endif
