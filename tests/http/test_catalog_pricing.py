"""Displayed prices from the merchant's pricing.lua (docs/pricing.md): the shipped
example's rules through the API and `souk price`, the store clock and --at moving in
and out of a sale, a member price, and every way a script can fail -- a syntax error
(souk check), a runtime error, a float price, a wrong number of answers, a price that
does not add up, an endless loop, a memory bomb, no script at all -- each of which
must give 503 "pricing_failed" with no price in the body, and `souk price` exit 1
with the reason."""
import calendar
import json
import os
import sqlite3
import time

import souktest as st
from souktest import check, eq


def utc_ms(y, m, d, hh=0, mm=0, ss=0):
    return calendar.timegm((y, m, d, hh, mm, ss)) * 1000


# Moments of the shipped example's calendar (its sales are in Moscow time, UTC+3).
ORDINARY_DAY = utc_ms(2026, 10, 1, 9)
BLACK_FRIDAY = utc_ms(2026, 11, 28, 9)      # 27 Nov - 1 Dec 2026 MSK: 10% off
BLACK_FRIDAY_FROM = utc_ms(2026, 11, 26, 21)  # 27 Nov 00:00 MSK
BLACK_FRIDAY_TO = utc_ms(2026, 11, 30, 21)    # 1 Dec 00:00 MSK (excluded)

PRODUCT = "altai-jacket"


def seed(store):
    """Two categories, three products (one with two variants), straight into the
    tables of plugins/catalog/schema.c."""
    db = sqlite3.connect(store.path("data/souk.db"))
    db.executescript("""
        INSERT INTO catalog_categories(id, slug, parent_id, position, name_ru, name_en) VALUES
          (1, 'clothing', NULL, 0, 'Одежда', 'Clothing'),
          (2, 'jackets', 1, 0, 'Куртки', 'Jackets');
        INSERT INTO catalog_products(id, slug, category_id, brand, title_ru, title_en,
                                     attributes, status, created_at, updated_at) VALUES
          (1, 'altai-jacket', 2, 'Altai', 'Пуховик Altai JK-1004', 'Altai JK-1004 down jacket',
           '{"season": "winter"}', 'active', 1000, 1000),
          (2, 'tundra-jacket', 2, 'Tundra', 'Ветровка Tundra JK-2001',
           'Tundra JK-2001 windbreaker', '{}', 'active', 2000, 2000),
          (3, 'nordika-parka', 2, 'Nordika', 'Парка Nordika PK-3001', 'Nordika PK-3001 parka',
           '{}', 'draft', 3000, 3000);
        INSERT INTO catalog_variants(product_id, sku, options, position, price, currency, stock)
          VALUES
          (1, 'JK-1004-M', '{"size": "M"}', 0, 249000, 'RUB', 12),
          (1, 'JK-1004-L', '{"size": "L"}', 1, 259950, 'RUB', 0),
          (2, 'JK-2001', '{}', 0, 100000, 'RUB', 3),
          (3, 'PK-3001', '{}', 0, 100000, 'RUB', 1);
    """)
    db.commit()
    db.close()


def make_store(config=None):
    """A Russian shop (shoppers may switch to English) with the seeded catalog.
    The response cache is off: these tests move the store clock between requests
    (SOUK_CLOCK_FILE), which the cache does not notice."""
    conf = {"plugins": ["catalog"], "locale": "ru", "locales": ["ru", "en"],
            "settings": {"catalog": {"cache_ms": 0}}}
    conf.update(config or {})
    store = st.Store(conf)
    st.run("migrate", store.dir, env=store.env(), check=0)
    seed(store)
    return store


class Clock:
    """The store clock of a dev-mode store, moved through SOUK_CLOCK_FILE (an offset
    in ms from the real time)."""

    def __init__(self, store):
        self.path = os.path.join(store.tmp, "clock")
        self.stamp = time.time_ns()

    def set(self, ms):
        with open(self.path, "w") as f:
            f.write(str(ms - int(time.time() * 1000)))
        # The server re-reads the file when its mtime changes: make sure it does,
        # whatever the file system's timestamp granularity.
        self.stamp = max(self.stamp + 1_000_000, time.time_ns())
        os.utime(self.path, ns=(self.stamp, self.stamp))

    def env(self):
        return {"SOUK_CLOCK_FILE": self.path}


