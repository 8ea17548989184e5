/* pickup.c -- pickup points: the list, and the nearest ones to a coordinate.
 *
 * Nearest N: the R*Tree (catalog_pickup_rtree, one degenerate box per point)
 * narrows the points to a bounding box around the shopper, grown until it holds
 * at least N; great-circle distance then ranks those candidates.  A box that
 * holds N points does not yet prove they are the N nearest (a point just outside
 * an edge can be nearer than one in a corner), so when the N-th candidate is
 * farther than the radius the box was built for, the box is rebuilt for that
 * distance and the ranking repeated: every point within it is then inside.
 *
 * GET /pickup-points, /api/v1/pickup-points [?near=LAT,LON [&limit=N]]
 *   {"pickup_points": [pickup], "near": {"lat", "lon", "text"} or null,
 *    "limit": N or null} */
#include "catalog_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PICKUP_EARTH_RADIUS_M 6371008.8 /* mean Earth radius (IUGG) */
#define PICKUP_FIRST_RADIUS_M 2000.0    /* the first box: 2 km around the point */
#define PICKUP_RADIUS_GROWTH 4.0        /* each further box: 4 times wider */
#define PICKUP_BOX_MARGIN_M 1.0         /* slack for rounding when a box is rebuilt */
#define PICKUP_LIMIT_MAX 50             /* ?limit= at most */
#define PICKUP_NEAR_TEXT_MAX 64         /* bytes of ?near= */
#define PICKUP_METRES_PER_KM 1000

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double deg2rad(double d) { return d * M_PI / 180.0; }
static double rad2deg(double r) { return r * 180.0 / M_PI; }

double catalog_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = deg2rad(lat1), p2 = deg2rad(lat2);
    double dp = p2 - p1, dl = deg2rad(lon2 - lon1);
    double s1 = sin(dp / 2), s2 = sin(dl / 2);
    double a = s1 * s1 + cos(p1) * cos(p2) * s2 * s2;
    /* Rounding can push a a hair outside [0, 1] for antipodal points. */
    if (a < 0)
        a = 0;
    if (a > 1)
        a = 1;
    return 2 * PICKUP_EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1 - a));
}

/* The smallest latitude/longitude box that contains every point within radius_m
 * of (lat, lon).  When the circle reaches a pole or crosses the 180th meridian
 * the box spans every longitude (rare for shops, and still correct). */
typedef struct { double min_lat, max_lat, min_lon, max_lon; int world; } pickup_box;

static pickup_box pickup_box_around(double lat, double lon, double radius_m)
{
    pickup_box b = {-90, 90, -180, 180, 1};
    double ang = radius_m / PICKUP_EARTH_RADIUS_M; /* angular radius, radians */
    if (ang >= M_PI)
        return b;
    double dlat = rad2deg(ang);
    b.min_lat = lat - dlat;
    b.max_lat = lat + dlat;
    if (b.min_lat <= -90 || b.max_lat >= 90) {
        if (b.min_lat < -90)
            b.min_lat = -90;
        if (b.max_lat > 90)
            b.max_lat = 90;
        b.world = b.min_lat == -90 && b.max_lat == 90;
        return b;
    }
    /* Widest longitude reached by the circle (at the tangent points, not at the
     * centre's latitude): asin(sin(ang) / cos(lat)). */
    double r = sin(ang) / cos(deg2rad(lat));
    double dlon = r >= 1 ? 180 : rad2deg(asin(r));
    b.min_lon = lon - dlon;
    b.max_lon = lon + dlon;
    if (b.min_lon < -180 || b.max_lon > 180) {
        b.min_lon = -180;
        b.max_lon = 180;
    }
    b.world = 0;
    return b;
}

/* "850 м" / "1,2 км" (ru), "850 m" / "1.2 km" (en): rounded, for pages. */
static const char *pickup_distance_text(souk_ctx *ctx, double d, const char *lang)
{
    int ru = strcmp(lang, "ru") == 0;
    long long m = llround(d);
    if (m < PICKUP_METRES_PER_KM)
        return catalog_api->format(ctx, "%lld\xC2\xA0%s", m, ru ? "м" : "m");
    /* Tenths of a kilometre, rounded, in integers. */
    long long tenths = (m + PICKUP_METRES_PER_KM / 20) / (PICKUP_METRES_PER_KM / 10);
    return catalog_api->format(ctx, "%lld%s%lld\xC2\xA0%s", tenths / 10, ru ? "," : ".",
                               tenths % 10, ru ? "км" : "km");
}

/* The pickup shape of the current row of st: columns code, name, address, hours,
 * lat, lon (yours). */
