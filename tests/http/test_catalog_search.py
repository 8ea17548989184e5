"""Black-box tests of the catalog's search and listing: Russian and English
stemming through the souk_stem tokenizer, ё/е and case, the bm25 title boost,
filters (category with descendants, brand, in stock, displayed price), sorts,
pagination bounds, facet counts and links, prefix suggestions, and queries that
are empty, absurd or too long (never an SQL error or a 500).

The store is filled by `souk import` of a small JSON catalog (which also builds
the search index), then given fixed creation times with SQL, and priced by a
pricing.lua with one known rule, so that every expected number is written out
here."""
import atexit
import json
import os
import sqlite3
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import souktest as st  # noqa: E402

# One rule: Bosch is half price.  A price filter that looked at base prices
# instead of displayed ones would get the Bosch kettle wrong.
PRICING_LUA = r'''
local M = {}
function M.price(items, customer, context)
  local out = souk.array()
  for i, item in ipairs(items) do
    local base = item.variant.price
    if item.product.brand == "Bosch" then
      local off = base // 2
      out[i] = { price = base - off,
                 adjustments = { { label = "Bosch -50%", amount = -off, rule = "bosch" } } }
    else
      out[i] = { price = base, adjustments = souk.array() }
    end
  end
  return out
end
return M
'''

CATEGORIES = [
    {"slug": "kitchen", "name_ru": "Кухня", "name_en": "Kitchen"},
    {"slug": "kettles", "parent": "kitchen", "name_ru": "Чайники", "name_en": "Kettles"},
    {"slug": "tea", "name_ru": "Чай", "name_en": "Tea"},
    {"slug": "decor", "name_ru": "Декор", "name_en": "Decor"},
    {"slug": "shoes", "name_ru": "Обувь", "name_en": "Shoes"},
]

# slug, category path, brand, title_ru, title_en, description_ru, status,
# [(sku, base price, stock)], created_at (set after the import)
PRODUCTS = [
    ("kettle-steel", "kitchen/kettles", "Bosch", "Чайник электрический стальной",
     "Steel electric kettle", "<p>Кипятит за 3 минуты</p>", "active",
     [("KS-1", 199000, 5)], 1000),
    ("kettle-glass", "kitchen/kettles", "Tefal", "Чайник стеклянный", "Glass kettle",
     "<p>Подсветка &amp; фильтр</p>", "active", [("KG-1", 249000, 0)], 2000),
    ("tea-black", "tea", "Altai", "Чёрный чай", "Black tea",
     "<p>Заваривайте в фарфоровых <b>чайниках</b></p>", "active",
     [("TB-1", 45000, 10), ("TB-2", 80000, 0)], 3000),
    ("tea-green", "tea", "Altai", "Зелёный чай", "Green tea", "", "active",
     [("TG-1", 52000, 4)], 4000),
    ("teapot", "tea", "Kuzina", "Заварочный чайник", "Teapot", "", "active",
     [("TP-1", 120000, 2)], 4500),
    ("fir-big", "decor", "Nordika", "Ёлка искусственная", "Artificial fir tree", "",
     "active", [("FB-1", 500000, 3)], 5000),
    ("fir-small", "decor", "Nordika", "Елка настольная", "Tabletop fir tree", "", "active",
     [("FS-1", 150000, 1)], 6000),
    ("shoes-run", "shoes", "Tempo", "Кроссовки для бега", "Running shoes", "", "active",
     [("SR-1", 650000, 2)], 7000),
    ("socks", "shoes", "Tempo", "Носки спортивные", "Socks for a run", "", "active",
     [("SO-1", 30000, 20)], 8000),
    ("kettle-draft", "kitchen/kettles", "Bosch", "Чайник черновой", "Draft kettle", "",
     "draft", [("KD-1", 100, 1)], 9000),
]

