/* import_pickup.c -- pickup points from an import (the JSON pickup_points
 * section): upserts by code, with the point's entry in the R*Tree
 * (catalog_pickup_rtree, the same id, a box of zero size) kept in step so that
 * the nearest-point search finds it.  Like every record, an unchanged point is
 * not written. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

enum { PP_SEL, PP_INS, PP_UPD, PP_RTREE, PP_COUNT };
_Static_assert(PP_COUNT == CATALOG_IMPORT_PICKUP_STATEMENTS, "import.h sizes the array");

static const char *const PP_SQL[PP_COUNT] = {
    [PP_SEL] = ("SELECT id, name_ru, name_en, address_ru, address_en, hours, lat, lon "
                "FROM catalog_pickup_points WHERE code = ?1"),
    [PP_INS] = ("INSERT INTO catalog_pickup_points(code, name_ru, name_en, address_ru, "
                "address_en, hours, lat, lon) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
    [PP_UPD] = ("UPDATE catalog_pickup_points SET name_ru = ?2, name_en = ?3, address_ru = ?4, "
                "address_en = ?5, hours = ?6, lat = ?7, lon = ?8 WHERE id = ?1"),
    [PP_RTREE] = ("INSERT OR REPLACE INTO catalog_pickup_rtree(id, min_lat, max_lat, min_lon, "
                  "max_lon) VALUES(?1, ?2, ?2, ?3, ?3)"),
};

/* The statements, prepared with the first point (most imports have none). */
static int prepare(catalog_import *im)
{
    if (im->pickup_st[0])
        return SOUK_OK;
    for (int i = 0; i < PP_COUNT; i++)
        if (!(im->pickup_st[i] = catalog_api->db_prepare(im->ctx, PP_SQL[i]))) {
            catalog_import_fatal(im, 0, "cannot prepare the pickup point statements");
            return SOUK_ERR;
        }
    return SOUK_OK;
}

/* Upsert one point: SOUK_OK, 1 when the record was refused (reported), SOUK_ERR
 * for a failure of the store. */
static int pickup_write(catalog_import *im, catalog_import_pickup *pp)
{
    sqlite3_stmt **st = im->pickup_st;
    int seen = catalog_import_seen_add(im->seen_pickups, pp->code, pp->line);
    if (seen < 0)
        return SOUK_ERR;
    if (seen > 0) {
        catalog_import_error(im, pp->line, "code: pickup point '%s' is already defined on line %d",
                             pp->code, seen);
        return 1;
    }
    sqlite3_stmt *sel = st[PP_SEL];
    sqlite3_bind_text(sel, 1, pp->code, -1, SQLITE_STATIC);
    int found = sqlite3_step(sel);
    char *cur[5] = {NULL};
    double lat = 0, lon = 0;
    int64_t id = 0;
    if (found == SQLITE_ROW) {
        id = sqlite3_column_int64(sel, 0);
        for (int i = 0; i < 5; i++)
            cur[i] = strdup(catalog_import_column_text(sel, 1 + i));
        lat = sqlite3_column_double(sel, 6);
        lon = sqlite3_column_double(sel, 7);
    }
    sqlite3_reset(sel);
    sqlite3_clear_bindings(sel);
    if (found != SQLITE_ROW && found != SQLITE_DONE) {
        catalog_import_fatal(im, pp->line, "reading pickup points: %s",
                             catalog_import_db_message(im));
        return SOUK_ERR;
    }
    int is_new = found == SQLITE_DONE, changed = 0, rc = SOUK_OK;
    catalog_import_text *texts[5] = {&pp->name_ru, &pp->name_en, &pp->address_ru, &pp->address_en,
                                     &pp->hours};
    for (int i = 0; i < 5; i++)
        changed |= catalog_import_apply_text(&cur[i], texts[i], is_new);
    if (is_new) {
        for (int i = 0; i < 4; i += 2) { /* a locale without a text takes the other's */
            if (!cur[i] && cur[i + 1])
                cur[i] = strdup(cur[i + 1]);
            if (!cur[i + 1] && cur[i])
                cur[i + 1] = strdup(cur[i]);
        }
        const char *why = !cur[0]   ? "name_ru, name_en: a new pickup point needs a name"
                          : !cur[2] ? "address_ru, address_en: a new pickup point needs an address"
                          : !pp->has_coords ? "lat, lon: a new pickup point needs coordinates"
                                            : NULL;
        if (why) {
            catalog_import_error(im, pp->line, "%s", why);
            rc = 1;
            goto out;
        }
    }
    if (pp->has_coords && (is_new || pp->lat != lat || pp->lon != lon)) {
        lat = pp->lat, lon = pp->lon;
        changed = 1;
    }
    if (!is_new && !changed) {
        im->pickups.unchanged++;
        goto out;
    }
    sqlite3_stmt *up = st[is_new ? PP_INS : PP_UPD];
    if (is_new)
        sqlite3_bind_text(up, 1, pp->code, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(up, 1, id);
    for (int i = 0; i < 5; i++)
        sqlite3_bind_text(up, 2 + i, cur[i] ? cur[i] : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(up, 7, lat);
    sqlite3_bind_double(up, 8, lon);
    int src = catalog_import_step(up);
    if (src == SQLITE_DONE && is_new)
        id = sqlite3_last_insert_rowid(catalog_api->db(im->ctx));
    if (src == SQLITE_DONE) {
        sqlite3_stmt *rt = st[PP_RTREE];
        sqlite3_bind_int64(rt, 1, id);
        sqlite3_bind_double(rt, 2, lat);
        sqlite3_bind_double(rt, 3, lon);
        src = catalog_import_step(rt);
    }
    if (src != SQLITE_DONE) {
        if (catalog_import_refused(src)) {
            catalog_import_error(im, pp->line, "the store refused pickup point '%s': %s", pp->code,
                                 catalog_import_db_message(im));
            rc = 1;
        } else {
            catalog_import_fatal(im, pp->line, "writing pickup points: %s",
                                 catalog_import_db_message(im));
            rc = SOUK_ERR;
        }
        goto out;
    }
    if (is_new)
        im->pickups.created++;
    else
        im->pickups.updated++;
out:
    for (int i = 0; i < 5; i++)
        free(cur[i]);
    return rc;
}

int catalog_import_write_pickup(catalog_import *im, catalog_import_pickup *pp)
{
    int rc = im->fatal || prepare(im) != SOUK_OK ? SOUK_ERR : pickup_write(im, pp);
    if (rc == 1) {
        im->bad_rows++;
        rc = SOUK_OK;
    }
    im->rows++;
    catalog_import_pickup_free(pp);
    catalog_import_progress(im);
    return rc;
}
