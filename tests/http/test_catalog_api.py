"""Black-box tests of the catalog's JSON API and page view models: home, category
tree, product, pickup points (nearest ordering included), both locales, 404s for
unknown or hidden products and categories, 400s naming the parameter, and a
failing pricing script (503, never a guessed price).

The store is seeded with SQL through Python's sqlite3 after `souk migrate`, with
a small pricing.lua of known rules, so that every expected number is written out
here."""
import math
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

NNBSP = "\u202f"   # thousands separator (ru)
NBSP = "\u00a0"    # before the currency sign (ru) / after the code (en)
MINUS = "\u2212"

# Known rules: every price below follows from them.
#   brand Tefal              -10% of the base            rule "tefal"
#   sku KA-2                 -600 RUB                    rule "ka2"
#   category path kitchen>kettles  -10 RUB               rule "kettles"
#   root category garden     +10 RUB                     rule "garden"
PRICING_LUA = r'''
local M = {}
function M.price(items, customer, context)
  local out = souk.array()
  for i, item in ipairs(items) do
    local adj = souk.array()
    local price = item.variant.price
    local function add(amount, rule, label)
      adj[#adj + 1] = { label = label, amount = amount, rule = rule }
      price = price + amount
    end
    local path = item.product.category_path
    if item.product.brand == "Tefal" then
      add(-(item.variant.price // 10), "tefal", context.locale == "en" and "Tefal -10%" or "Тефаль -10%")
    end
    if item.variant.sku == "KA-2" then add(-60000, "ka2", "promo") end
    if #path == 2 and path[1] == "kitchen" and path[2] == "kettles" and item.product.category == "kettles" then
      add(-1000, "kettles", "kettles")
    end
    if path[1] == "garden" then add(1000, "garden", "garden fee") end
    out[i] = { price = price, adjustments = adj }
  end
  return out
end
return M
'''

# Names each variant's options in an adjustment of nothing: what the script sees.
OPTIONS_LUA = r'''
local M = {}
function M.price(items, customer, context)
  local out = souk.array()
  for i, item in ipairs(items) do
    local label = ""
    for k, v in pairs(item.variant.options) do label = label .. k .. "=" .. v end
    out[i] = { price = item.variant.price,
               adjustments = label ~= "" and { { label = label, amount = 0, rule = "opts" } }
                             or souk.array() }
  end
  return out
end
return M
'''

BROKEN_LUA = r'''
local M = {}
function M.price(items, customer, context)
  error("rule table is broken")
end
return M
'''

CATEGORIES = [
    # id, slug, parent, position, ru, en
    (1, "kitchen", None, 1, "Кухня", "Kitchen"),
    (2, "kettles", 1, 1, "Чайники", "Kettles"),
    (3, "pans", 1, 2, "Сковороды", "Pans"),
    (4, "garden", None, 2, "Сад", "Garden"),
    (5, "empty", None, 3, "Пустая", "Empty"),
]

PRODUCTS = [
    # id, slug, category, brand, ru, en, status, featured, created_at, images, description_ru
    (1, "kettle-a", 2, "Bosch", "Чайник А", "Kettle A", "active", 1, 1000,
     '["catalog/kettle-a.svg"]', "<p>Хороший <b>чайник</b></p>"),
    (2, "kettle-b", 2, "Acme", "Чайник Б", "Kettle B", "active", 0, 2000, "[]", ""),
    (3, "pan-a", 3, "Tefal", "Сковорода", "Pan", "active", 0, 3000,
     '["javascript:alert(1)", "/media/catalog/pan.svg", "https://cdn.example.com/pan.jpg"]', ""),
    (4, "draft-x", 3, "Tefal", "Черновик", "Draft", "draft", 1, 9000, "[]", ""),
    (5, "archived-y", 4, "Acme", "Архив", "Archived", "archived", 1, 9001, "[]", ""),
    (6, "hose", 4, "Acme", "Шланг", "Hose", "active", 0, 4000, "[]", ""),
]

# Stored attributes: one text per product, or one object per locale (the demo
# catalog's form).
ATTRIBUTES = {
    "pan-a": '{"diameter": 24, "induction": true, "colours": ["red", "black"]}',
    "hose": '{"ru": {"длина": "20 м"}, "en": {"length": "20 m", "hose": "PVC"}}',
}

