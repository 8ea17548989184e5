/* demo.h -- the public header of the demo test plugin: the only thing another
 * plugin may include from it.  The service is looked up with
 *
 *     const demo_v1 *demo = api->service_get(self, DEMO_SERVICE, 1);
 *
 * by a plugin that lists "demo" in its dependencies. */
#ifndef DEMO_H
#define DEMO_H

#include <souk/souk.h>

#define DEMO_SERVICE "demo"
#define DEMO_SERVICE_VERSION 1

/* Events the demo plugin emits.  Payload of both: {"id": <note id>, "text": ...}.
 *   demo.note_added     plain, after a note is inserted (same transaction)
 *   demo.note_deleting  vetoable, before a note is deleted */
#define DEMO_EVENT_NOTE_ADDED "demo.note_added"
#define DEMO_EVENT_NOTE_DELETING "demo.note_deleting"

/* Service "demo", version 1.  Versions are never changed once published: a new
 * function means a new struct (demo_v2) registered next to this one. */
typedef struct demo_v1 {
    /* Number of notes, or -1 on a database error (logged). */
    int (*note_count)(souk_ctx *ctx);
} demo_v1;

#endif
