"""Black-box tests of the worker's table of guest prices (plugins/catalog/listing.c,
"price table"): a guest's price bound or price sort is answered from the displayed
price of every active product, priced with one pricing.lua call and reused while
the database is unchanged and the table is younger than settings.catalog.cache_ms.

The test store's pricing.lua prints how many items it was given; print() goes to
the souk log (docs/scripting.md), so the log says how often the whole catalog was
priced without measuring any time.  One worker, so there is one table to count.
cache_ms is an hour: no test here can outlive it, and no rule depends on the
clock."""
import atexit
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import souktest as st  # noqa: E402

# One rule (Half is half price), so that a filter on base prices would be
# wrong, and a line in the log per call with the number of items.
PRICING_LUA = r'''
local M = {}
function M.price(items, customer, context)
  print("pricing items=" .. #items)
  local out = souk.array()
  for i, item in ipairs(items) do
    local base = item.variant.price
    if item.product.brand == "Half" then
      out[i] = { price = base - base // 2,
                 adjustments = { { label = "-50%", amount = -(base // 2), rule = "half" } } }
    else
      out[i] = { price = base, adjustments = souk.array() }
    end
  end
  return out
end
return M
'''

CACHE_MS_LONG = 3600000

# slug, brand, status, [(sku, base price)]; displayed prices in the comments.
PRODUCTS = [
    ("a", "Full", "active", [("A-1", 10000)]),                  # 10000
    ("b", "Half", "active", [("B-1", 30000), ("B-2", 50000)]),  # 15000 (from)
    ("c", "Full", "active", [("C-1", 20000)]),                  # 20000
    ("d", "Full", "active", [("D-1", 40000), ("D-2", 45000)]),  # 40000 (from)
    ("e", "Half", "active", [("E-1", 90000)]),                  # 45000
    ("f", "Full", "draft", [("F-1", 100)]),                     # never listed
]
# Every variant of an active product: what one whole-catalog pricing is given.
ALL_ITEMS = sum(len(p[3]) for p in PRODUCTS if p[2] == "active")


def catalog_json(prices=None):
    prices = prices or {}
    return {
        "categories": [{"slug": "things", "name_ru": "Вещи", "name_en": "Things"}],
        "products": [
            {"slug": slug, "category": "things", "brand": brand, "title_ru": slug.upper(),
             "title_en": slug.upper(), "description_ru": "", "description_en": "",
             "status": status,
             "variants": [{"sku": sku, "price_minor": prices.get(sku, price),
                           "currency": "RUB", "stock": 1} for sku, price in variants]}
            for slug, brand, status, variants in PRODUCTS]}


def make_store(cache_ms):
    store = st.Store({"plugins": ["catalog"], "locale": "ru", "locales": ["ru", "en"],
                      "settings": {"catalog": {"cache_ms": cache_ms}}})
    try:
        store.write("scripts/pricing.lua", PRICING_LUA)
        if os.path.exists(store.path("scripts/pricing_test.lua")):
            os.remove(store.path("scripts/pricing_test.lua"))  # about the example's rules
        st.run("migrate", store.dir, env=store.env(), check=0)
        import_prices(store)
    except BaseException:
        store.cleanup()
        raise
    return store


def import_prices(store, prices=None):
    """`souk import` of the catalog (with some base prices changed): another
    process writing to the database."""
    store.write("catalog.json", json.dumps(catalog_json(prices), ensure_ascii=False))
    st.run("import", store.dir, store.path("catalog.json"), env=store.env(), check=0)


SERVERS = {}


def server(cache_ms=CACHE_MS_LONG):
    """One server (and store) per cache_ms, started on first use."""
    if cache_ms not in SERVERS:
        store = make_store(cache_ms)
        SERVERS[cache_ms] = (store, st.Server(store, workers=1))
    return SERVERS[cache_ms]


@atexit.register
def stop_servers():
    for store, srv in SERVERS.values():
        srv.stop()
        store.cleanup()
    SERVERS.clear()


def whole_pricings(srv):
    """How many script calls were given every variant of the catalog."""
    return sum(1 for n in re.findall(r"pricing items=(\d+)", srv.log_text())
               if int(n) == ALL_ITEMS)