ALL_ACTIVE = [p[0] for p in PRODUCTS if p[6] == "active"]
NEWEST_FIRST = [p[0] for p in sorted(PRODUCTS, key=lambda p: -p[8]) if p[6] == "active"]


def catalog_json():
    products = []
    for slug, cat, brand, ru, en, desc, status, variants, _created in PRODUCTS:
        products.append({
            "slug": slug, "category": cat, "brand": brand, "title_ru": ru, "title_en": en,
            "description_ru": desc, "description_en": "", "status": status,
            "variants": [{"sku": sku, "price_minor": price, "currency": "RUB", "stock": stock}
                         for sku, price, stock in variants]})
    return {"categories": CATEGORIES, "products": products}


def make_store():
    store = st.Store({"plugins": ["catalog"], "locale": "ru", "locales": ["ru", "en"]})
    try:
        store.write("scripts/pricing.lua", PRICING_LUA)
        if os.path.exists(store.path("scripts/pricing_test.lua")):
            os.remove(store.path("scripts/pricing_test.lua"))  # about the example's rules
        st.run("migrate", store.dir, env=store.env(), check=0)
        store.write("catalog.json", json.dumps(catalog_json(), ensure_ascii=False))
        st.run("import", store.dir, store.path("catalog.json"), env=store.env(), check=0)
        db = sqlite3.connect(store.path("data/souk.db"))
        with db:
            for p in PRODUCTS:
                db.execute("UPDATE catalog_products SET created_at = ?, updated_at = ?"
                           " WHERE slug = ?", (p[8], p[8], p[0]))
        db.close()
    except BaseException:
        store.cleanup()
        raise
    return store


STORE = None
SERVER = None


def server():
    global STORE, SERVER
    if SERVER is None:
        STORE = make_store()
        SERVER = st.Server(STORE, workers=1)
        atexit.register(stop_server)
    return SERVER


def stop_server():
    global SERVER
    if SERVER is not None:
        SERVER.stop()
        SERVER = None
        STORE.cleanup()


def products(lang="ru", **params):
    """GET /api/v1/products with params; (status, body)."""
    params["lang"] = lang
    return server().get_json("/api/v1/products?" + urllib.parse.urlencode(params))


def listing(**params):
    status, body = products(**params)
    st.eq(status, 200, f"GET /api/v1/products {params}: {body}")
    return body


def slugs(body):
    return [item["slug"] for item in body["items"]]


def found(q, **params):
    """The slugs a search finds, all of them, in order."""
    return slugs(listing(q=q, per_page=100, **params))


# ---------------------------------------------------------------- stemming

def test_russian_stems_both_ways():
    kettles = {"kettle-steel", "kettle-glass", "teapot", "tea-black"}  # tea-black: "чайниках"
    st.eq(set(found("чайники")), kettles, "чайники:")
    st.eq(set(found("чайник")), kettles, "чайник:")
    st.eq(set(found("ЧАЙНИКОВ")), kettles, "ЧАЙНИКОВ:")
    st.eq(found("стеклянные чайники"), ["kettle-glass"], "two words, both needed:")
    st.check("kettle-draft" not in found("чайник"), "a draft is never found")


def test_yo_is_ye():
    firs = {"fir-big", "fir-small"}
    st.eq(set(found("Ёлка")), firs, "Ёлка:")
    st.eq(set(found("елки")), firs, "елки:")
    st.eq(set(found("ЁЛКИ")), firs, "ЁЛКИ:")
    st.eq(found("зеленый"), ["tea-green"], "зеленый finds Зелёный:")


def test_english_stems_and_case():
    st.eq(set(found("running")), {"shoes-run", "socks"}, "running:")
    st.eq(set(found("RUNS")), {"shoes-run", "socks"}, "RUNS:")
    st.eq(set(found("Kettles")), {"kettle-steel", "kettle-glass"}, "Kettles:")
    # The category's names are indexed too, in both languages.
    st.eq(set(found("kitchen")), {"kettle-steel", "kettle-glass"}, "category name:")
    st.eq(set(found("кухня")), {"kettle-steel", "kettle-glass"}, "category name (ru):")
    # Description HTML is indexed as text: entities decoded, no tag names.
    st.eq(found("фильтр"), ["kettle-glass"], "description word:")
    st.eq(found("amp"), [], "no entity names in the index:")