def price(store, *args, env=None):
    e = dict(store.env())
    e.update(env or {})
    return st.run("price", store.dir, "--product", PRODUCT, *args, env=e)


def price_json(store, *args, env=None):
    p = price(store, "--json", *args, env=env)
    eq(p.returncode, 0, p.stdout + p.stderr)
    return json.loads(p.stdout)


def rules(shape):
    return [a["rule"] for a in shape["adjustments"]]


def check_adds_up(shape):
    check(isinstance(shape["amount"], int) and isinstance(shape["base"], int), shape)
    eq(shape["amount"], shape["base"] + sum(a["amount"] for a in shape["adjustments"]),
       "amount = base + adjustments")
    eq(shape["discounted"], shape["amount"] < shape["base"], "discounted")
    check(isinstance(shape["amount_text"], str) and shape["amount_text"], shape)
    for a in shape["adjustments"]:
        check(set(a) == {"label", "amount", "amount_text", "rule"}, a)


def variant_prices(product):
    return {v["sku"]: v["price"] for v in product["variants"]}


# ----------------------------------------------------------------- the rules


def test_shipped_script_passes_its_tests():
    store = make_store()
    try:
        p = st.run("script", "test", store.dir)
        eq(p.returncode, 0, p.stdout + p.stderr)
        check("ok   pricing: black friday takes 10% off" in p.stdout, p.stdout)
        check(" 0 failed" in p.stdout, p.stdout)
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 0, p.stdout + p.stderr)
    finally:
        store.cleanup()


def test_example_rules_through_the_api():
    store = make_store()
    clock = Clock(store)
    clock.set(ORDINARY_DAY)
    server = st.Server(store, workers=1, env=clock.env())
    try:
        # An ordinary day: the Altai discount, the price ending; Tundra untouched.
        s, body = server.get_json("/api/v1/products/" + PRODUCT)
        eq(s, 200, body)
        prices = variant_prices(body["product"])
        white, black = prices["JK-1004-M"], prices["JK-1004-L"]
        eq(white["base"], 249000)
        eq(white["amount"], 229000)
        eq(white["currency"], "RUB")
        eq(rules(white), ["brand-discount", "price-ending"])
        eq([a["amount"] for a in white["adjustments"]], [-17400, -2600])
        eq(white["adjustments"][0]["label"], "Скидка на Altai −7%")
        eq(black["amount"], 239000)
        for shape in prices.values():
            check_adds_up(shape)
        # the card shows the cheapest variant
        eq(body["product"]["price"]["amount"], 229000)
        s, body = server.get_json("/api/v1/products/tundra-jacket")
        eq(s, 200, body)
        tundra = body["product"]["variants"][0]["price"]
        eq((tundra["amount"], tundra["adjustments"], tundra["discounted"]), (100000, [], False))

        # Black Friday, without restarting: the store clock moved.
        clock.set(BLACK_FRIDAY)
        s, body = server.get_json("/api/v1/products/" + PRODUCT)
        eq(s, 200, body)
        white = variant_prices(body["product"])["JK-1004-M"]
        eq(rules(white), ["black-friday", "brand-discount", "price-ending"])
        eq(white["amount"], 199000)
        eq(white["adjustments"][0]["label"], "Чёрная пятница −10%")
        check_adds_up(white)

        # The same rules in English.
        s, body = server.get_json("/api/v1/products/" + PRODUCT + "?lang=en")
        eq(s, 200, body)
        labels = [a["label"] for a in variant_prices(body["product"])["JK-1004-M"]["adjustments"]]
        eq(labels, ["Black Friday −10%", "Altai discount −7%", "Price rounding"])

        # A listing prices its page in one call; its filters see displayed prices:
        # Tundra's 1 000 ₽ is 890 ₽ on Black Friday.
        s, body = server.get_json("/api/v1/products?category=jackets&sort=price_asc")
        eq(s, 200, body)
        eq([c["slug"] for c in body["items"]], ["tundra-jacket", "altai-jacket"])
        eq([c["price"]["amount"] for c in body["items"]], [89000, 199000])
        for c in body["items"]:
            check_adds_up(c["price"])
        s, body = server.get_json("/api/v1/products?category=jackets&min_price=95000")
        eq(s, 200, body)
        eq([c["slug"] for c in body["items"]], ["altai-jacket"])

        # Back to an ordinary day.
        clock.set(ORDINARY_DAY)
        s, body = server.get_json("/api/v1/products/tundra-jacket")
        eq(body["product"]["price"]["amount"], 100000)
    finally:
        server.stop()
        store.cleanup()