def listing(srv, lang="ru", **params):
    params["lang"] = lang
    status, body = srv.get_json("/api/v1/products?" + urllib.parse.urlencode(params))
    st.eq(status, 200, f"GET /api/v1/products {params}: {body}")
    return body


def slugs(body):
    return [item["slug"] for item in body["items"]]


def prices(body):
    return [item["price"]["amount"] for item in body["items"]]


# ------------------------------------------------------------------- tests

def test_price_bounds_share_one_pricing():
    store, srv = server()
    before = whole_pricings(srv)
    body = listing(srv, min_price=12000, max_price=30000, sort="price_asc")
    st.eq(slugs(body), ["b", "c"], "12000..30000 by displayed price:")
    st.eq(prices(body), [15000, 20000], "the page's cards are priced:")
    st.eq(whole_pricings(srv), before + 1, "the first price bound prices the catalog:")
    calls_after_table = len(re.findall(r"pricing items=(\d+)", srv.log_text()))

    body = listing(srv, min_price=40000, sort="price_desc")
    st.eq(slugs(body), ["e", "d"], "40000 and up, dearest first:")
    st.eq(prices(body), [45000, 40000], "the page's cards are priced:")
    body = listing(srv, max_price=10000)
    st.eq(slugs(body), ["a"], "up to 10000:")
    body = listing(srv, sort="price_asc", per_page=2)
    st.eq(slugs(body), ["a", "b"], "a price sort alone:")
    st.eq(body["total"], 5, "every active product:")
    body = listing(srv, brand="Half", sort="price_desc")
    st.eq(slugs(body), ["e", "b"], "a brand's price sort:")
    st.eq(whole_pricings(srv), before + 1, "other bounds and sorts reuse the table:")
    # The pages' cards come from the price memo (pricememo.c), which the table's
    # pricing filled: no call since, and never one of the whole catalog.
    counts = [int(n) for n in re.findall(r"pricing items=(\d+)", srv.log_text())]
    st.eq(counts[calls_after_table:], [], "the pages are answered from the memo:")


def test_locale_has_its_own_table():
    store, srv = server()
    listing(srv, min_price=1)             # the Russian table is there (or made now)
    before = whole_pricings(srv)
    st.eq(slugs(listing(srv, lang="en", min_price=12000, max_price=30000)), ["c", "b"],
          "English, newest first:")
    st.eq(whole_pricings(srv), before + 1, "English prices its own table:")
    listing(srv, lang="en", max_price=20000)
    listing(srv, lang="ru", max_price=20000)
    st.eq(whole_pricings(srv), before + 1, "each table reused:")


def test_a_write_from_another_process_invalidates():
    store, srv = server()
    listing(srv, min_price=1)
    before = whole_pricings(srv)
    st.eq(slugs(listing(srv, max_price=12000)), ["a"], "before the import:")
    st.eq(whole_pricings(srv), before, "reused:")

    # c's base price drops to 11000: now within max_price=12000.
    import_prices(store, {"C-1": 11000})
    body = listing(srv, max_price=12000, sort="price_asc")
    st.eq(slugs(body), ["a", "c"], "after the import:")
    st.eq(prices(body), [10000, 11000], "the new price shows:")
    st.eq(whole_pricings(srv), before + 1, "the import made the table stale:")
    listing(srv, min_price=11000, max_price=11000)
    st.eq(whole_pricings(srv), before + 1, "and the new table is reused:")
    import_prices(store)                  # back as it was, for the other tests
    st.eq(slugs(listing(srv, max_price=12000)), ["a"], "restored:")


def test_cache_ms_zero_prices_every_request():
    store, srv = server(cache_ms=0)
    before = whole_pricings(srv)
    st.eq(slugs(listing(srv, min_price=12000, max_price=30000, sort="price_asc")), ["b", "c"],
          "12000..30000:")
    st.eq(slugs(listing(srv, min_price=40000, sort="price_desc")), ["e", "d"], "40000 and up:")
    st.eq(whole_pricings(srv), before + 2, "no table: each bound priced the catalog:")


if __name__ == "__main__":
    st.main(globals())