VARIANTS = [
    # product, sku, options (Russian), options_en ('{}': not translated), position,
    # price, stock
    (1, "KA-1", '{"цвет": "белый"}', '{"colour": "white"}', 1, 199000, 5),
    (1, "KA-2", '{"цвет": "чёрный"}', '{"colour": "black"}', 2, 249050, 0),
    (2, "KB-1", '{}', '{}', 1, 99000, 0),
    (3, "PA-1", '{"size": "24", "cover": "glass"}', '{}', 1, 150000, 2),
    (4, "DX-1", '{}', '{}', 1, 100, 1),
    (5, "AY-1", '{}', '{}', 1, 100, 1),
    (6, "H-1", '{}', '{"length": "20 m"}', 1, 50000, 1),
]

RED_SQUARE = (55.7539, 37.6208)
M_PER_DEG = 6371008.8 * math.pi / 180


def offset(lat, lon, north_m, east_m):
    return (lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))))


# A point 1.9 km north and 1.9 km east of (10, 10) lies inside the first search
# box (2 km) but 2.69 km away; one 2.2 km due north lies outside that box and is
# nearer: the nearest-point search must find the second.
CORNER = offset(10.0, 10.0, 1900, 1900)
EDGE = offset(10.0, 10.0, 2200, 0)

PICKUP = [
    # code, ru, en, address_ru, address_en, hours, lat, lon
    ("MSK-1", "Манежная", "Manezhnaya", "Москва, Манежная пл., 1", "Moscow, 1 Manezhnaya Sq",
     "10-22", 55.7558, 37.6173),
    ("MSK-2", "Никольская", "Nikolskaya", "Москва, Никольская ул., 10", "Moscow, 10 Nikolskaya St",
     "10-22", 55.7600, 37.6200),
    ("MSK-3", "Шаболовка", "Shabolovka", "Москва, Шаболовка, 5", "Moscow, 5 Shabolovka",
     "9-21", 55.7000, 37.6000),
    ("SPB-1", "Невский", "Nevsky", "Санкт-Петербург, Невский пр., 28", "St Petersburg, 28 Nevsky Ave",
     "10-22", 59.9343, 30.3351),
    ("KZN-1", "Баумана", "Baumana", "Казань, ул. Баумана, 1", "Kazan, 1 Baumana St",
     "10-20", 55.7961, 49.1064),
    ("EQ-CORNER", "Угол", "Corner", "-", "-", "", CORNER[0], CORNER[1]),
    ("EQ-EDGE", "Край", "Edge", "-", "-", "", EDGE[0], EDGE[1]),
]


def haversine(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def seed(db_path):
    db = sqlite3.connect(db_path)
    with db:
        for c in CATEGORIES:
            db.execute("INSERT INTO catalog_categories(id, slug, parent_id, position, name_ru, name_en)"
                       " VALUES(?,?,?,?,?,?)", c)
        for (pid, slug, cat, brand, ru, en, status, featured, created, images, desc) in PRODUCTS:
            db.execute("INSERT INTO catalog_products(id, slug, category_id, brand, title_ru, title_en,"
                       " description_ru, description_en, attributes, images, status, featured,"
                       " created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (pid, slug, cat, brand, ru, en, desc, desc.replace("Хороший", "Good"),
                        ATTRIBUTES.get(slug, '{"power": "2200 W"}'), images, status, featured,
                        created, created))
        for (pid, slug, cat, brand, ru, en, status, *_rest) in PRODUCTS:
            # What index.c writes for a product (it leaves out the inactive ones;
            # the draft's row here checks that the suggestions filter them too).
            db.execute("INSERT INTO catalog_suggest(rowid, title_ru, title_en) VALUES(?,?,?)",
                       (pid, ru, en))
        for (pid, sku, options, options_en, pos, price, stock) in VARIANTS:
            db.execute("INSERT INTO catalog_variants(product_id, sku, options, options_en,"
                       " position, price, currency, stock) VALUES(?,?,?,?,?,?, 'RUB', ?)",
                       (pid, sku, options, options_en, pos, price, stock))
        for i, (code, ru, en, aru, aen, hours, lat, lon) in enumerate(PICKUP, 1):
            db.execute("INSERT INTO catalog_pickup_points(id, code, name_ru, name_en, address_ru,"
                       " address_en, hours, lat, lon) VALUES(?,?,?,?,?,?,?,?,?)",
                       (i, code, ru, en, aru, aen, hours, lat, lon))
            db.execute("INSERT INTO catalog_pickup_rtree(id, min_lat, max_lat, min_lon, max_lon)"
                       " VALUES(?,?,?,?,?)", (i, lat, lat, lon, lon))
    db.close()