def test_title_match_ranks_above_description_match():
    # teapot and tea-black share a category and nothing else matches in either:
    # "чайник" is in teapot's title and in tea-black's description only.
    body = listing(q="чайник", per_page=10)
    st.eq(body["query"]["sort"], "relevance", "default sort with q:")
    order = slugs(body)
    st.eq(order[-1], "tea-black", "the description-only match last:")
    st.check(order.index("teapot") < order.index("tea-black"), order)
    # Newest first would put tea-black before the kettles; relevance does not.
    st.check(order.index("kettle-glass") < order.index("tea-black"), order)


# ------------------------------------------------------------- odd queries

def test_empty_and_absurd_queries():
    body = listing(q="")
    st.eq(body["total"], len(ALL_ACTIVE), "empty q lists everything:")
    st.eq(body["query"]["q"], None, "empty q echoed as null:")
    st.eq(body["query"]["sort"], "newest", "default sort without q:")
    st.check("query_message" not in body, "no message without a query")
    for q in ["***", '"', "*", "  ---  ", "«»", "^:()"]:
        body = listing(q=q)
        st.eq((body["total"], body["items"]), (0, []), f"q={q!r}:")
        st.check(body.get("query_message"), f"q={q!r} explains the empty answer")
    for q in [") OR 1=1 --", 'чай" OR "x', "title:чай", "NEAR(чай кофе)", "чай*", "-чай",
              "AND", "a" * 200]:
        status, body = products(q=q)
        st.eq(status, 200, f"q={q!r}: {body}")
        st.check(isinstance(body["total"], int), f"q={q!r} has a total")
    # FTS5 syntax in the text is only text: quotes and operators change nothing.
    st.eq(set(found('чай" OR "носки')), set(), "no OR smuggled through quotes:")
    st.eq(set(found("чай OR носки")), set(), "OR is a word, and there is no such word:")


def test_query_too_long():
    status, body = products(q="я" * 101)  # 202 bytes
    st.eq(status, 400, "q over 200 bytes:")
    st.eq(body["error"]["field"], "q")
    status, body = products(q="  " + "я" * 100 + "  ")  # 200 bytes once trimmed
    st.eq(status, 200, "q of exactly 200 bytes after trimming:")


# ---------------------------------------------------------------- filters

def test_category_includes_descendants():
    st.eq(slugs(listing(category="kitchen")), ["kettle-glass", "kettle-steel"], "kitchen:")
    st.eq(slugs(listing(category="kettles")), ["kettle-glass", "kettle-steel"], "kettles:")
    # teapot is found through its category's name, "Чай".
    st.eq(set(found("чай", category="tea")), {"tea-black", "tea-green", "teapot"},
          "q within tea:")
    st.eq(found("чай", category="kettles"), [], "q within kettles:")
    status, body = products(category="nope")
    st.eq((status, body["error"]["field"]), (400, "category"), "unknown ?category:")
    status, body = server().get_json("/c/nope")
    st.eq(status, 404, "unknown /c/ category:")


def test_brand_and_stock_filters():
    st.eq(slugs(listing(brand="Altai")), ["tea-green", "tea-black"], "brand:")
    st.eq(slugs(listing(brand="altai")), [], "brand is exact:")
    in_stock = slugs(listing(in_stock="1", per_page=100))
    st.check("kettle-glass" not in in_stock, "kettle-glass has no stock")
    st.check("tea-black" in in_stock, "tea-black has one variant in stock")
    st.eq(len(in_stock), len(ALL_ACTIVE) - 1)
    st.eq(slugs(listing(in_stock="true", category="kettles")), ["kettle-steel"])
    st.eq(len(slugs(listing(in_stock="false", per_page=100))), len(ALL_ACTIVE))


