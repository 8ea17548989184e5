/* fuzz_request.c -- arbitrary bytes through the request parser (reqparse), cut into
 * pieces of pseudo-random sizes, with small limits so that every limit is reached
 * often.  The first input byte seeds the cuts, so an input always replays the same
 * way.  Checked on every request: the invariants the rest of the core relies on. */
#include "reqparse.h"

#include <stdint.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* Largest piece handed to the parser at once. */
#define FUZZ_MAX_PIECE 64

static uint32_t next_cut(uint32_t *state)
{
    uint32_t x = *state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void check_request(const souk_request *r, const souk_limits *lim)
{
    FUZZ_CHECK(r->method && r->target && r->path && r->query && r->body);
    FUZZ_CHECK(strlen(r->target) <= lim->url_size);
    FUZZ_CHECK(r->path[0] == '/' || strcmp(r->path, "*") == 0);
    FUZZ_CHECK(r->http_major == 1 && (r->http_minor == 0 || r->http_minor == 1));
    FUZZ_CHECK(r->n_headers >= 0 && r->n_headers <= lim->max_headers);
    for (int i = 0; i < r->n_headers; i++)
        FUZZ_CHECK(r->headers[i].name[0] != '\0' && r->headers[i].value != NULL);
    FUZZ_CHECK(r->body_len <= lim->body_size);
    FUZZ_CHECK(r->body[r->body_len] == '\0');
    FUZZ_CHECK(r->id[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    souk_limits lim = {0};
    lim.header_size = 512;
    lim.url_size = 128;
    lim.max_headers = 8;
    lim.body_size = 256;
    uint32_t cut = 0x9E3779B9u ^ data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1, off = 0;
    souk_reqparse *p = souk_reqparse_new(&lim);
    int done = 0;
    while (off < len && !done) {
        size_t piece = 1 + next_cut(&cut) % FUZZ_MAX_PIECE;
        size_t end = off + piece < len ? off + piece : len;
        int stalls = 0;
        while (off < end && !done) {
            size_t used = 0;
            souk_reqparse_event ev = souk_reqparse_feed(p, in + off, end - off, &used);
            FUZZ_CHECK(used <= end - off);
            off += used;
            stalls = used ? 0 : stalls + 1;
            FUZZ_CHECK(stalls < 3); /* some progress every few calls */
            switch (ev) {
            case SOUK_REQPARSE_REQUEST: {
                souk_request *r = souk_reqparse_request(p);
                FUZZ_CHECK(r != NULL);
                check_request(r, &lim);
                int keep = r->keep_alive;
                souk_reqparse_next(p);
                FUZZ_CHECK(souk_reqparse_get_phase(p) == SOUK_REQPARSE_IDLE);
                done = !keep; /* the server closes here */
                break;
            }
            case SOUK_REQPARSE_CONTINUE:
                FUZZ_CHECK(souk_reqparse_get_phase(p) == SOUK_REQPARSE_BODY);
                break;
            case SOUK_REQPARSE_ERROR: {
                int st = souk_reqparse_error_status(p);
                FUZZ_CHECK(st == 400 || st == 413 || st == 414 || st == 417 || st == 431 ||
                           st == 501 || st == 505);
                FUZZ_CHECK(souk_reqparse_error_message(p)[0] != '\0');
                done = 1;
                break;
            }
            case SOUK_REQPARSE_MORE:
                FUZZ_CHECK(off == end); /* MORE means everything was taken */
                break;
            }
        }
    }
    souk_reqparse_free(p);
    return 0;
}