CONFIG = {"plugins": ["catalog"], "locale": "ru", "locales": ["ru", "en"]}


def prepare(store, pricing=PRICING_LUA):
    sh.use_pricing(store, pricing)
    sh.migrate(store)
    seed(store.path("data/souk.db"))


SHOP = sh.Served(CONFIG, prepare=prepare, workers=1)
server = SHOP.server


def running_with(pricing):
    """A store of its own with another pricing.lua, served for a with block:
    (store, server)."""
    return sh.running(CONFIG, lambda store: prepare(store, pricing), workers=1)


def get(path):
    return server().get_json(path)


def money_ru(n):
    major, minor = divmod(abs(n), 100)
    s = f"{major:,}".replace(",", NNBSP)
    if minor:
        s += f",{minor:02d}"
    return (MINUS if n < 0 else "") + s + NBSP + "₽"


def money_en(n):
    major, minor = divmod(abs(n), 100)
    s = f"{major:,}"
    if minor:
        s += f".{minor:02d}"
    return (MINUS if n < 0 else "") + "RUB" + NBSP + s


def check_error(status, body, want_status, field=None, code=None):
    st.eq(status, want_status, f"status of {body}")
    err = body["error"]
    st.check(err["message"], "an error message")
    if field is not None:
        st.eq(err["field"], field, "error field")
    if code is not None:
        st.eq(err["code"], code, "error code")


# ---------------------------------------------------------------- categories

def test_categories_tree_and_counts():
    status, body = get("/api/v1/categories")
    st.eq(status, 200)
    roots = body["categories"]
    st.eq([c["slug"] for c in roots], ["kitchen", "garden", "empty"], "roots by position")
    kitchen = roots[0]
    st.eq(kitchen["name"], "Кухня")
    st.eq(kitchen["url"], "/c/kitchen")
    st.eq(kitchen["parent"], None)
    st.eq(kitchen["position"], 1)
    # kettle-a, kettle-b, pan-a; the draft in pans does not count.
    st.eq(kitchen["count"], 3, "kitchen counts descendants, active only")
    st.eq([(c["slug"], c["count"], c["parent"]) for c in kitchen["children"]],
          [("kettles", 2, "kitchen"), ("pans", 1, "kitchen")])
    st.eq(kitchen["children"][0]["children"], [])
    st.eq(roots[1]["count"], 1, "garden: the archived product does not count")
    st.eq(roots[2]["count"], 0)


def test_categories_in_english():
    status, body = get("/api/v1/categories?lang=en")
    st.eq(status, 200)
    st.eq([c["name"] for c in body["categories"]], ["Kitchen", "Garden", "Empty"])
    st.eq(body["categories"][0]["children"][1]["name"], "Pans")


# ---------------------------------------------------------------------- home

def test_home_view():
    status, body = get("/")
    st.eq(status, 200)
    st.eq([c["slug"] for c in body["categories"]], ["kitchen", "garden", "empty"])
    st.eq(len(body["categories"][0]["children"]), 2, "top-level categories come with children")
    # featured first (kettle-a), then newest first; drafts and archived never.
    st.eq([c["slug"] for c in body["featured"]], ["kettle-a", "hose", "pan-a", "kettle-b"])


def test_card_shape_and_cheapest_displayed_price():
    status, body = get("/")
    st.eq(status, 200)
    card = body["featured"][0]
    for key in ("slug", "title", "brand", "url", "category", "image", "in_stock",
                "variants_count", "price", "price_from"):
        st.check(key in card, f"card has {key}: {card}")
    st.eq(card["title"], "Чайник А")
    st.eq(card["brand"], "Bosch")
    st.eq(card["url"], "/p/kettle-a")
    st.eq(card["category"], {"slug": "kettles", "name": "Чайники", "url": "/c/kettles"})
    st.eq(card["image"], "/media/catalog/kettle-a.svg", "a bare image name lives under /media/")
    st.eq(card["in_stock"], True)
    st.eq(card["variants_count"], 2)
    # KA-1: 1990.00 - 10 = 1980.00; KA-2: 2490.50 - 600 - 10 = 1880.50 -> cheaper as
    # displayed although its base price is higher.
    price = card["price"]
    st.eq(price["amount"], 188050, "the cheapest variant as displayed")
    st.eq(price["base"], 249050)
    st.eq(price["currency"], "RUB")
    st.eq(price["amount_text"], money_ru(188050))
    st.eq(price["amount_text"], "1\u202f880,50\u00a0₽")
    st.eq(price["discounted"], True)
    st.eq([a["rule"] for a in price["adjustments"]], ["ka2", "kettles"])
    st.eq(price["adjustments"][0]["amount_text"], MINUS + "600" + NBSP + "₽")
    st.eq(card["price_from"], True, "variants have different prices")
    kettle_b = [c for c in body["featured"] if c["slug"] == "kettle-b"][0]
    st.eq(kettle_b["in_stock"], False, "no variant in stock")
    st.eq(kettle_b["price_from"], False)
    st.eq(kettle_b["image"], None)