def test_member_price_in_souk_price():
    store = make_store()
    try:
        member = os.path.join(store.tmp, "member.json")
        with open(member, "w") as f:
            json.dump({"id": 7, "member": True, "level": "gold"}, f)
        out = price_json(store, "--customer-json", member, "--at", "2026-11-28T09:00:00Z")
        eq(out["customer"], {"id": 7, "member": True, "level": "gold"})
        white = {v["sku"]: v["price"] for v in out["variants"]}["JK-1004-M"]
        eq(rules(white), ["black-friday", "brand-discount", "member-price", "price-ending"])
        eq(white["amount"], 189000)
        eq(white["adjustments"][2]["amount"], -12500)
        check_adds_up(white)

        # The text report: every adjustment's label, amount and rule, and the price.
        p = price(store, "--customer-json", member, "--at", "2026-11-28T09:00:00Z")
        eq(p.returncode, 0, p.stderr)
        for text in ("Цена по клубной карте −5%", "member-price", white["amount_text"],
                     white["base_text"], white["adjustments"][2]["amount_text"],
                     'customer  {"id":7,"member":true,"level":"gold"}', "JK-1004-M",
                     "JK-1004-L", "Пуховик Altai JK-1004", "clothing / jackets"):
            check(text in p.stdout, f"{text!r} not in:\n{p.stdout}")
        lines = [l.split() for l in p.stdout.splitlines()]
        check(["price"] + white["amount_text"].split() in lines, p.stdout)

        # A signed-in customer who is not a member, and a guest: no member price.
        plain = os.path.join(store.tmp, "plain.json")
        with open(plain, "w") as f:
            json.dump({"id": 8}, f)
        for args in (["--customer-json", plain], []):
            out = price_json(store, "--at", "2026-11-28T09:00:00Z", *args)
            white = {v["sku"]: v["price"] for v in out["variants"]}["JK-1004-M"]
            check("member-price" not in rules(white), args)
            eq(white["amount"], 199000)

        # English labels on request.
        p = price(store, "--customer-json", member, "--at", "2026-11-28", "--lang", "en")
        eq(p.returncode, 0, p.stderr)
        check("Club card price −5%" in p.stdout and "locale    en" in p.stdout, p.stdout)

        # A customer file that is not JSON: exit 1 naming the file and the line.
        with open(plain, "w") as f:
            f.write('{"id": 8,\n "member": tru}\n')
        p = price(store, "--customer-json", plain)
        eq(p.returncode, 1, p.stdout)
        check("plain.json:2" in p.stderr, p.stderr)
        eq(p.stdout, "")
    finally:
        store.cleanup()


def test_at_moves_in_and_out_of_the_sale():
    store = make_store()
    try:
        def sale_rules(*args, env=None):
            out = price_json(store, *args, env=env)
            return [r for r in rules(out["variants"][0]["price"]) if r == "black-friday"]

        inside = ["black-friday"]
        eq(sale_rules("--at", "2026-11-26T20:59:59Z"), [])          # 23:59:59 MSK, 26 Nov
        eq(sale_rules("--at", "2026-11-26T21:00:00Z"), inside)      # 00:00 MSK, 27 Nov
        eq(sale_rules("--at", "2026-11-27T00:00:00+03:00"), inside)
        eq(sale_rules("--at", "2026-11-28"), inside)
        eq(sale_rules("--at", str(BLACK_FRIDAY_TO - 1)), inside)    # unix ms
        eq(sale_rules("--at", "2026-11-30T23:59:59.999+03:00"), inside)
        eq(sale_rules("--at", "2026-12-01"), [])                    # 03:00 MSK, 1 Dec
        eq(sale_rules("--at", str(BLACK_FRIDAY_TO)), [])
        out = price_json(store, "--at", "2026-11-26T21:00:00Z")
        eq((out["at"], out["at_text"]), (BLACK_FRIDAY_FROM, "2026-11-26T21:00:00Z"))

        # Without --at: the store clock (moved in a dev-mode store).
        clock = Clock(store)
        clock.set(BLACK_FRIDAY)
        eq(sale_rules(env=clock.env()), inside)
        clock.set(ORDINARY_DAY)
        eq(sale_rules(env=clock.env()), [])
    finally:
        store.cleanup()


