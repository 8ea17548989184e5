/* static.h -- static file responses (theme assets): safe path resolution, content
 * types, validators (ETag, Last-Modified), 304, caching headers.
 *
 * Text files (css, js, svg, json, txt, html, map) up to SOUK_STATIC_INLINE_MAX bytes
 * are read into the arena and marked compressible, so the server may gzip them;
 * everything else is handed to the server as an open file descriptor and sent
 * with sendfile. */
#ifndef SOUK_STATIC_H
#define SOUK_STATIC_H

#include "arena.h"
#include "http.h"

/* Largest text file read into memory (and so eligible for gzip), bytes. */
#define SOUK_STATIC_INLINE_MAX (1024 * 1024)

/* Serve the file rel (a decoded path relative to root, "css/site.css") from the
 * directory root, which must be absolute and resolved (realpath: the caller resolves
 * it once).  rel may not leave root by any spelling of ".." or by a symbolic
 * link (souk_safe_join_real); directories and anything but
 * regular files are not served.  Fills res (whose headers and body live in the
 * arena a): status, Content-Type, ETag, Last-Modified, Cache-Control
 * (max_age seconds) and either the body (text files) or file_fd/file_size (the
 * server owns and closes file_fd).  A request whose If-None-Match matches the ETag
 * (or, without If-None-Match, whose If-Modified-Since is not older than the file)
 * gets 304 with the validators and no body.  res->route is set to "static".
 * Returns the status set: 200, 304 or 404 (on 404, res has that status and a
 * short text body the caller may replace). */
int souk_static_serve(souk_request *req, souk_response *res, souk_arena *a, const char *root,
                      const char *rel, int max_age);

/* The Content-Type for a file name by its extension ("a.css" -> "text/css;
 * charset=utf-8"); "application/octet-stream" when unknown.  Static storage.
 * *text is set to 1 for the text types that may be inlined and compressed. */
const char *souk_static_content_type(const char *name, int *text);

#endif