def test_home_in_english():
    status, body = get("/?lang=en")
    st.eq(status, 200)
    card = body["featured"][0]
    st.eq(card["title"], "Kettle A")
    st.eq(card["category"]["name"], "Kettles")
    st.eq(card["price"]["amount_text"], "RUB\u00a01,880.50")
    st.eq(card["price"]["base_text"], money_en(249050))
    hose = [c for c in body["featured"] if c["slug"] == "hose"][0]
    st.eq(hose["price"]["amount_text"], money_en(51000), "whole roubles: no decimals")


# ------------------------------------------------------------------- product

def test_product_view():
    status, body = get("/api/v1/products/kettle-a")
    st.eq(status, 200)
    p = body["product"]
    st.eq(p["slug"], "kettle-a")
    st.eq(p["status"], "active")
    st.eq(p["created_at"], 1000)
    st.eq(p["description_html"], "<p>Хороший <b>чайник</b></p>")
    st.eq(p["attributes"], {"power": "2200 W"})
    st.eq(p["attribute_list"], [{"name": "power", "value": "2200 W"}])
    st.eq(p["images"], ["/media/catalog/kettle-a.svg"])
    st.eq(p["category_path"], [
        {"slug": "kitchen", "name": "Кухня", "url": "/c/kitchen"},
        {"slug": "kettles", "name": "Чайники", "url": "/c/kettles"}])
    st.eq([v["sku"] for v in p["variants"]], ["KA-1", "KA-2"], "variants by position")
    ka1, ka2 = p["variants"]
    st.eq(ka1["options"], {"цвет": "белый"})
    st.eq(ka1["options_text"], "белый")
    st.eq(ka1["stock"], 5)
    st.eq(ka1["in_stock"], True)
    st.eq(ka1["price"]["amount"], 198000)
    st.eq(ka1["price"]["amount_text"], "1\u202f980\u00a0₽", "no kopecks when they are zero")
    st.eq(ka2["in_stock"], False)
    st.eq(ka2["price"]["amount"], 188050)
    st.eq(p["price"]["amount"], 188050)
    # the page extras
    st.eq(body["title"], "Чайник А")
    st.eq(body["breadcrumbs"], [
        {"name": "Кухня", "url": "/c/kitchen", "current": False},
        {"name": "Чайники", "url": "/c/kettles", "current": False},
        {"name": "Чайник А", "url": "/p/kettle-a", "current": True}])
    codes = [pp["code"] for pp in body["pickup_points"]]
    st.eq(sorted(codes), sorted(x[0] for x in PICKUP), "every pickup point")


def test_product_page_model_is_the_api_model():
    s1, api = get("/api/v1/products/pan-a")
    s2, page = get("/p/pan-a")   # Accept: application/json on the page's route
    st.eq((s1, s2), (200, 200))
    st.eq(page, api)


def test_product_images_and_options():
    status, body = get("/api/v1/products/pan-a?lang=en")
    st.eq(status, 200)
    p = body["product"]
    st.eq(p["images"], ["/media/catalog/pan.svg", "https://cdn.example.com/pan.jpg"],
          "a javascript: URL is never an image")
    st.eq(p["image"], "/media/catalog/pan.svg")
    st.eq(p["variants"][0]["options_text"], "24 / glass", "not translated: the stored options")
    # Tefal: 1500.00 - 150.00
    st.eq(p["price"]["amount"], 135000)
    st.eq(p["price"]["adjustments"], [
        {"label": "Tefal -10%", "amount": -15000, "amount_text": MINUS + "RUB" + NBSP + "150",
         "rule": "tefal"}])
    st.eq(p["price_from"], False)
    st.eq(body["title"], "Pan")
    st.eq(body["pickup_points"][0]["name"] in ("Baumana", "Corner"), True, "names in English, sorted")