def test_souk_price_usage():
    store = make_store()
    try:
        p = st.run("price", store.dir, "--help", env=store.env())
        eq(p.returncode, 0, p.stderr)
        check("usage: souk price DIR --product SLUG" in p.stdout, p.stdout)
        for args in ([], ["--product"], ["--product", PRODUCT, "--at", "next week"],
                     ["--product", PRODUCT, "--at", "2026-02-30"],
                     ["--product", PRODUCT, "--lang", "de"], ["--product", PRODUCT, "--frob"],
                     ["--product", PRODUCT, "stray"]):
            p = st.run("price", store.dir, *args, env=store.env())
            eq(p.returncode, 2, f"{args}: {p.stdout} {p.stderr}")
            check("usage: souk price" in p.stderr, p.stderr)
        p = st.run("price", store.dir, "--product", PRODUCT, "--at", "next week",
                   env=store.env())
        check("--at 'next week'" in p.stderr, p.stderr)
        p = st.run("price", store.dir, "--product", "no-such-jacket", env=store.env())
        eq(p.returncode, 1)
        check("no product 'no-such-jacket'" in p.stderr, p.stderr)
        # drafts are priced too: the merchant previews before publishing
        p = st.run("price", store.dir, "--product", "nordika-parka", "--at", "2026-10-01",
                   env=store.env())
        eq(p.returncode, 0, p.stderr)
        check("status    draft" in p.stdout and "brand-discount" in p.stdout, p.stdout)
    finally:
        store.cleanup()


# ------------------------------------------------------------------ failures


