"""Black-box tests of the worker's price memo (plugins/catalog/pricememo.c): a
signed-in shopper's page reuses the prices pricing.lua gave for the same
customer key (M.customer_key), the same locale and the same variants while the
database is unchanged and for at most settings.catalog.cache_ms.

The store's pricing.lua prints a line per call of each function (print() goes
to the souk log), and its one rule takes off an amount that follows the store
clock (SOUK_CLOCK_FILE): a price computed earlier is told from a fresh one
without measuring any time.  One worker, so there is one memo to count."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

# customer_key: members share one key; English requests get a bad answer (a
# number), for the test of a refused key.  price: "tick" takes off 1..50
# roubles by the store clock's second (modulo 50), so that 10 s later every
# price differs, by the same amount (-10 or +40 roubles).
PRICING_LUA = r'''
local M = {}
function M.customer_key(customer, context)
  print("customer_key called")
  if context.locale == "en" then return 42 end
  if customer and customer.member == true then return "member" end
  return customer and "customer" or "guest"
end
function M.price(items, customer, context)
  print("pricing items=" .. #items)
  local off = ((context.now // 1000) % 50 + 1) * 100
  local out = souk.array()
  for i, item in ipairs(items) do
    out[i] = { price = item.variant.price - off,
               adjustments = { { label = "tick", amount = -off, rule = "tick" } } }
  end
  return out
end
return M
'''

CACHE_MS_LONG = 3600000    # no test here outlives it
STEP_MS = 10000            # a clock step: below auth's touch_ms, so no session write
PRODUCTS = [("kettle", "Чайник", "Kettle", "active", [("K-1", 5, 300000, {}, {})]),
            ("mug", "Кружка", "Mug", "active",
             [("M-S", 5, 50000, {"размер": "S"}, {"size": "S"}),
              ("M-L", 5, 60000, {"размер": "L"}, {"size": "L"})])]
ALL_ITEMS = 3


def served(cache_ms):
    clock = {}

    def prepare(store):
        sh.use_pricing(store, PRICING_LUA)
        sh.migrate(store)
        sh.seed_catalog(store, ("kitchen", "Кухня", "Kitchen"), PRODUCTS)
        clock["clock"] = ah.Clock(store)
        return clock["clock"].env()

    shop = sh.Served({"plugins": ["catalog", "notify", "auth"], "locale": "ru",
                      "locales": ["ru", "en"],
                      "settings": {"auth": ah.STORE_SETTINGS,
                                   "catalog": {"cache_ms": cache_ms}}},
                     prepare=prepare, workers=1)
    shop.clock = clock
    return shop


LONG = served(CACHE_MS_LONG)
EXACT = served(0)


def calls(shop, what):
    """Lines the script printed: "pricing" (with the item counts) or "customer_key"."""
    text = shop.server().log_text()
    if what == "pricing":
        return [int(n) for n in re.findall(r"pricing items=(\d+)", text)]
    return re.findall(r"customer_key called", text)


def prices(shop, shopper, lang="ru"):
    s, body = shopper.api("GET", f"/api/v1/products?lang={lang}")
    st.eq(s, 200, body)
    return {v["slug"]: v["price"]["amount"] for v in body["items"]}


# ------------------------------------------------------------------- tests

def test_members_share_memoized_prices():
    LONG.server()
    ann, bob = ah.shopper(LONG), ah.shopper(LONG)
    before = len(calls(LONG, "pricing"))
    first = prices(LONG, ann)
    st.eq(calls(LONG, "pricing")[before:], [ALL_ITEMS], "the first page is priced:")
    LONG.clock["clock"].advance(STEP_MS)
    keys = len(calls(LONG, "customer_key"))
    st.eq(prices(LONG, bob), first, "another member gets the prices of ten seconds ago:")
    st.eq(len(calls(LONG, "pricing")), before + 1, "and pricing.lua did not run for them:")
    st.eq(len(calls(LONG, "customer_key")), keys + 1, "customer_key ran once for the request:")
    # The product page is the same items: answered from the memo too.
    s, body = bob.api("GET", "/api/v1/products/mug")
    st.eq(s, 200, body)
    st.eq(body["product"]["price"]["amount"], first["mug"], "the product page:")
    st.eq(len(calls(LONG, "pricing")), before + 1, "still no call:")


def test_a_database_change_reprices_at_once():
    LONG.server()
    ann = ah.shopper(LONG)
    old = prices(LONG, ann)
    LONG.clock["clock"].advance(STEP_MS)
    before = len(calls(LONG, "pricing"))
    st.eq(prices(LONG, ann), old, "unchanged: from the memo")
    st.eq(len(calls(LONG, "pricing")), before)
    # Another process changes a base price: every item is priced again, now.
    sh.execute(LONG.store, "UPDATE catalog_variants SET price = price + 100 WHERE sku = 'K-1'")
    new = prices(LONG, ann)
    st.eq(calls(LONG, "pricing")[before:], [ALL_ITEMS], "the whole page is priced again:")
    moved = new["mug"] - old["mug"]
    st.check(moved in (-1000, 4000), f"priced at the new time: {old} then {new}")
    st.eq(new["kettle"] - old["kettle"], 100 + moved, "the new base, at the new time:")
    sh.execute(LONG.store, "UPDATE catalog_variants SET price = price - 100 WHERE sku = 'K-1'")


def test_a_bad_customer_key_fails_the_page():
    LONG.server()
    ann = ah.shopper(LONG)
    before = len(calls(LONG, "pricing"))
    s, body = ann.api("GET", "/api/v1/products?lang=en")
    st.eq(s, 503, body)
    st.eq(body["error"]["code"], "pricing_failed", body)
    st.check("customer_key() returned a number" in body["error"]["message"], body)
    st.eq(len(calls(LONG, "pricing")), before, "no price was asked for:")
    st.check("customer_key() returned a number" in LONG.server().log_text(), "logged")


def test_cache_ms_zero_prices_every_request():
    EXACT.server()
    ann, bob = ah.shopper(EXACT), ah.shopper(EXACT)
    before = len(calls(EXACT, "pricing"))
    keys = len(calls(EXACT, "customer_key"))
    first = prices(EXACT, ann)
    EXACT.clock["clock"].advance(STEP_MS)
    second = prices(EXACT, bob)
    st.eq(calls(EXACT, "pricing")[before:], [ALL_ITEMS, ALL_ITEMS], "each request priced:")
    st.eq(len(calls(EXACT, "customer_key")), keys, "no memo: no customer_key")
    moved = second["mug"] - first["mug"]
    st.check(moved in (-1000, 4000), f"the prices of the moment: {first} then {second}")
    st.eq(second["kettle"] - first["kettle"], moved, "every item at the new time:")


def test_zz_stop():
    LONG.stop()
    EXACT.stop()


if __name__ == "__main__":
    st.main(globals())