def test_variant_options_per_locale():
    status, body = get("/api/v1/products/kettle-a?lang=en")
    st.eq(status, 200)
    ka1, ka2 = body["product"]["variants"]
    st.eq(ka1["options"], {"colour": "white"})
    st.eq(ka1["options_text"], "white")
    st.eq(ka2["options_text"], "black")
    # only options_en given: a Russian page shows those rather than nothing
    for lang in ("ru", "en"):
        status, body = get(f"/api/v1/products/hose?lang={lang}")
        st.eq(body["product"]["variants"][0]["options"], {"length": "20 m"}, lang)
    # the service's variant in the request's locale is what pricing.lua sees too
    with running_with(OPTIONS_LUA) as (_, srv):
        for lang, want in (("ru", "цвет=белый"), ("en", "colour=white")):
            status, body = srv.get_json(f"/api/v1/products/kettle-a?lang={lang}")
            st.eq(status, 200, lang)
            labels = [a["label"] for a in body["product"]["variants"][0]["price"]["adjustments"]]
            st.eq(labels, [want], lang)


def test_product_attributes_per_locale_and_as_text():
    status, body = get("/api/v1/products/hose")
    st.eq(body["product"]["attributes"], {"длина": "20 м"})
    st.eq(body["product"]["attribute_list"], [{"name": "длина", "value": "20 м"}])
    status, body = get("/api/v1/products/hose?lang=en")
    st.eq(body["product"]["attribute_list"], [{"name": "length", "value": "20 m"},
                                              {"name": "hose", "value": "PVC"}])
    status, body = get("/api/v1/products/pan-a")
    st.eq(body["product"]["attribute_list"], [{"name": "diameter", "value": "24"},
                                              {"name": "induction", "value": "да"},
                                              {"name": "colours", "value": "red, black"}])


def test_product_category_path_reaches_the_script():
    status, body = get("/api/v1/products/hose")
    st.eq(status, 200)
    st.eq(body["product"]["price"]["amount"], 51000, "garden fee from category_path[1]")
    st.eq(body["product"]["price"]["adjustments"][0]["rule"], "garden")


def test_unknown_and_hidden_products_404():
    for slug in ("nope", "draft-x", "archived-y"):
        for path in (f"/api/v1/products/{slug}", f"/p/{slug}"):
            status, body = get(path)
            check_error(status, body, 404, code="not_found")
            st.check(slug in body["error"]["message"], f"the message names {slug}: {body}")
    status, body = get("/api/v1/products/" + "x" * 300)
    check_error(status, body, 404)
    st.check(len(body["error"]["message"]) < 200, "a long slug is cut in the message")


def test_product_404_page_is_html():
    status, headers, data = server().request("GET", "/p/nope", headers={"Accept": "text/html"})
    st.eq(status, 404)
    st.check(headers["content-type"].startswith("text/html"), headers["content-type"])


# --------------------------------------------------------------- pickup points

def test_pickup_list_by_name():
    status, body = get("/api/v1/pickup-points")
    st.eq(status, 200)
    names = [p["name"] for p in body["pickup_points"]]
    st.eq(names, sorted(names), "by name")
    st.eq(len(names), len(PICKUP))
    st.eq(body["near"], None)
    first = [p for p in body["pickup_points"] if p["code"] == "MSK-1"][0]
    st.eq(first, {"code": "MSK-1", "name": "Манежная", "address": "Москва, Манежная пл., 1",
                  "hours": "10-22", "lat": 55.7558, "lon": 37.6173})
    status, body = get("/api/v1/pickup-points?lang=en")
    st.eq([p["name"] for p in body["pickup_points"]][:2], ["Baumana", "Corner"])


