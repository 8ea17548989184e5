/* test_catalog_money.c -- the catalog's pure helpers: money text (money.c), and
 * great-circle distance, search boxes and the ?near= parser (pickup.c).  The
 * plugin sources are compiled into this test directly; the few host functions
 * they use come from a small table backed by the core's arena. */
#include "test.h"

#include "../../plugins/catalog/money.c"
#include "../../plugins/catalog/pickup.c"

#include "arena.h"

#include <stdarg.h>

const souk_host_api *catalog_api;
souk_plugin *catalog_self;

static souk_arena arena;

static char *fake_dup(souk_ctx *ctx, const char *s) { return souk_arena_strdup(&arena, s); }

static char *fake_format(souk_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = souk_arena_vprintf(&arena, fmt, ap);
    va_end(ap);
    return s;
}

static const char *test_lang = "ru";
const char *catalog_lang(souk_ctx *ctx) { return test_lang; }

static const char *ru(int64_t amount, const char *currency)
{
    return catalog_money_text(NULL, amount, currency, "ru");
}

static const char *en(int64_t amount, const char *currency)
{
    return catalog_money_text(NULL, amount, currency, "en");
}

TEST(money_ru)
{
    CHECK_STR(ru(199000, "RUB"), "1\u202f990\u00a0₽");
    CHECK_STR(ru(199050, "RUB"), "1\u202f990,50\u00a0₽");
    CHECK_STR(ru(199005, "RUB"), "1\u202f990,05\u00a0₽");
    CHECK_STR(ru(0, "RUB"), "0\u00a0₽");
    CHECK_STR(ru(5, "RUB"), "0,05\u00a0₽");
    CHECK_STR(ru(99900, "RUB"), "999\u00a0₽");
    CHECK_STR(ru(100000, "RUB"), "1\u202f000\u00a0₽");
    CHECK_STR(ru(100000000, "RUB"), "1\u202f000\u202f000\u00a0₽");
    CHECK_STR(ru(-50000, "RUB"), "\u2212" "500\u00a0₽");
    CHECK_STR(ru(-1, "RUB"), "\u2212" "0,01\u00a0₽");
    CHECK_STR(ru(1299, "USD"), "12,99\u00a0USD");
    CHECK_STR(ru(1990, "JPY"), "1\u202f990\u00a0JPY");
    CHECK_STR(ru(1234, "KWD"), "1,234\u00a0KWD");
    CHECK_STR(ru(100, NULL), "1\u00a0₽");
}

TEST(money_en)
{
    CHECK_STR(en(199000, "RUB"), "RUB\u00a01,990");
    CHECK_STR(en(199050, "RUB"), "RUB\u00a01,990.50");
    CHECK_STR(en(-50000, "RUB"), "\u2212RUB\u00a0500");
    CHECK_STR(en(1299, "USD"), "USD\u00a012.99");
    CHECK_STR(en(123456789, "EUR"), "EUR\u00a01,234,567.89");
    CHECK_STR(en(1990, "JPY"), "JPY\u00a01,990");
    CHECK_STR(en(1001, "BHD"), "BHD\u00a01.001");
    /* any language but ru reads the English way */
    CHECK_STR(catalog_money_text(NULL, 100, "RUB", "de"), "RUB\u00a01");
}

TEST(money_extremes)
{
    /* -INT64_MIN does not fit in int64_t: the magnitude must still be right. */
    CHECK_STR(ru(INT64_MIN, "RUB"),
              "\u2212" "92\u202f233\u202f720\u202f368\u202f547\u202f758,08\u00a0₽");
    CHECK_STR(en(INT64_MAX, "RUB"), "RUB\u00a092,233,720,368,547,758.07");
    CHECK_STR(en(INT64_MIN, "JPY"), "\u2212JPY\u00a09,223,372,036,854,775,808");
}

/* The point distance_m from (lat, lon) on the bearing (degrees), by the direct
 * great-circle formula -- independent of the code under test. */
static void destination(double lat, double lon, double bearing, double distance_m,
                        double *olat, double *olon)
{
    double d = distance_m / PICKUP_EARTH_RADIUS_M, b = deg2rad(bearing);
    double p1 = deg2rad(lat), l1 = deg2rad(lon);
    double p2 = asin(sin(p1) * cos(d) + cos(p1) * sin(d) * cos(b));
    double l2 = l1 + atan2(sin(b) * sin(d) * cos(p1), cos(d) - sin(p1) * sin(p2));
    *olat = rad2deg(p2);
    *olon = rad2deg(l2);
}

static int near_eq(double a, double b, double tol) { return fabs(a - b) <= tol; }

TEST(distance)
{
    CHECK(catalog_distance_m(55.75, 37.62, 55.75, 37.62) == 0);
    /* one degree of the equator, and half the Earth */
    CHECK(near_eq(catalog_distance_m(0, 0, 0, 1), PICKUP_EARTH_RADIUS_M * M_PI / 180, 1e-6));
    CHECK(near_eq(catalog_distance_m(0, 0, 0, 180), PICKUP_EARTH_RADIUS_M * M_PI, 1e-3));
    CHECK(near_eq(catalog_distance_m(90, 0, -90, 0), PICKUP_EARTH_RADIUS_M * M_PI, 1e-3));
    /* Red Square to Nevsky Prospect: about 634 km, the same both ways */
    double d = catalog_distance_m(55.7539, 37.6208, 59.9343, 30.3351);
    CHECK(d > 633000 && d < 636000);
    CHECK(near_eq(d, catalog_distance_m(59.9343, 30.3351, 55.7539, 37.6208), 1e-6));
    /* across the 180th meridian it is short, not half the world */
    CHECK(catalog_distance_m(0, 179.9, 0, -179.9) < 23000);
    /* the direct formula and the distance agree */
    double lat, lon;
    destination(55.75, 37.62, 30, 12345, &lat, &lon);
    CHECK(near_eq(catalog_distance_m(55.75, 37.62, lat, lon), 12345, 0.01));
}