def test_price_filters_use_the_displayed_price():
    # kettle-steel: base 1 990 ₽, displayed 995 ₽ (Bosch -50%).
    body = listing(min_price=100000, category="kettles")
    st.eq(slugs(body), ["kettle-glass"], "min 1 000 ₽ leaves the 995 ₽ kettle out:")
    st.eq(body["total"], 1)
    body = listing(max_price=99500, category="kettles")
    st.eq(slugs(body), ["kettle-steel"], "max 995 ₽ keeps it:")
    st.eq(body["items"][0]["price"]["amount"], 99500)
    # The page's filter form sends whole roubles as price_from / price_to.
    body = listing(price_from=1000, category="kettles")
    st.eq(slugs(body), ["kettle-glass"], "price_from=1000:")
    st.eq((body["query"]["min_price"], body["query"]["price_from"]), (100000, 1000))
    body = listing(price_to=995, category="kettles")
    st.eq(slugs(body), ["kettle-steel"], "price_to=995:")
    st.eq(listing(max_price=99450)["query"]["price_to"], 995, "rounded outwards:")
    # A product's price is its cheapest variant: tea-black is 450 ₽ (and 800 ₽).
    st.eq(slugs(listing(min_price=45000, max_price=45000)), ["tea-black"], "exact bound:")
    st.eq(slugs(listing(min_price=80000, max_price=85000)), [], "800 ₽ is not its price:")
    body = listing(min_price=0, max_price=60000, per_page=100, sort="price_desc")
    st.eq(set(slugs(body)), {"tea-black", "tea-green", "socks"})
    st.eq(body["query"]["min_price"], 0)
    st.eq(body["query"]["max_price"], 60000)
    # Facets follow the price-filtered result.
    brands = {f["name"]: f["count"] for f in body["facets"]["brands"]}
    st.eq(brands, {"Altai": 2, "Tempo": 1}, "brand facet after the price filter:")


def test_bad_parameters_name_the_field():
    cases = [
        ({"min_price": "-1"}, "min_price"), ({"min_price": "1.5"}, "min_price"),
        ({"max_price": "x"}, "max_price"), ({"max_price": "99999999999999999999"}, "max_price"),
        ({"min_price": "500", "max_price": "100"}, "min_price"),
        ({"in_stock": "yes"}, "in_stock"), ({"sort": "cheap"}, "sort"),
        ({"page": "0"}, "page"), ({"page": "-2"}, "page"), ({"page": "1e3"}, "page"),
        ({"per_page": "0"}, "per_page"), ({"per_page": "101"}, "per_page"),
        ({"brand": "b" * 201}, "brand"),
        ({"price_from": "10.5"}, "price_from"), ({"price_to": "-1"}, "price_to"),
        ({"price_from": "10", "price_to": "5"}, "price_from"),
    ]
    for params, field in cases:
        status, body = products(**params)
        st.eq(status, 400, f"{params}:")
        st.eq(body["error"]["field"], field, f"{params}:")


# ------------------------------------------------------------------- sorts

def test_sorts():
    st.eq(slugs(listing(per_page=100)), NEWEST_FIRST, "newest by default:")
    st.eq(slugs(listing(sort="relevance", per_page=100)), NEWEST_FIRST,
          "relevance without q falls back to newest:")
    body = listing(sort="price_asc", per_page=100)
    amounts = [item["price"]["amount"] for item in body["items"]]
    st.eq(amounts, sorted(amounts), "price_asc:")
    # The Bosch kettle sorts by its displayed 995 ₽, before the 1 200 ₽ teapot; by
    # its base price (1 990 ₽) it would come after the 1 500 ₽ fir.
    st.eq(slugs(body), ["socks", "tea-black", "tea-green", "kettle-steel", "teapot",
                        "fir-small", "kettle-glass", "fir-big", "shoes-run"])
    body = listing(sort="price_desc", per_page=100)
    amounts = [item["price"]["amount"] for item in body["items"]]
    st.eq(amounts, sorted(amounts, reverse=True), "price_desc:")
    st.eq(body["query"]["sort"], "price_desc")
    st.eq(body["sorts"], {"price_desc": True}, "the current sort for a select:")
    st.eq(slugs(listing(q="чай", sort="newest")), ["teapot", "tea-green", "tea-black"],
          "q, newest:")