def test_pickup_nearest_ordering_and_distances():
    lat, lon = RED_SQUARE
    status, body = get(f"/api/v1/pickup-points?near={lat},{lon}&limit=5")
    st.eq(status, 200)
    points = body["pickup_points"]
    expected = sorted(PICKUP, key=lambda p: haversine(RED_SQUARE, (p[6], p[7])))[:5]
    st.eq([p["code"] for p in points], [p[0] for p in expected])
    st.eq([p["code"] for p in points], ["MSK-1", "MSK-2", "MSK-3", "SPB-1", "KZN-1"])
    for got, want in zip(points, expected):
        d = haversine(RED_SQUARE, (want[6], want[7]))
        st.check(abs(got["distance_m"] - d) <= 1, f"{got['code']}: {got['distance_m']} vs {d:.1f}")
    st.eq(points[0]["distance_text"], f"{round(haversine(RED_SQUARE, (55.7558, 37.6173)))}\u00a0м")
    st.check(points[3]["distance_text"].endswith("\u00a0км"), points[3]["distance_text"])
    st.check("," in points[3]["distance_text"], points[3]["distance_text"])
    st.eq(body["near"]["lat"], lat)
    st.eq(body["near"]["lon"], lon)
    st.eq(body["limit"], 5)


def test_pickup_nearest_default_limit_and_english():
    status, body = get("/api/v1/pickup-points?near=55.7539,37.6208&lang=en")
    st.eq(status, 200)
    st.eq(len(body["pickup_points"]), 5, "CATALOG_NEAREST_DEFAULT")
    st.eq(body["pickup_points"][0]["name"], "Manezhnaya")
    st.check(body["pickup_points"][0]["distance_text"].endswith("\u00a0m"))
    st.check(body["pickup_points"][4]["distance_text"].endswith("\u00a0km"))


def test_pickup_nearest_looks_past_the_first_box():
    status, body = get("/api/v1/pickup-points?near=10,10&limit=1")
    st.eq(status, 200)
    st.eq([p["code"] for p in body["pickup_points"]], ["EQ-EDGE"],
          "the point 2.2 km away beats the one in the box's corner (2.69 km)")
    status, body = get("/api/v1/pickup-points?near=10,10&limit=2")
    st.eq([p["code"] for p in body["pickup_points"]], ["EQ-EDGE", "EQ-CORNER"])
    st.check(abs(body["pickup_points"][1]["distance_m"] - haversine((10, 10), CORNER)) <= 1)


def test_pickup_far_from_everything_and_limit_above_count():
    status, body = get("/api/v1/pickup-points?near=-60,-120&limit=50")
    st.eq(status, 200)
    st.eq(len(body["pickup_points"]), len(PICKUP), "the box grows to the whole world")
    d = [p["distance_m"] for p in body["pickup_points"]]
    st.eq(d, sorted(d))


def test_pickup_bad_parameters_400():
    bad_near = ["abc", "55.7", "55.7,", ",37.6", "91,0", "-90.5,0", "0,180.01", "0,-181",
                "55.7,37.6,1", "nan,0", "inf,0", "1e1,2", "0x10,1", "55,7;37,6", "1" * 100]
    for v in bad_near:
        status, body = get("/api/v1/pickup-points?near=" + v.replace(";", "%3B"))
        check_error(status, body, 400, field="near")
    for v in ["0", "51", "abc", "-1", "2.5", "99999999999999999999"]:
        status, body = get("/api/v1/pickup-points?near=55,37&limit=" + v)
        check_error(status, body, 400, field="limit")
    # spaces around the comma and signs are fine; an empty near is "no place"
    status, body = get("/api/v1/pickup-points?near=%2B55.75%20,%20%2B37.62")
    st.eq(status, 200)
    status, body = get("/api/v1/pickup-points?near=")
    st.eq(status, 200)
    st.eq(body["near"], None)


def test_pickup_page_model():
    status, body = get("/pickup-points?near=55.7539,37.6208&limit=2")
    st.eq(status, 200)
    st.eq([p["code"] for p in body["pickup_points"]], ["MSK-1", "MSK-2"])
    st.eq(body["near"]["text"], "55.7539,37.6208")


# ------------------------------------------------------------------- listings