def test_syntax_error_fails_check():
    store = make_store()
    try:
        store.write("scripts/pricing.lua", "local M = {}\n\nfunction M.price(items\n"
                    "  return items\nend\nreturn M\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1, p.stdout)
        check("pricing.lua:4" in p.stderr, p.stderr)
        p = price(store)
        eq(p.returncode, 1, p.stdout)
        check("pricing.lua:4" in p.stderr, p.stderr)
        eq(p.stdout, "")
        server = st.Server(store, workers=1, expect_fail=True)
        try:
            check(server.port is None, "a store with a broken pricing.lua must not start")
            check("pricing.lua:4" in server.log_text(), server.log_text())
        finally:
            server.kill()
    finally:
        store.cleanup()


HEADER = "local M = {}\nfunction M.price(items, customer, context)\n"
FOOTER = "end\nreturn M\n"

# (name, the body of price() from line 3 on, the reason for the product page, the
# part of it that also holds for a listing, whose page has other items).
BROKEN = [
    ("runtime error", "  local level = customer.level\n  return {}\n",
     "pricing.lua:3: attempt to index a nil value (local 'customer')",
     "pricing.lua:3: attempt to index a nil value"),
    ("float price",
     "  local out = souk.array()\n"
     "  for i, it in ipairs(items) do\n"
     "    out[i] = { price = it.variant.price * 90 / 100, adjustments = {} }\n"
     "  end\n  return out\n",
     "pricing.lua: item 1 (sku JK-1004-M): price 224100.0 is not an integer",
     ".0 is not an integer"),
    ("wrong count",
     "  return { { price = items[1].variant.price } }\n",
     "pricing.lua: price() returned 1 answer for 2 items",
     "pricing.lua: price() returned 1 answer for "),
    ("sum mismatch",
     "  local out = souk.array()\n"
     "  for i, it in ipairs(items) do\n"
     "    out[i] = { price = it.variant.price - 10000, adjustments = {\n"
     "      { label = 'Sale', amount = -5000, rule = 'sale' } } }\n"
     "  end\n  return out\n",
     "pricing.lua: item 1 (sku JK-1004-M): price 239000 does not add up: base 249000 + "
     "adjustments -5000 = 244000",
     "does not add up"),
    ("endless loop", "  local n = 0\n  while true do n = n + 1 end\n",
     "instruction budget exceeded", "instruction budget exceeded"),
    ("memory bomb",
     "  local t = {}\n  for i = 1, math.maxinteger do t[i] = ('x'):rep(4096) .. i end\n",
     "memory limit exceeded", "memory limit exceeded"),
]


def check_failed(server, path, reason, html=False):
    """A priced path answers 503 pricing_failed, with the reason and no price."""
    headers = {"Accept": "text/html"} if html else {"Accept": "application/json"}
    s, hdrs, raw = server.request("GET", path, headers=headers)
    eq(s, 503, f"{path}: {raw[:300]!r}")
    text = raw.decode()
    check(reason in text or reason.replace("'", "&#39;") in text,
          f"{path}: {reason!r} not in {text[:600]}")
    for leak in ('"amount"', '"base"', "229000", "2 290", "2\u202f290"):
        check(leak not in text, f"{path}: a price leaked: {leak} in {text[:600]}")
    if html:
        check(hdrs["content-type"].startswith("text/html"), hdrs)
    else:
        body = json.loads(raw)
        eq(body["error"]["code"], "pricing_failed")
        check("product" not in body and "items" not in body, body)


def test_broken_scripts_fail_the_request():
    store = make_store({"scripts": {"instructions": 2000000, "memory": 16777216}})
    try:
        # The shipped cases test the shipped rules, not these scripts.
        os.remove(store.path("scripts/pricing_test.lua"))
        for name, body, reason, listing_reason in BROKEN:
            store.write("scripts/pricing.lua", HEADER + body + FOOTER)
            server = st.Server(store, workers=1)
            try:
                check_failed(server, "/api/v1/products/" + PRODUCT, reason)
                check_failed(server, "/api/v1/products?category=jackets", listing_reason)
                check_failed(server, "/", listing_reason)  # the home page's products
                check_failed(server, "/p/" + PRODUCT, reason, html=True)
                # the worker survived the failure and still answers the same way
                check_failed(server, "/api/v1/products/" + PRODUCT, reason)
                s, _ = server.get_json("/api/v1/categories")
                eq(s, 200, name)
                log = server.log_text()
                check(reason in log, f"{name}: {reason!r} not in the log:\n{log}")
            finally:
                server.stop()
            p = price(store, "--at", "2026-10-01")
            eq(p.returncode, 1, f"{name}: {p.stdout}")
            check(reason in p.stderr, f"{name}: {p.stderr}")
            eq(p.stdout, "", name)
    finally:
        store.cleanup()


def test_runtime_errors_log_the_line():
    store = make_store()
    try:
        os.remove(store.path("scripts/pricing_test.lua"))
        store.write("scripts/pricing.lua", HEADER + "  local x = nil\n\n  return x.y\n" + FOOTER)
        server = st.Server(store, workers=1)
        try:
            s, body = server.get_json("/api/v1/products/" + PRODUCT)
            eq(s, 503, body)
            check("pricing.lua:5:" in body["error"]["message"], body)
            check("pricing.lua:5: attempt to index a nil value" in server.log_text(),
                  server.log_text())
        finally:
            server.stop()
    finally:
        store.cleanup()


def test_no_script_is_no_price():
    store = make_store()
    try:
        os.remove(store.path("scripts/pricing_test.lua"))
        os.remove(store.path("scripts/pricing.lua"))
        server = st.Server(store, workers=1)
        try:
            check_failed(server, "/api/v1/products/" + PRODUCT, "no script 'pricing'")
        finally:
            server.stop()
        p = price(store)
        eq(p.returncode, 1)
        check("no script 'pricing'" in p.stderr, p.stderr)
    finally:
        store.cleanup()


st.main(globals())