# -------------------------------------------------------------- pagination

def test_pagination_bounds():
    body = listing(per_page=3)
    st.eq((body["total"], body["pages"], body["page"], body["per_page"]),
          (len(ALL_ACTIVE), 3, 1, 3))
    st.eq(slugs(body), NEWEST_FIRST[:3])
    pg = body["pagination"]
    st.eq(pg["prev_href"], None)
    st.eq(pg["next_href"], "/api/v1/products?per_page=3&page=2")
    st.eq([p["n"] for p in pg["pages_list"]], [1, 2, 3])
    st.eq([p["current"] for p in pg["pages_list"]], [True, False, False])
    body = listing(per_page=3, page=3)
    st.eq(slugs(body), NEWEST_FIRST[6:], "last page:")
    st.eq(body["pagination"]["next_href"], None)
    st.eq(body["pagination"]["prev_href"], "/api/v1/products?per_page=3&page=2")
    body = listing(per_page=3, page=9)
    st.eq((body["items"], body["total"], body["page"]), ([], len(ALL_ACTIVE), 9),
          "past the end: no items, the total still said:")
    st.eq(body["pagination"]["prev_href"], "/api/v1/products?per_page=3&page=3",
          "past the end, previous leads to the last page:")
    body = listing(per_page=1, page=5)
    st.eq([p["n"] for p in body["pagination"]["pages_list"]], [1, 3, 4, 5, 6, 7, 9],
          "first, last and two either side:")
    st.eq([p["n"] for p in listing(per_page=1, page=12)["pagination"]["pages_list"]], [1, 9])
    body = listing(per_page=3, page=2147483647)
    st.eq(body["items"], [], "a huge page number is only past the end:")
    # Price-sorted pages slice the sorted whole, not each page sorted on its own.
    pages = [slugs(listing(sort="price_asc", per_page=3, page=n)) for n in (1, 2, 3)]
    st.eq(sum(pages, []), slugs(listing(sort="price_asc", per_page=100)))
    # Links keep the other parameters.
    body = listing(q="чай", brand="Altai", in_stock="1", per_page=1)
    st.eq(body["pagination"]["next_href"],
          "/api/v1/products?q=%D1%87%D0%B0%D0%B9&brand=Altai&in_stock=1&per_page=1&page=2")


# ------------------------------------------------------------------ facets

def test_facet_counts_and_links():
    body = listing(per_page=1)
    brands = {f["name"]: f["count"] for f in body["facets"]["brands"]}
    st.eq(brands, {"Bosch": 1, "Tefal": 1, "Altai": 2, "Kuzina": 1, "Nordika": 2, "Tempo": 2},
          "brand counts over the whole result, not the page:")
    cats = {f["slug"]: (f["name"], f["count"]) for f in body["facets"]["categories"]}
    st.eq(cats, {"kettles": ("Чайники", 2), "tea": ("Чай", 3), "decor": ("Декор", 2),
                 "shoes": ("Обувь", 2)})
    counts = [f["count"] for f in body["facets"]["brands"]]
    st.eq(counts, sorted(counts, reverse=True), "most frequent first:")
    st.check(not any(f["selected"] for f in body["facets"]["brands"]))
    tempo = next(f for f in body["facets"]["brands"] if f["name"] == "Tempo")
    st.eq(tempo["href"], "/api/v1/products?brand=Tempo&per_page=1")
    # Following the link selects the brand; its link now clears it.
    status, body = server().get_json(tempo["href"])
    st.eq(status, 200)
    st.eq(body["total"], 2)
    tempo = next(f for f in body["facets"]["brands"] if f["selected"])
    st.eq(tempo["name"], "Tempo")
    st.eq(tempo["href"], "/api/v1/products?per_page=1")
    # English names in the English locale; a search keeps q in the links.
    body = listing(lang="en", q="чай")
    st.eq([(f["slug"], f["name"], f["count"]) for f in body["facets"]["categories"]],
          [("tea", "Tea", 3)])
    st.eq(body["facets"]["categories"][0]["href"],
          "/api/v1/products?q=%D1%87%D0%B0%D0%B9&category=tea")


