/* outbox_cmd.c -- `souk outbox DIR [--to ADDR] [--last] [--json]`: the messages
 * of the outbox, oldest first, so that a developer (or a test) can read what
 * was sent -- a one-time code above all -- without any mail server. */
#include "notify_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: souk outbox DIR [--to ADDR] [--last] [--json]\n"
    "\n"
    "Print the messages of the store's outbox (the notify plugin), oldest first:\n"
    "id, time, channel, recipient, state, then the subject and body.\n"
    "\n"
    "  --to ADDR   only messages to this email address or phone number (E.164)\n"
    "  --last      only the newest message (exit 1 when there is none)\n"
    "  --json      a JSON array of objects instead of text\n"
    "  --help      this text\n";

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "souk outbox: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

/* ISO 8601 UTC with milliseconds. */
static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

enum {
    C_ID,
    C_CREATED,
    C_CHANNEL,
    C_TO,
    C_MESSAGE,
    C_LOCALE,
    C_STATE,
    C_TRANSPORT,
    C_ATTEMPTS,
    C_SUBJECT,
    C_BODY,
    C_ERROR,
    C_SENT,
    C_NEXT
};

static const char *text_of(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static json_t *row_json(sqlite3_stmt *st)
{
    char created[32], sent[32];
    iso_time(sqlite3_column_int64(st, C_CREATED), created);
    int has_sent = sqlite3_column_type(st, C_SENT) != SQLITE_NULL;
    if (has_sent)
        iso_time(sqlite3_column_int64(st, C_SENT), sent);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:s?, s:s, s:s?, s:s?}", "id",
                     (json_int_t)sqlite3_column_int64(st, C_ID), "created_at", created, "channel",
                     text_of(st, C_CHANNEL), "to", text_of(st, C_TO), "message",
                     text_of(st, C_MESSAGE), "locale", text_of(st, C_LOCALE), "state",
                     text_of(st, C_STATE), "transport", text_of(st, C_TRANSPORT), "attempts",
                     sqlite3_column_int(st, C_ATTEMPTS), "subject", text_of(st, C_SUBJECT), "body",
                     text_of(st, C_BODY), "last_error", text_of(st, C_ERROR), "sent_at",
                     has_sent ? sent : NULL);
}

static void print_row(sqlite3_stmt *st)
{
    char created[32], next[32];
    iso_time(sqlite3_column_int64(st, C_CREATED), created);
    const char *state = text_of(st, C_STATE);
    const char *transport = text_of(st, C_TRANSPORT);
    int attempts = sqlite3_column_int(st, C_ATTEMPTS);
    const char *error = text_of(st, C_ERROR);
    printf("#%lld  %s  %s  %s  %s", (long long)sqlite3_column_int64(st, C_ID), created,
           text_of(st, C_CHANNEL), text_of(st, C_TO), state);
    if (strcmp(state, "sent") == 0 && transport)
        printf(" (%s)", transport);
    if (strcmp(state, "queued") == 0 && attempts > 0) {
        iso_time(sqlite3_column_int64(st, C_NEXT), next);
        printf(" (%d attempt%s, next %s)", attempts, attempts == 1 ? "" : "s", next);
    }
    if (strcmp(state, "failed") == 0)
        printf(" (after %d attempt%s)", attempts, attempts == 1 ? "" : "s");
    printf("  %s/%s\n", text_of(st, C_MESSAGE), text_of(st, C_LOCALE));
    if (error && strcmp(state, "sent") != 0)
        printf("Error: %s\n", error);
    if (text_of(st, C_SUBJECT))
        printf("Subject: %s\n", text_of(st, C_SUBJECT));
    printf("\n%s\n\n", text_of(st, C_BODY));
}

int notify_cmd_outbox(souk_ctx *ctx, int argc, char **argv)
{
    const char *to = NULL;
    int last = 0, as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--to") == 0) {
            if (i + 1 >= argc || !*argv[i + 1])
                return bad_usage("%s needs an address", a);
            to = argv[++i];
        } else if (strncmp(a, "--to=", 5) == 0 && a[5]) {
            to = a + 5;
        } else if (strcmp(a, "--last") == 0) {
            last = 1;
        } else if (strcmp(a, "--json") == 0) {
            as_json = 1;
        } else {
            return bad_usage("unknown argument '%s'", a);
        }
    }
    /* Newest last; with --last the one newest row. */
    const char *sql = notify_api->format(
        ctx,
        "SELECT id, created_at, channel, recipient, message, locale, state, transport,"
        " attempts, subject, body, last_error, sent_at, next_attempt_at FROM ("
        "SELECT * FROM notify_outbox %s ORDER BY id DESC %s) ORDER BY id",
        to ? "WHERE recipient = ?1" : "", last ? "LIMIT 1" : "");
    sqlite3_stmt *st = notify_api->db_prepare(ctx, sql);
    if (!st) {
        fprintf(stderr, "souk outbox: cannot read the outbox (is the notify plugin migrated?)\n");
        return 1;
    }
    if (to)
        sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    json_t *list = as_json ? json_array() : NULL;
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (list)
            json_array_append_new(list, row_json(st));
        else
            print_row(st);
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "souk outbox: %s\n", sqlite3_errmsg(notify_api->db(ctx)));
        json_decref(list);
        return 1;
    }
    if (list) {
        char *s = json_dumps(list, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
        json_decref(list);
    }
    if (last && rows == 0) {
        fprintf(stderr, "souk outbox: no messages%s%s\n", to ? " to " : "", to ? to : "");
        return 1;
    }
    return 0;
}
