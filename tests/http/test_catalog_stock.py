"""Black-box tests of the catalog.v1 service (stock, variants, prices by SKU),
driven over HTTP through the test plugin tests/plugins/stockprobe, which calls the
service exactly as another plugin would.

The heart of it: many parallel decrements of one variant on a server with two
worker processes sell exactly the stock there was, never more, and a rise from 0
emits catalog.back_in_stock exactly once, however many rises race."""
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

PRICING_LUA = r'''
local M = {}
function M.price(items, customer, context)
  local out = souk.array()
  for i, item in ipairs(items) do
    if item.variant.sku == "P-2" then
      out[i] = { price = item.variant.price - 500,
                 adjustments = { { label = "probe", amount = -500, rule = "probe-rule" } } }
    else
      out[i] = { price = item.variant.price, adjustments = souk.array() }
    end
  end
  return out
end
return M
'''

# sku, stock, price
VARIANTS = [("S-50", 50, 10000), ("S-0", 0, 20000), ("S-2", 2, 30000), ("P-2", 7, 12345)]
PRODUCTS = [("probe-product", "Проба", "Probe", "active",
             [(sku, stock, price, {"size": str(i)}, {})
              for i, (sku, stock, price) in enumerate(VARIANTS)])]

TAKES = 200
THREADS = 16


def prepare(store):
    sh.use_pricing(store, PRICING_LUA)
    sh.migrate(store)
    sh.seed_catalog(store, ("probe", "Проба", "Probe"), PRODUCTS)


SHOP = sh.Served({"plugins": ["catalog", "stockprobe"], "locale": "ru", "locales": ["ru", "en"]},
                 prepare=prepare)
server = SHOP.server


def post(path, body):
    status, _, data = server().request("POST", path, body=body)

    return status, json.loads(data)


def take(sku, qty):
    return post("/api/v1/stockprobe/take", {"sku": sku, "qty": qty})


def put(sku, qty):
    return post("/api/v1/stockprobe/put", {"sku": sku, "qty": qty})


def stock_in_db(sku):
    return sh.query(SHOP.store, "SELECT stock FROM catalog_variants WHERE sku = ?", (sku,))[0][0]


def events():
    status, body = server().get_json("/api/v1/stockprobe/events")
    st.eq(status, 200)
    return body["events"]


def test_concurrent_takes_never_oversell():
    server()
    results = []
    lock = threading.Lock()

    def one(_):
        r = take("S-50", 1)
        with lock:
            results.append(r)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one, range(TAKES)))
    ok = [b for s, b in results if s == 200]
    refused = [b for s, b in results if s == 409]
    st.eq(len(results), TAKES)
    st.eq(len(ok) + len(refused), TAKES, f"only 200 and 409: {[s for s, _ in results]}")
    st.eq(len(ok), 50, "exactly the stock there was is sold")
    # Every sale saw a different stock after it: 49, 48, ... 0 -- never below zero.
    st.eq(sorted(b["stock"] for b in ok), list(range(50)))
    for b in refused:
        st.eq(b["error"]["field"], "qty")
        st.check("not enough stock of 'S-50'" in b["error"]["message"], b)
    st.eq(stock_in_db("S-50"), 0)
    status, body = server().get_json("/api/v1/stockprobe/variant?sku=S-50")
    st.eq(body["variant"]["stock"], 0)


def test_take_more_than_left_changes_nothing():
    status, body = take("S-2", 3)
    st.eq(status, 409)
    st.eq(body["error"]["message"], "not enough stock of 'S-2': 2 left, 3 asked")
    st.eq(stock_in_db("S-2"), 2)
    status, body = take("S-2", 2)
    st.eq((status, body["stock"]), (200, 0))
    status, body = take("S-2", 1)
    st.eq(status, 409)
    st.eq(stock_in_db("S-2"), 0)


def test_unknown_sku_and_absurd_changes_refused():
    status, body = take("NOPE", 1)
    st.eq(status, 409)
    st.eq(body["error"]["message"], "no variant with SKU 'NOPE'")
    status, body = put("S-2", 10 ** 12)
    st.eq(status, 409)
    st.check("out of range" in body["error"]["message"], body)
    status, body = take("", 1)
    st.eq(status, 409)
    st.eq(stock_in_db("S-2"), 0)


def test_back_in_stock_exactly_once():
    before = len(events())
    status, body = put("S-0", 5)
    st.eq((status, body["stock"]), (200, 5))
    ev = events()
    st.eq(len(ev), before + 1, "0 -> 5 is back in stock")
    st.eq(ev[-1], {"sku": "S-0", "product": "probe-product", "stock": 5})
    put("S-0", 3)
    st.eq(len(events()), before + 1, "5 -> 8 is not")
    status, body = take("S-0", 8)
    st.eq((status, body["stock"]), (200, 0))
    st.eq(len(events()), before + 1, "a decrement never is")
    status, _ = put("S-0", 0)
    st.eq(status, 200)
    st.eq(len(events()), before + 1, "0 -> 0 is not")

    # Twenty rises race from 0: only one of them starts from 0.
    results = []
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(lambda _: put("S-0", 1), range(20)))
    st.eq([s for s, _ in results], [200] * 20)
    st.eq(stock_in_db("S-0"), 20)
    ev = events()
    st.eq(len(ev), before + 2, "one more event for the race")
    st.eq(ev[-1]["sku"], "S-0")
    st.eq(ev[-1]["stock"], 1)


def test_variant_get():
    status, body = server().get_json("/api/v1/stockprobe/variant?sku=P-2")
    st.eq(status, 200)
    st.eq(body["variant"], {"sku": "P-2", "product": "probe-product", "title": "Проба",
                            "options": {"size": "3"}, "price": 12345, "currency": "RUB",
                            "stock": 7, "status": "active"})
    status, body = server().get_json("/api/v1/stockprobe/variant?sku=P-2&lang=en")
    st.eq(body["variant"]["title"], "Probe")
    status, body = server().get_json("/api/v1/stockprobe/variant?sku=NOPE")
    st.eq((status, body["variant"]), (200, None))


def test_price_skus():
    status, body = server().get_json("/api/v1/stockprobe/prices?skus=P-2,S-50")
    st.eq(status, 200)
    st.eq(body["prices"], [
        {"sku": "P-2", "price": 11845, "currency": "RUB", "base_price": 12345,
         "adjustments": [{"label": "probe", "amount": -500, "rule": "probe-rule"}]},
        {"sku": "S-50", "price": 10000, "currency": "RUB", "base_price": 10000,
         "adjustments": []}])
    status, body = server().get_json("/api/v1/stockprobe/prices?skus=S-50,NOPE")
    st.eq(status, 422)
    st.eq(body["error"]["message"], "no variant with SKU 'NOPE'")
    status, body = server().get_json("/api/v1/stockprobe/prices?skus=")
    st.eq((status, body["prices"]), (200, []))


def test_zz_stop():
    SHOP.stop()


if __name__ == "__main__":
    st.main(globals())