def brand_facet(body):
    """{name: (count, selected)} of a listing's brand facet."""
    return {f["name"]: (f["count"], f["selected"]) for f in body["facets"]["brands"]}


def test_brand_facet_is_disjunctive():
    """With a brand chosen, the brand facet still offers the other brands, counted
    with every filter but the brand, so a shopper can switch brand directly; the
    result and the category facet follow the chosen brand."""
    body = listing(brand="Altai")
    st.eq((slugs(body), body["total"]), (["tea-green", "tea-black"], 2))
    st.eq(brand_facet(body),
          {"Bosch": (1, False), "Tefal": (1, False), "Altai": (2, True),
           "Kuzina": (1, False), "Nordika": (2, False), "Tempo": (2, False)},
          "every brand, counted without the brand filter:")
    st.eq({f["slug"]: f["count"] for f in body["facets"]["categories"]}, {"tea": 2},
          "categories are counted with the brand:")
    hrefs = {f["name"]: f["href"] for f in body["facets"]["brands"]}
    st.eq(hrefs["Tempo"], "/api/v1/products?brand=Tempo", "another brand replaces it:")
    st.eq(hrefs["Altai"], "/api/v1/products", "the chosen brand clears it:")
    # Every other filter still applies to the brand counts: stock ...
    body = listing(brand="Altai", in_stock="1")
    st.eq(brand_facet(body),
          {"Bosch": (1, False), "Altai": (2, True), "Kuzina": (1, False),
           "Nordika": (2, False), "Tempo": (2, False)}, "in stock (Tefal has none):")
    # ... the category ...
    body = listing(category="kettles", brand="Bosch")
    st.eq(slugs(body), ["kettle-steel"])
    st.eq(brand_facet(body), {"Bosch": (1, True), "Tefal": (1, False)}, "within kettles:")
    st.eq({f["slug"]: f["count"] for f in body["facets"]["categories"]}, {"kettles": 1})
    # ... the search text ...
    body = listing(q="чайник", brand="Tefal")
    st.eq(slugs(body), ["kettle-glass"])
    st.eq(brand_facet(body), {"Bosch": (1, False), "Tefal": (1, True), "Kuzina": (1, False),
                              "Altai": (1, False)}, "within the search:")
    # ... and the displayed price (Bosch's 1 990 ₽ kettle is shown at 995 ₽).
    body = listing(brand="Altai", max_price=99500)
    st.eq(slugs(body), ["tea-green", "tea-black"])
    st.eq(brand_facet(body), {"Altai": (2, True), "Bosch": (1, False), "Tempo": (1, False)},
          "within the price bound:")
    # A price sort orders the chosen brand only; pages slice it.
    body = listing(brand="Altai", sort="price_desc")
    st.eq(slugs(body), ["tea-green", "tea-black"])
    st.eq(brand_facet(body)["Nordika"], (2, False))
    st.eq(slugs(listing(brand="Altai", per_page=1, page=2)), ["tea-black"])
    st.eq(slugs(listing(brand="Altai", sort="price_asc", per_page=1, page=2)), ["tea-green"])
    # A chosen brand with nothing left is still shown (checked, 0) beside the others.
    body = listing(brand="Tefal", in_stock="1")
    st.eq((body["items"], body["total"]), ([], 0))
    st.eq(brand_facet(body)["Tefal"], (0, True), "the chosen brand stays, with 0:")
    st.eq(brand_facet(body)["Altai"], (2, False))
    st.eq(brand_facet(listing(brand="altai"))["altai"], (0, True), "an unknown brand too:")
    # Without a brand nothing changed: the listing and its facets are as before.
    st.eq(listing(per_page=100)["total"], len(ALL_ACTIVE))
    # A category page keeps its path in the links to the other brands.
    status, body = server().get_json("/c/kitchen?brand=Bosch&lang=ru")
    st.eq(status, 200)
    hrefs = {f["name"]: f["href"] for f in body["facets"]["brands"]}
    st.eq(hrefs, {"Bosch": "/c/kitchen", "Tefal": "/c/kitchen?brand=Tefal"})