static int in_box(pickup_box b, double lat, double lon)
{
    return lat >= b.min_lat && lat <= b.max_lat && lon >= b.min_lon && lon <= b.max_lon;
}

TEST(box_contains_the_circle)
{
    static const double centres[][2] = {{55.75, 37.62}, {0, 0}, {-33.9, 18.4}, {69.0, 33.1},
                                        {-54.8, -68.3}};
    static const double radii[] = {100, 2000, 50000, 1000000};
    for (size_t c = 0; c < sizeof centres / sizeof *centres; c++) {
        for (size_t r = 0; r < sizeof radii / sizeof *radii; r++) {
            pickup_box b = pickup_box_around(centres[c][0], centres[c][1], radii[r]);
            for (int bearing = 0; bearing < 360; bearing += 5) {
                double lat, lon;
                destination(centres[c][0], centres[c][1], bearing, radii[r] * 0.999999, &lat,
                            &lon);
                if (!in_box(b, lat, lon)) {
                    fprintf(stderr, "centre %g,%g radius %g bearing %d: %g,%g outside\n",
                            centres[c][0], centres[c][1], radii[r], bearing, lat, lon);
                    CHECK(0);
                }
            }
            /* and it is not much larger than needed along the meridian */
            CHECK(b.max_lat - centres[c][0] < rad2deg(radii[r] / PICKUP_EARTH_RADIUS_M) * 1.0001);
        }
    }
}

TEST(box_edges)
{
    pickup_box b = pickup_box_around(89.99, 10, 5000); /* reaches the pole */
    CHECK(b.min_lon == -180 && b.max_lon == 180 && b.max_lat == 90 && !b.world);
    b = pickup_box_around(0, 179.99, 5000); /* crosses the 180th meridian */
    CHECK(b.min_lon == -180 && b.max_lon == 180);
    b = pickup_box_around(10, 10, PICKUP_EARTH_RADIUS_M * M_PI); /* half the Earth */
    CHECK(b.world);
    b = pickup_box_around(10, 10, 2000);
    CHECK(!b.world && b.min_lon > 9.9 && b.max_lon < 10.1);
}

TEST(parse_near)
{
    double lat, lon;
    CHECK(pickup_parse_near("55.7539,37.6208", &lat, &lon) == NULL);
    CHECK(lat == 55.7539 && lon == 37.6208);
    CHECK(pickup_parse_near(" -33.9 , +18 ", &lat, &lon) == NULL);
    CHECK(lat == -33.9 && lon == 18);
    CHECK(pickup_parse_near("90,180", &lat, &lon) == NULL);
    CHECK(pickup_parse_near("-90,-180", &lat, &lon) == NULL);
    static const char *bad[] = {"", "55", "55,", ",37", "55.,37", ".5,37", "55,37,1", "nan,0",
                                "0,inf", "1e1,0", "0x1,0", "55;37", "90.0001,0", "0,-180.5",
                                "5 5,37", "55,37x",
                                "1111111111111111111111111111111111111111111111111111111111111111,1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (pickup_parse_near(bad[i], &lat, &lon) == NULL) {
            fprintf(stderr, "accepted: '%s'\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK(strstr(pickup_parse_near("91,0", &lat, &lon), "latitude"));
    CHECK(strstr(pickup_parse_near("0,181", &lat, &lon), "longitude"));
}

TEST(parse_limit)
{
    CHECK_INT(pickup_parse_limit("1"), 1);
    CHECK_INT(pickup_parse_limit("50"), PICKUP_LIMIT_MAX);
    CHECK_INT(pickup_parse_limit("007"), 7);
    CHECK_INT(pickup_parse_limit("0"), -1);
    CHECK_INT(pickup_parse_limit("51"), -1);
    CHECK_INT(pickup_parse_limit("-1"), -1);
    CHECK_INT(pickup_parse_limit(""), -1);
    CHECK_INT(pickup_parse_limit("99999999999999999999999"), -1);
}

TEST(distance_text)
{
    test_lang = "ru";
    CHECK_STR(pickup_distance_text(NULL, 849.6, "ru"), "850\u00a0м");
    CHECK_STR(pickup_distance_text(NULL, 999.4, "ru"), "999\u00a0м");
    CHECK_STR(pickup_distance_text(NULL, 1249, "ru"), "1,2\u00a0км");
    CHECK_STR(pickup_distance_text(NULL, 1250, "en"), "1.3\u00a0km");
    CHECK_STR(pickup_distance_text(NULL, 634012, "en"), "634.0\u00a0km");
}

int main(void)
{
    static souk_host_api api;
    api.dup = fake_dup;
    api.format = fake_format;
    catalog_api = &api;
    souk_arena_init(&arena, 4096);
    RUN(money_ru);
    RUN(money_en);
    RUN(money_extremes);
    RUN(distance);
    RUN(box_contains_the_circle);
    RUN(box_edges);
    RUN(parse_near);
    RUN(parse_limit);
    RUN(distance_text);
    souk_arena_free(&arena);
    return test_report();
}