def test_category_listing_extras():
    status, body = get("/c/kettles")
    st.eq(status, 200)
    cat = body["category"]
    st.eq(cat["slug"], "kettles")
    st.eq(cat["count"], 2)
    st.eq(cat["parent"], "kitchen")
    st.eq(cat["path"], [{"slug": "kitchen", "name": "Кухня", "url": "/c/kitchen"},
                        {"slug": "kettles", "name": "Чайники", "url": "/c/kettles"}])
    st.eq(body["title"], "Чайники")
    st.eq(body["breadcrumbs"][-1], {"name": "Чайники", "url": "/c/kettles", "current": True})
    st.eq(body["breadcrumbs"][0]["current"], False)
    st.eq(sorted(i["slug"] for i in body["items"]), ["kettle-a", "kettle-b"])
    status, body = get("/c/kitchen?lang=en")
    st.eq(status, 200)
    st.eq(body["category"]["name"], "Kitchen")
    st.eq([c["slug"] for c in body["category"]["children"]], ["kettles", "pans"])
    slugs = sorted(i["slug"] for i in body["items"])
    st.eq(slugs, ["kettle-a", "kettle-b", "pan-a"], "descendants included, the draft never")


def test_unknown_category_404():
    for path in ("/c/nope", "/c/nope?page=abc"):
        status, body = get(path)
        check_error(status, body, 404, code="not_found")
        st.check("nope" in body["error"]["message"])


def test_api_listing_has_no_page_extras():
    status, body = get("/api/v1/products")
    st.eq(status, 200)
    st.check("category" not in body and "breadcrumbs" not in body, list(body))
    slugs = {i["slug"] for i in body["items"]}
    st.check(not slugs & {"draft-x", "archived-y"}, f"hidden products listed: {slugs}")


# ---------------------------------------------------------------------- pages

def test_pages_render_html():
    pages = {
        "/": ["Чайник А", "/c/kitchen"],
        "/c/kettles": ["Чайники", "/p/kettle-a"],
        "/search?q=x": [],
        "/p/kettle-a": ["Чайник А", "<p>Хороший <b>чайник</b></p>", "1\u202f880,50\u00a0₽",
                        "Манежная", ">белый<", ">чёрный<"],
        "/p/kettle-a?lang=en": ["Kettle A", "RUB\u00a01,880.50", ">white<", ">black<"],
        "/pickup-points?near=55.7539,37.6208": ["Манежная", "304\u00a0м"],
    }
    for path, texts in pages.items():
        status, headers, data = server().request("GET", path, headers={"Accept": "text/html"})
        st.eq(status, 200, path)
        st.check(headers["content-type"].startswith("text/html"), path)
        html = data.decode()
        for t in texts:
            st.check(t in html, f"{path}: {t!r} not in the page")


# --------------------------------------------------------------- suggestions

def test_suggest():
    status, body = get("/api/v1/search/suggest?q=%D1%87%D0%B0%D0%B9")  # "чай"
    st.eq(status, 200)
    st.eq(body["q"], "чай")
    st.eq(body["suggestions"], [{"title": "Чайник А", "url": "/p/kettle-a"},
                                {"title": "Чайник Б", "url": "/p/kettle-b"}])
    status, body = get("/api/v1/search/suggest?q=kett&lang=en&limit=1")
    st.eq(status, 200)
    st.eq(body["suggestions"], [{"title": "Kettle A", "url": "/p/kettle-a"}])
    status, body = get("/api/v1/search/suggest?q=%D1%87%D0%B5%D1%80%D0%BD")  # "черн": the draft
    st.eq((status, body["suggestions"]), (200, []))
    for q in ("", "%20", "***", "%22", "NEAR(", "a%20OR%20b"):
        status, body = get("/api/v1/search/suggest?q=" + q)
        st.eq(status, 200, q)
        st.eq(body["suggestions"], [], q)
    status, body = get("/api/v1/search/suggest")
    st.eq((status, body["suggestions"]), (200, []))


def test_suggest_bad_parameters_400():
    status, body = get("/api/v1/search/suggest?q=" + "a" * 201)
    check_error(status, body, 400, field="q")
    for v in ("0", "11", "x", "-1"):
        status, body = get("/api/v1/search/suggest?q=a&limit=" + v)
        check_error(status, body, 400, field="limit")


# ------------------------------------------------------------- pricing failure

def test_failing_pricing_script_is_503_not_a_price():
    with running_with(BROKEN_LUA) as (_, srv):
        for path in ("/api/v1/products/kettle-a", "/", "/c/kettles"):
            status, body = srv.get_json(path)
            check_error(status, body, 503, code="pricing_failed")
            st.check("pricing.lua" in body["error"]["message"], body)
            st.check("price" not in body, "no price in a failed answer")
        # what needs no price still works
        status, body = srv.get_json("/api/v1/categories")
        st.eq(status, 200)


def test_zz_stop():
    SHOP.stop()


if __name__ == "__main__":
    st.main(globals())