def test_category_page_links():
    status, body = server().get_json("/c/kitchen?lang=ru")
    st.eq(status, 200)
    st.eq(body["query"]["category"], "kitchen")
    st.eq(body["total"], 2)
    facet = body["facets"]["categories"][0]
    st.eq((facet["slug"], facet["selected"], facet["href"]), ("kettles", False, "/c/kettles"))
    brand = body["facets"]["brands"][0]
    st.check(brand["href"].startswith("/c/kitchen?brand="), brand["href"])


# ------------------------------------------------------------- suggestions

def suggest(q, lang="ru"):
    status, body = server().get_json("/api/v1/search/suggest?" +
                                     urllib.parse.urlencode({"q": q, "lang": lang}))
    st.eq(status, 200, f"suggest {q!r}: {body}")
    return body["suggestions"]


def test_suggestions():
    got = suggest("чайн")
    st.eq(sorted(s["title"] for s in got),
          ["Заварочный чайник", "Чайник стеклянный", "Чайник электрический стальной"])
    st.eq(sorted(s["url"] for s in got), ["/p/kettle-glass", "/p/kettle-steel", "/p/teapot"],
          "drafts are never suggested:")
    st.eq([s["title"] for s in suggest("ёлк")], ["Ёлка искусственная", "Елка настольная"],
          "ё and е alike, in order:")
    st.eq(suggest("зел ча")[0]["url"], "/p/tea-green", "every word a prefix:")
    st.eq([s["title"] for s in suggest("glass", lang="en")], ["Glass kettle"],
          "titles in the request's language:")
    st.eq(suggest("***"), [])
    st.eq(suggest(""), [])
    st.eq(suggest('"'), [])
    st.check(len(suggest("ч")) <= 10, "at most 10")


# --------------------------------------------------------- index freshness

def test_listing_follows_the_database():
    """A product archived by another connection leaves the listings at once,
    cached or not (the workers' cache is checked against the database)."""
    st.eq(set(found("running")), {"shoes-run", "socks"})
    before = listing()["total"]
    db = sqlite3.connect(STORE.path("data/souk.db"))
    try:
        with db:
            db.execute("UPDATE catalog_products SET status = 'archived' WHERE slug = 'socks'")
        st.eq(found("running"), ["shoes-run"], "after archiving:")
        st.eq(listing()["total"], before - 1)
        st.eq({f["name"]: f["count"] for f in listing()["facets"]["brands"]}["Tempo"], 1)
        st.eq(brand_facet(listing(brand="Altai"))["Tempo"], (1, False),
              "the brand facet of another brand's listing too:")
    finally:
        with db:
            db.execute("UPDATE catalog_products SET status = 'active' WHERE slug = 'socks'")
        db.close()
    st.eq(set(found("running")), {"shoes-run", "socks"}, "back again:")


st.main(globals())