static json_t *pickup_row(sqlite3_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}",
                     "code", (const char *)sqlite3_column_text(st, 0),
                     "name", (const char *)sqlite3_column_text(st, 1),
                     "address", (const char *)sqlite3_column_text(st, 2),
                     "hours", (const char *)sqlite3_column_text(st, 3),
                     "lat", sqlite3_column_double(st, 4),
                     "lon", sqlite3_column_double(st, 5));
}

typedef struct {
    double d;
    json_t *point; /* yours until moved into the result */
} pickup_candidate;

static int pickup_candidate_cmp(const void *a, const void *b)
{
    const pickup_candidate *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    /* Equal distances: by code, so the order never depends on the R*Tree's. */
    return strcmp(json_string_value(json_object_get(x->point, "code")),
                  json_string_value(json_object_get(y->point, "code")));
}

static void pickup_candidates_free(pickup_candidate *c, int n)
{
    for (int i = 0; i < n; i++)
        json_decref(c[i].point);
    free(c);
}

/* Every point in box b with its distance to (lat, lon), nearest first.  Returns the
 * count (>= 0) with *out (malloc'ed; pickup_candidates_free), or -1. */
static int pickup_in_box(souk_ctx *ctx, pickup_box b, double lat, double lon,
                         pickup_candidate **out)
{
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, catalog_api->format(ctx,
                                 "SELECT p.code, p.name_%s, p.address_%s, p.hours, p.lat, p.lon"
                                 " FROM catalog_pickup_rtree r"
                                 " JOIN catalog_pickup_points p ON p.id = r.id"
                                 " WHERE r.min_lat <= ?2 AND r.max_lat >= ?1"
                                 " AND r.min_lon <= ?4 AND r.max_lon >= ?3",
                                 lang, lang));
    if (!st)
        return -1;
    sqlite3_bind_double(st, 1, b.min_lat);
    sqlite3_bind_double(st, 2, b.max_lat);
    sqlite3_bind_double(st, 3, b.min_lon);
    sqlite3_bind_double(st, 4, b.max_lon);
    int n = 0, cap = 0, rc;
    pickup_candidate *c = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            pickup_candidate *g = realloc(c, (size_t)cap * sizeof *c);
            if (!g) {
                pickup_candidates_free(c, n);
                return -1;
            }
            c = g;
        }
        c[n].point = pickup_row(st);
        c[n].d = catalog_distance_m(lat, lon, sqlite3_column_double(st, 4),
                                    sqlite3_column_double(st, 5));
        n++;
    }
    if (rc != SQLITE_DONE) {
        pickup_candidates_free(c, n);
        return -1;
    }
    if (n > 1)
        qsort(c, (size_t)n, sizeof *c, pickup_candidate_cmp);
    *out = c;
    return n;
}

/* Number of points in box b, or -1. */
static int pickup_count_box(souk_ctx *ctx, pickup_box b)
{
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT count(*) FROM catalog_pickup_rtree r"
             " JOIN catalog_pickup_points p ON p.id = r.id"
             " WHERE r.min_lat <= ?2 AND r.max_lat >= ?1 AND r.min_lon <= ?4 AND r.max_lon >= ?3");
    if (!st)
        return -1;
    sqlite3_bind_double(st, 1, b.min_lat);
    sqlite3_bind_double(st, 2, b.max_lat);
    sqlite3_bind_double(st, 3, b.min_lon);
    sqlite3_bind_double(st, 4, b.max_lon);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

static json_t *pickup_nearest(souk_ctx *ctx, double lat, double lon, int want)
{
    /* Grow the box until it holds enough points (or is the whole world). */
    double radius = PICKUP_FIRST_RADIUS_M;
    pickup_box b;
    int count;
    for (;;) {
        b = pickup_box_around(lat, lon, radius);
        if ((count = pickup_count_box(ctx, b)) < 0)
            return NULL;
        if (count >= want || b.world)
            break;
        radius *= PICKUP_RADIUS_GROWTH;
    }
    pickup_candidate *c = NULL;
    int n = pickup_in_box(ctx, b, lat, lon, &c);
    if (n < 0)
        return NULL;
    /* The box is only known to contain every point within radius: if the want-th
     * candidate is farther, a nearer point may lie outside it. */
    if (n >= want && !b.world && c[want - 1].d > radius) {
        /* The box for that distance contains the old one, so still >= want. */
        b = pickup_box_around(lat, lon, c[want - 1].d + PICKUP_BOX_MARGIN_M);
        pickup_candidates_free(c, n);
        c = NULL;
        if ((n = pickup_in_box(ctx, b, lat, lon, &c)) < 0)
            return NULL;
    }
    json_t *list = json_array();
    const char *lang = catalog_lang(ctx);
    for (int i = 0; i < n && i < want; i++) {
        json_object_set_new(c[i].point, "distance_m", json_integer(llround(c[i].d)));
        json_object_set_new(c[i].point, "distance_text",
                            json_string(pickup_distance_text(ctx, c[i].d, lang)));
        json_array_append(list, c[i].point);
    }
    pickup_candidates_free(c, n);
    return list;
}

json_t *catalog_pickup_list(souk_ctx *ctx, int near, double lat, double lon, int n)
{
    if (near)
        return pickup_nearest(ctx, lat, lon, n > 0 ? n : CATALOG_NEAREST_DEFAULT);
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, catalog_api->format(ctx,
                                 "SELECT code, name_%s, address_%s, hours, lat, lon"
                                 " FROM catalog_pickup_points ORDER BY name_%s, code",
                                 lang, lang, lang));
    if (!st)
        return NULL;
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, pickup_row(st));
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* One decimal number at *p: [+-]digits[.digits], nothing else (no exponent, hex,
 * "nan" or "inf", which strtod would take).  Advances *p; 0 when malformed. */
static int pickup_number(const char **p, double *out)
{
    const char *s = *p, *start = s;
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    char buf[PICKUP_NEAR_TEXT_MAX + 1];
    size_t n = (size_t)(s - start);
    if (n > PICKUP_NEAR_TEXT_MAX)
        return 0;
    memcpy(buf, start, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    *p = s;
    return 1;
}

static const char *pickup_skip_spaces(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

/* "LAT,LON" (spaces allowed around the comma) into *lat, *lon.  Returns NULL, or
 * what is wrong with the text (a static message). */
static const char *pickup_parse_near(const char *text, double *lat, double *lon)
{
    if (strlen(text) > PICKUP_NEAR_TEXT_MAX)
        return "near is too long: expected LAT,LON such as 55.7558,37.6173";
    const char *p = pickup_skip_spaces(text);
    if (!pickup_number(&p, lat))
        return "near must be LAT,LON in decimal degrees, such as 55.7558,37.6173";
    p = pickup_skip_spaces(p);
    if (*p++ != ',')
        return "near must be LAT,LON in decimal degrees, such as 55.7558,37.6173";
    p = pickup_skip_spaces(p);
    if (!pickup_number(&p, lon) || *pickup_skip_spaces(p) != '\0')
        return "near must be LAT,LON in decimal degrees, such as 55.7558,37.6173";
    if (*lat < -90 || *lat > 90)
        return "the latitude in near must be between -90 and 90";
    if (*lon < -180 || *lon > 180)
        return "the longitude in near must be between -180 and 180";
    return NULL;
}

/* ?limit=: 1..PICKUP_LIMIT_MAX, digits only.  -1 when malformed. */
static int pickup_parse_limit(const char *text)
{
    int v = 0;
    if (!*text)
        return -1;
    for (const char *s = text; *s; s++) {
        if (!isdigit((unsigned char)*s) || v > PICKUP_LIMIT_MAX)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v >= 1 && v <= PICKUP_LIMIT_MAX ? v : -1;
}

int catalog_h_pickup_points(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    const char *near_text = api->req_query(ctx, "near");
    const char *limit_text = api->req_query(ctx, "limit");
    /* An empty field (a form sent without a place) means "no place", as absent. */
    int near = near_text && *pickup_skip_spaces(near_text);
    double lat = 0, lon = 0;
    int limit = CATALOG_NEAREST_DEFAULT;
    if (near) {
        const char *why = pickup_parse_near(near_text, &lat, &lon);
        if (why)
            return api->res_error(ctx, 400, "invalid", why, "near");
    }
    if (limit_text && *limit_text) {
        limit = pickup_parse_limit(limit_text);
        if (limit < 0)
            return api->res_error(
                ctx, 400, "invalid",
                api->format(ctx, "limit must be a whole number from 1 to %d", PICKUP_LIMIT_MAX),
                "limit");
    }
    json_t *list = catalog_pickup_list(ctx, near, lat, lon, limit);
    if (!list)
        return api->res_error(ctx, 500, "db", "cannot read the pickup points", NULL);
    json_t *view = api->view(ctx);
    json_object_set_new(view, "pickup_points", list);
    if (near) {
        json_object_set_new(view, "near",
                            json_pack("{s:f, s:f, s:s}", "lat", lat, "lon", lon, "text",
                                      api->format(ctx, "%s", pickup_skip_spaces(near_text))));
        json_object_set_new(view, "limit", json_integer(limit));
    } else {
        json_object_set_new(view, "near", json_null());
        json_object_set_new(view, "limit", json_null());
    }
    catalog_cache(ctx);
    return SOUK_OK;
}
