"""Black-box tests of `souk import` (plugins/catalog/import*.c): native CSV and
JSON, Shopify exports, re-runs that change nothing, updates, bad rows reported as
FILE:LINE, --strict and --dry-run writing nothing, sanitised descriptions and
escaped titles on the product page, progress lines when stderr is not a terminal,
and the import rate of a generated file (printed, not asserted).

The files are tests/data/catalog/*; what each should do is spelled out here.  The
effects are checked in the store's database (Python's sqlite3) and through the
JSON API and the product page of a running server."""
import csv
import os
import re
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import souktest as st  # noqa: E402

DATA = os.path.join(st.SOURCE, "tests", "data", "catalog")

# Displayed price = base price: the tests check what the import stored.
PRICING_LUA = r'''
local M = {}
function M.price(items, customer, context)
  local out = souk.array()
  for i, item in ipairs(items) do
    out[i] = { price = item.variant.price, adjustments = souk.array() }
  end
  return out
end
return M
'''

SUMMARY = re.compile(r"^imported (\d+) products, (\d+) variants \((\d+) new, (\d+) updated, "
                     r"(\d+) unchanged\), (\d+) errors in ([0-9.]+) s \((\d+) rows/s\)$", re.M)


def new_store():
    store = st.Store({"plugins": ["catalog"]})
    store.write("scripts/pricing.lua", PRICING_LUA)
    if os.path.exists(store.path("scripts/pricing_test.lua")):
        os.remove(store.path("scripts/pricing_test.lua"))  # about the example's rules
    return store


def data(name):
    return os.path.join(DATA, name)


def run_import(store, *args, check=None, timeout=120):
    return st.run("import", store.dir, *args, env=store.env(), check=check, timeout=timeout)


def summary(p):
    """(products, variants, new, updated, unchanged, errors) of the last summary line."""
    m = SUMMARY.findall(p.stdout)
    st.check(m, f"no summary line in:\n{p.stdout}\n{p.stderr}")
    st.eq(p.stdout.strip().splitlines()[-1].startswith("imported "), True, "summary is the last line")
    return tuple(int(x) for x in m[-1][:6])


def query(store, sql, *args):
    db = sqlite3.connect(store.path("data/souk.db"))
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def bad_lines(p, name):
    """The line numbers that stderr reports for file name (FILE:LINE: ...)."""
    return sorted({int(m) for m in re.findall(re.escape(name) + r":(\d+): ", p.stderr)})


def write_file(store, name, text):
    path = os.path.join(store.tmp, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


# ----------------------------------------------------------------- native CSV


def test_good_csv():
    store = new_store()
    try:
        p = run_import(store, data("good.csv"), check=0)
        st.eq(summary(p), (3, 6, 9, 0, 0, 0))
        st.check("categories: 5 new, 0 updated, 0 unchanged" in p.stdout, p.stdout)
        st.eq(p.stderr, "", "no messages for a good file")

        cats = {r[0]: r[1:] for r in query(store, """
            SELECT c.slug, p.slug, c.name_ru, c.name_en FROM catalog_categories c
            LEFT JOIN catalog_categories p ON p.id = c.parent_id""")}
        st.eq(cats["kitchen"], (None, "Кухня", "Kitchen"))
        st.eq(cats["kettles"], ("kitchen", "Чайники", "Kettles"))
        # one name given for a two-level path: the last level's; the parent existed
        st.eq(cats["teapots"], ("kitchen", "Заварочные чайники", "Teapots"))
        st.eq(cats["t-shirts"], ("clothes", "Футболки", "T-shirts"))

        prod = query(store, """SELECT brand, title_ru, title_en, description_en, status, featured,
                                      attributes, images FROM catalog_products WHERE slug = ?""",
                     "kettle-steel-17")[0]
        st.eq(prod[:6], ("Teplo", "Чайник стальной 1.7 л", "Steel kettle 1.7 l",
                         "<p>A steel kettle with <b>auto shut-off</b>.</p>", "active", 1))
        st.eq(prod[6], '{"material":"steel","volume":"1.7 l"}')
        st.eq(prod[7], '["/media/catalog/kettle-1.jpg","/media/catalog/kettle-2.jpg"]')

        variants = query(store, "SELECT sku, options, price, currency, stock, position "
                                "FROM catalog_variants ORDER BY id")
        st.eq(variants, [
            ("KT-17-SLV", '{"colour":"silver"}', 249000, "RUB", 12, 0),
            ("KT-17-BLK", '{"colour":"black"}', 259050, "RUB", 0, 1),
            ("TP-GL-08", "{}", 99000, "RUB", 30, 0),
            ("TS-B-S", '{"size":"S","colour":"white"}', 79990, "RUB", 5, 0),
            ("TS-B-M", '{"size":"M","colour":"white"}', 79990, "RUB", 7, 1),
            ("TS-B-L", '{"size":"L","colour":"white"}', 79990, "RUB", 0, 2),
        ])
        st.eq(query(store, "SELECT attributes FROM catalog_products WHERE slug = 'teapot-glass'"),
              [('{"material":"glass","volume_ml":800}',)])

        server = st.Server(store)
        try:
            status, body = server.get_json("/api/v1/products/kettle-steel-17?lang=en")
            st.eq(status, 200, str(body))
            prod = body["product"]
            st.eq(prod["title"], "Steel kettle 1.7 l")
            st.eq(prod["category"]["slug"], "kettles")
            st.eq([v["sku"] for v in prod["variants"]], ["KT-17-SLV", "KT-17-BLK"])
            st.eq([v["price"]["base"] for v in prod["variants"]], [249000, 259050])
            st.eq([v["stock"] for v in prod["variants"]], [12, 0])
            st.eq(prod["description_html"], "<p>A steel kettle with <b>auto shut-off</b>.</p>")
            status, body = server.get_json("/api/v1/products/kettle-steel-17?lang=ru")
            st.eq(body["product"]["title"], "Чайник стальной 1.7 л")
            # a draft is imported but not shown
            status, _ = server.get_json("/api/v1/products/tshirt-basic")
            st.eq(status, 404)
        finally:
            server.stop()
    finally:
        store.cleanup()


def test_reimport_changes_nothing():
    store = new_store()
    try:
        run_import(store, data("good.csv"), check=0)
        before = query(store, "SELECT id, slug, updated_at FROM catalog_products ORDER BY id")
        vbefore = query(store, "SELECT * FROM catalog_variants ORDER BY id")
        p = run_import(store, data("good.csv"), check=0)
        st.eq(summary(p), (3, 6, 0, 0, 9, 0))
        st.check("categories: 0 new, 0 updated, 5 unchanged" in p.stdout, p.stdout)
        st.eq(query(store, "SELECT id, slug, updated_at FROM catalog_products ORDER BY id"), before)
        st.eq(query(store, "SELECT * FROM catalog_variants ORDER BY id"), vbefore)
    finally:
        store.cleanup()


def test_changed_rows_update_and_empty_cells_keep():
    store = new_store()
    try:
        run_import(store, data("good.csv"), check=0)
        ids = dict(query(store, "SELECT slug, id FROM catalog_products"))
        with open(data("good.csv"), encoding="utf-8") as f:
            text = f.read()
        text = text.replace("Steel kettle 1.7 l", "Steel kettle 1.7 litres")
        text = text.replace("KT-17-BLK,colour=black,2590.50", "KT-17-BLK,colour=black,2390.00")
        changed = write_file(store, "changed.csv", text)
        p = run_import(store, changed, check=0)
        # the product and one of its variants changed
        st.eq(summary(p), (3, 6, 0, 2, 7, 0))
        st.eq(query(store, "SELECT id, title_en FROM catalog_products WHERE slug = 'kettle-steel-17'"),
              [(ids["kettle-steel-17"], "Steel kettle 1.7 litres")])
        st.eq(query(store, "SELECT price FROM catalog_variants WHERE sku = 'KT-17-BLK'"), [(239000,)])

        # a stock-only file: other columns are absent, so they stay
        stock = write_file(store, "stock.csv", "slug,sku,stock\nkettle-steel-17,KT-17-SLV,3\n"
                                               "kettle-steel-17,KT-17-BLK,\n")
        p = run_import(store, stock, check=0)
        st.eq(summary(p), (1, 2, 0, 1, 2, 0))
        st.eq(query(store, "SELECT sku, price, stock FROM catalog_variants "
                           "WHERE sku LIKE 'KT-17-%' ORDER BY sku"),
              [("KT-17-BLK", 239000, 0), ("KT-17-SLV", 249000, 3)])
        st.eq(query(store, "SELECT title_en, brand, images FROM catalog_products "
                           "WHERE slug = 'kettle-steel-17'"),
              [("Steel kettle 1.7 litres", "Teplo",
                '["/media/catalog/kettle-1.jpg","/media/catalog/kettle-2.jpg"]')])

        # a new variant of an existing product goes after the others
        more = write_file(store, "more.csv", "slug,sku,options,price\n"
                                             "kettle-steel-17,KT-17-RED,colour=red,2690\n")
        p = run_import(store, more, check=0)
        st.eq(summary(p), (1, 1, 1, 0, 1, 0))
        st.eq(query(store, "SELECT position, product_id FROM catalog_variants WHERE sku = 'KT-17-RED'"),
              [(2, ids["kettle-steel-17"])])
    finally:
        store.cleanup()


# ------------------------------------------------------------------- bad rows

BAD_LINES = [3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17]


def test_bad_rows_reported_good_rows_kept():
    store = new_store()
    try:
        path = data("bad.csv")
        p = run_import(store, path, check=0)   # some rows imported: exit 0
        st.eq(bad_lines(p, path), BAD_LINES, p.stderr)
        st.eq(summary(p), (2, 2, 4, 0, 0, len(BAD_LINES)))
        for line, message in [
            (3, "price: '12,3x' is not a price"),
            (4, "stock: '-3' is negative"),
            (5, "status: 'sold' is not a status (draft, active or archived)"),
            (6, "slug: 'Bad Slug' is not a slug"),
            (7, "sku: is empty"),
            (8, "sku: 'GOOD-1' is already used on line 2"),
            (9, "options: 'size' is not name=value"),
            (10, "images: 'javascript:alert(1)' is not an http(s) URL"),
            (11, "price: a new variant ('NP-1') needs a price"),
            (14, "title_en: differs from line 12"),
            (15, "12 fields, but the header has 10"),
            (16, "price: '1.999' has more than 2 decimals"),
            (17, "slug: product 'good-two' already came on line 12"),
        ]:
            st.check(f"{path}:{line}: {message}" in p.stderr, f"missing line {line}: {message}\n{p.stderr}")
        st.eq(query(store, "SELECT slug FROM catalog_products ORDER BY slug"), [("good-one",), ("good-two",)])
        st.eq(query(store, "SELECT sku, price FROM catalog_variants ORDER BY sku"),
              [("GOOD-1", 10000), ("GOOD-2", 2050)])
        # the quoted description spanned lines 12-13; the row after it is line 14
        st.eq(query(store, "SELECT description_en FROM catalog_products WHERE slug = 'good-two'"),
              [("<p>Two\nlines</p>",)])
    finally:
        store.cleanup()


def test_strict_writes_nothing():
    store = new_store()
    try:
        p = run_import(store, data("bad.csv"), "--strict", check=1)
        st.eq(bad_lines(p, data("bad.csv")), BAD_LINES)
        st.check("nothing was written" in p.stdout, p.stdout)
        st.eq(query(store, "SELECT count(*) FROM catalog_products"), [(0,)])
        st.eq(query(store, "SELECT count(*) FROM catalog_categories"), [(0,)])
        # --strict with a good file writes it all
        p = run_import(store, data("good.csv"), "--strict", check=0)
        st.eq(summary(p)[:3], (3, 6, 9))
        st.eq(query(store, "SELECT count(*) FROM catalog_variants"), [(6,)])
    finally:
        store.cleanup()


def test_dry_run_writes_nothing():
    store = new_store()
    try:
        p = run_import(store, data("good.csv"), "--dry-run", check=0)
        st.eq(summary(p), (3, 6, 9, 0, 0, 0))
        st.check("dry run: nothing was written" in p.stdout, p.stdout)
        for table in ("catalog_products", "catalog_variants", "catalog_categories"):
            st.eq(query(store, f"SELECT count(*) FROM {table}"), [(0,)], table)
        # the bad rows of a dry run are the bad rows of the real run
        p = run_import(store, data("bad.csv"), "--dry-run", check=0)
        st.eq(bad_lines(p, data("bad.csv")), BAD_LINES)
        st.eq(query(store, "SELECT count(*) FROM catalog_products"), [(0,)])
        run_import(store, data("good.csv"), check=0)
        p = run_import(store, data("good.csv"), "--dry-run", check=0)
        st.eq(summary(p), (3, 6, 0, 0, 9, 0))
    finally:
        store.cleanup()


def test_nothing_imported_is_a_failure():
    store = new_store()
    try:
        path = write_file(store, "allbad.csv", "slug,sku,price\nok-slug,A-1,12x\nNope,B-1,1\n")
        p = run_import(store, path, check=1)
        st.eq(bad_lines(p, path), [2, 3])
        st.eq(summary(p)[:2], (0, 0))
        # a refused product takes its later rows along, each of them reported
        path = write_file(store, "multi.csv", "slug,status,title_en,category,sku,price\n"
                                              "multi,sold,Multi,misc,M-1,1\n"
                                              "multi,,,,M-2,2\n"
                                              "multi,,,,M-3,x\n")
        p = run_import(store, path, check=1)
        st.eq(bad_lines(p, path), [2, 3, 4], p.stderr)
        st.check(f"{path}:3: not imported: product 'multi' (line 2) was refused" in p.stderr, p.stderr)
        st.check(f"{path}:4: price: 'x' is not a price" in p.stderr, p.stderr)
        st.eq(summary(p)[5], 3)
    finally:
        store.cleanup()


def test_broken_files_write_nothing():
    store = new_store()
    try:
        cases = [
            ("quote.csv", 'slug,sku,price\na,A-1,1\nb,"B-1,2\nc,C-1,3\n', 3, "CSV syntax error"),
            ("stray.csv", 'slug,sku,price\na,A-1,1\nb,B"1,2\n', 3, "CSV syntax error"),
            ("column.csv", "slug,sku,prise\na,A-1,1\n", 1, "unknown column 'prise'"),
            ("nosku.csv", "slug,price\na,1\n", 1, "the header has no 'sku' column"),
            ("broken.json", '{"products": [\n {"slug": "a",\n  "variants": [}\n]}', 3,
             "JSON syntax error"),
            ("section.json", '{"items": []}', 1, "JSON: unknown section 'items'"),
        ]
        for name, text, line, message in cases:
            path = write_file(store, name, text)
            p = run_import(store, path, check=1)
            st.check(f"{path}:{line}: {message}" in p.stderr, f"{name}: {p.stderr}")
            st.check("nothing was written" in p.stdout, p.stdout)
        # Windows-1251 text: refused with the line of the first bad byte
        path = os.path.join(store.tmp, "cp1251.csv")
        with open(path, "wb") as f:
            f.write("slug,sku,title_ru\na,A-1,ok\nb,B-1,Чайник\n".encode("cp1251"))
        p = run_import(store, path, check=1)
        st.check(f"{path}:3: not valid UTF-8" in p.stderr, p.stderr)
        st.eq(query(store, "SELECT count(*) FROM catalog_products"), [(0,)])
    finally:
        store.cleanup()


def test_spreadsheet_csv():
    """A spreadsheet's export: byte order mark, ';' between fields, CRLF, decimal
    prices, quoted values with line breaks, trailing empty rows."""
    store = new_store()
    try:
        text = ("\ufeffslug;category;title_ru;description_ru;sku;price;stock\r\n"
                "vaza;dom/vazy;Ваза;\"<p>Строка 1\r\nстрока 2</p>\";VZ-1;1 490,00;2\r\n"
                "vaza;;;;VZ-2;1490.00;1\r\n"
                ";;;;;;\r\n")
        path = write_file(store, "excel.csv", text)
        p = run_import(store, path, check=0)
        # "1 490,00" is refused (a dot for decimals); the second row is fine
        st.eq(bad_lines(p, path), [2])
        st.check(f"{path}:2: price: '1 490,00' is not a price" in p.stderr, p.stderr)
        st.eq(summary(p)[:2], (1, 1))
        st.eq(query(store, "SELECT title_ru, title_en FROM catalog_products"), [("Ваза", "Ваза")])
    finally:
        store.cleanup()


def test_category_paths_are_not_moved_by_rows():
    store = new_store()
    try:
        run_import(store, data("good.csv"), check=0)
        path = write_file(store, "move.csv", "slug,category,title_en,sku,price\n"
                                             "kettle-2,home/kettles,Kettle 2,K2-1,10\n"
                                             "kettle-3,kettles,Kettle 3,K3-1,10\n")
        p = run_import(store, path, check=0)
        st.check(f"{path}:2: category: 'kettles' is under 'kitchen', not under 'home'" in p.stderr,
                 p.stderr)
        st.eq(bad_lines(p, path), [2])
        # a path may start below the root
        st.eq(query(store, "SELECT c.slug FROM catalog_products p JOIN catalog_categories c "
                           "ON c.id = p.category_id WHERE p.slug = 'kettle-3'"), [("kettles",)])
    finally:
        store.cleanup()


# ----------------------------------------------------------------------- JSON


def test_good_json():
    store = new_store()
    try:
        p = run_import(store, data("good.json"), check=0)
        st.eq(summary(p), (2, 3, 5, 0, 0, 0))
        st.check("categories: 3 new, 0 updated, 0 unchanged" in p.stdout, p.stdout)
        st.check("pickup points: 2 new, 0 updated, 0 unchanged" in p.stdout, p.stdout)
        st.eq(query(store, "SELECT c.slug, c.position, p.slug FROM catalog_categories c "
                           "LEFT JOIN catalog_categories p ON p.id = c.parent_id ORDER BY c.id"),
              [("home", 0, None), ("lighting", 0, "home"), ("textiles", 1, "home")])
        st.eq(query(store, "SELECT sku, price, stock FROM catalog_variants ORDER BY id"),
              [("LAMP-ARC-W", 349000, 7), ("LAMP-ARC-B", 359000, 0), ("THROW-LIN-130", 420000, 3)])
        st.eq(query(store, "SELECT attributes, featured FROM catalog_products WHERE slug = 'desk-lamp-arc'"),
              [('{"power_w":8,"colour_temperature":"3000 K"}', 1)])

        server = st.Server(store)
        try:
            status, body = server.get_json("/api/v1/pickup-points?near=55.75,37.61&lang=en")
            st.eq(status, 200, str(body))
            st.eq([pp["code"] for pp in body["pickup_points"]], ["MSK-TVERSKAYA", "SPB-NEVSKY"])
            status, body = server.get_json("/api/v1/products/linen-throw?lang=en")
            st.eq(status, 200, str(body))
            st.eq([c["slug"] for c in body["product"]["category_path"]], ["home", "textiles"])
        finally:
            server.stop()

        p = run_import(store, data("good.json"), check=0)
        st.eq(summary(p), (2, 3, 0, 0, 5, 0))
        st.check("pickup points: 0 new, 0 updated, 2 unchanged" in p.stdout, p.stdout)
    finally:
        store.cleanup()


def test_bad_json_records_name_their_line():
    store = new_store()
    try:
        text = """{
  "categories": [
    {"slug": "a", "name_en": "A"},
    {"slug": "b", "parent": "nowhere"}
  ],
  "products": [
    {"slug": "p1", "category": "a", "title_en": "P1",
     "variants": [{"sku": "P1-1", "price": 19.9}]},
    {"slug": "p2", "category": "a", "title_en": "P2", "colour": "red",
     "variants": [{"sku": "P2-1", "price": "19.90"}]},
    {"slug": "p3", "category": "a", "title_en": "P3",
     "variants": [{"sku": "P3-1", "price": "5"}, {"sku": "P3-2", "price": "x"}]}
  ],
  "pickup_points": [
    {"code": "X", "name_en": "X", "address_en": "Somewhere", "lat": 91, "lon": 0}
  ]
}
"""
        path = write_file(store, "bad.json", text)
        p = run_import(store, path, check=0)
        st.eq(bad_lines(p, path), [4, 7, 9, 11, 15], p.stderr)
        st.check(f"{path}:4: parent: there is no category 'nowhere'" in p.stderr, p.stderr)
        st.check(f"{path}:7: variants[0].price: give it as text" in p.stderr, p.stderr)
        st.check(f"{path}:9: unknown field 'colour'" in p.stderr, p.stderr)
        st.check(f"{path}:11: variants[1].price: 'x' is not a price" in p.stderr, p.stderr)
        st.check(f"{path}:15: lat: expected a number from -90 to 90" in p.stderr, p.stderr)
        # p3 is imported with its good variant
        st.eq(query(store, "SELECT sku, price FROM catalog_variants"), [("P3-1", 500)])
    finally:
        store.cleanup()


# -------------------------------------------------------------------- Shopify


def test_shopify_export():
    store = new_store()
    try:
        path = data("shopify.csv")
        p = run_import(store, path, "--lang", "en", check=0)
        st.eq(summary(p), (3, 5, 8, 0, 0, 0))
        st.check(f"{path}:3: warning: Variant Inventory Qty: -2 is negative, imported as 0"
                 in p.stderr, p.stderr)
        st.check("'Variant Compare At Price' is not imported" in p.stderr, p.stderr)

        rows = {r[0]: r[1:] for r in query(store, """
            SELECT p.slug, c.slug, c.name_ru, p.brand, p.title_en, p.title_ru, p.description_en,
                   p.attributes, p.images, p.status
            FROM catalog_products p JOIN catalog_categories c ON c.id = p.category_id""")}
        hoodie = rows["classic-hoodie"]
        st.eq(hoodie[:5], ("hoodies", "Hoodies", "Nord", "Classic Hoodie", "Classic Hoodie"))
        st.eq(hoodie[5], "<p>Warm <strong>cotton</strong> hoodie.</p><p>Machine wash at 30°C.</p>")
        st.eq(hoodie[6], '{"tags":["cotton","winter","unisex"]}')
        st.eq(hoodie[7], '["https://cdn.shopify.com/s/files/1/hoodie-front.jpg",'
                         '"https://cdn.shopify.com/s/files/1/hoodie-back.jpg",'
                         '"https://cdn.shopify.com/s/files/1/hoodie-detail.jpg",'
                         '"https://cdn.shopify.com/s/files/1/hoodie-black.jpg"]')
        st.eq(hoodie[8], "active")
        mug = rows["ceramic-mug"]
        st.eq(mug[:2], ("kruzhki", "Кружки"))
        st.eq(rows["winter-gloves"][0], "uncategorised")
        st.eq(rows["winter-gloves"][8], "draft")

        # options are texts of --lang: they go into that locale's column only
        variants = "SELECT sku, options, options_en, price, stock FROM catalog_variants ORDER BY id"
        st.eq(query(store, variants), [
            ("HD-S-GRY", "{}", '{"Size":"S","Colour":"Grey"}', 499000, 10),
            ("classic-hoodie-2", "{}", '{"Size":"M","Colour":"Grey"}', 499000, 0),
            ("HD-L-BLK", "{}", '{"Size":"L","Colour":"Black"}', 519050, 0),
            ("MUG-01", "{}", "{}", 59000, 25),
            ("winter-gloves-1", "{}", "{}", 129000, 4),
        ])

        # the same export again, in the other language: the English titles stay
        # in title_en, and title_ru (a copy so far) takes the export's text; the
        # options fill the Russian column and leave the English one
        p = run_import(store, path, "--lang", "ru", check=0)
        st.eq(summary(p)[2:5], (0, 3, 5))
        st.eq(query(store, variants)[0], ("HD-S-GRY", '{"Size":"S","Colour":"Grey"}',
                                          '{"Size":"S","Colour":"Grey"}', 499000, 10))
        p = run_import(store, path, check=0)
        st.eq(summary(p)[2:5], (0, 0, 8))
    finally:
        store.cleanup()


def test_options_en_round_trip():
    """options_en from CSV and JSON is stored, shown on English pages, and kept by
    a re-import that does not give it."""
    store = new_store()
    try:
        path = write_file(store, "opts.csv",
                          "slug,category,title_ru,title_en,sku,options,options_en,price\n"
                          "mug,kitchen/mugs,Кружка,Mug,MUG-W,цвет=белый,Colour=white,500\n"
                          "mug,,,,MUG-B,цвет=чёрный,Colour=black,500\n")
        p = run_import(store, path, check=0)
        st.eq(summary(p)[:2], (1, 2), p.stderr)
        jpath = write_file(store, "opts.json", """{"products": [{"slug": "cup",
            "category": "kitchen/mugs", "title_ru": "Чашка", "title_en": "Cup",
            "variants": [{"sku": "CUP-1", "options": {"объём": "0,3 л"},
                          "options_en": {"Capacity": "0.3 L"}, "price": 300}]}]}""")
        p = run_import(store, jpath, check=0)
        st.eq(summary(p)[:2], (1, 1), p.stderr)
        variants = "SELECT sku, options, options_en FROM catalog_variants ORDER BY id"
        want = [("MUG-W", '{"цвет":"белый"}', '{"Colour":"white"}'),
                ("MUG-B", '{"цвет":"чёрный"}', '{"Colour":"black"}'),
                ("CUP-1", '{"объём":"0,3 л"}', '{"Capacity":"0.3 L"}')]
        st.eq(query(store, variants), want)
        # a file without the column keeps the translation; a bad value names it
        path = write_file(store, "stock.csv", "slug,sku,stock,options_en\nmug,MUG-W,3,\n"
                                              "mug,MUG-B,4,Colour\n")
        p = run_import(store, path, check=0)
        st.check(f"{path}:3: options_en:" in p.stderr, p.stderr)
        st.eq(query(store, variants), want)
        server = st.Server(store)
        try:
            for lang, opts in (("en", {"Colour": "white"}), ("ru", {"цвет": "белый"})):
                status, body = server.get_json(f"/api/v1/products/mug?lang={lang}")
                st.eq(status, 200, str(body))
                st.eq(body["product"]["variants"][0]["options"], opts, lang)
            status, body = server.get_json("/api/v1/products/cup?lang=en")
            st.eq(body["product"]["variants"][0]["options_text"], "0.3 L")
        finally:
            server.stop()
    finally:
        store.cleanup()


def test_shopify_translation_kept():
    """A re-import in one language leaves the other language's texts alone."""
    store = new_store()
    try:
        run_import(store, data("shopify.csv"), "--lang", "en", check=0)
        db = sqlite3.connect(store.path("data/souk.db"))
        db.execute("UPDATE catalog_products SET title_ru = 'Худи' WHERE slug = 'classic-hoodie'")
        db.commit()
        db.close()
        with open(data("shopify.csv"), encoding="utf-8") as f:
            text = f.read().replace("Classic Hoodie", "Classic Zip Hoodie")
        path = write_file(store, "shopify2.csv", text)
        p = run_import(store, path, "--lang", "en", check=0)
        st.eq(summary(p)[2:5], (0, 1, 7))
        st.eq(query(store, "SELECT title_ru, title_en FROM catalog_products WHERE slug = 'classic-hoodie'"),
              [("Худи", "Classic Zip Hoodie")])
    finally:
        store.cleanup()


# ------------------------------------------------------------------------ XSS


def test_xss_sanitised_and_escaped():
    store = new_store()
    try:
        run_import(store, data("xss.csv"), check=0)
        (title_en, title_ru, brand, desc_en, desc_ru), = query(store, """
            SELECT title_en, title_ru, brand, description_en, description_ru
            FROM catalog_products WHERE slug = 'xss-kettle'""")
        # plain text is stored as typed ...
        st.eq(title_en, "<b>Bold</b> <script>alert(1)</script> kettle")
        st.eq(brand, "<i>Brand</i>")
        # ... descriptions keep the safe subset only
        st.eq(desc_en, "<p>Safe <b>bold</b> text.</p>linkipt&gt;alert(&#39;n&#39;)"
                       "<p>unclosed <b>tag</b></p>")
        st.eq(desc_ru, "<p>Текст</p>&lt;script&gt;")
        for d in (desc_en, desc_ru):
            for bad in ("<script", "<img", "<svg", "<iframe", "<a ", "onerror", "onload",
                        "onclick", "javascript:", "<style", "<object", "<embed"):
                st.check(bad not in d.lower(), f"{bad} in {d}")

        server = st.Server(store)
        try:
            status, _, body = server.request("GET", "/p/xss-kettle?lang=en")
            page = body.decode()
            st.eq(status, 200, page[:500])
            # the title is shown escaped, never as markup
            st.check("&lt;b&gt;Bold&lt;/b&gt;" in page, page[:3000])
            st.check("<b>Bold</b>" not in page, "title rendered as HTML")
            st.check("<script>alert(1)</script>" not in page, "script from the title in the page")
            st.check("onerror=alert" not in page.replace("&#39;", "'"), "handler in the page")
            st.check("<p>Safe <b>bold</b> text.</p>" in page, "sanitised description missing")
            status, body = server.get_json("/api/v1/products/xss-kettle?lang=en")
            st.eq(body["product"]["variants"][0]["options"], {"colour": "<b>red</b>"})
        finally:
            server.stop()
    finally:
        store.cleanup()


# ------------------------------------------------------- progress and timing


def generate(path, rows):
    """rows variant rows, four per product, in five categories."""
    cats = ["kitchen/kettles", "kitchen/teapots", "clothes/t-shirts", "clothes/hoodies", "home/lamps"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["slug", "category", "brand", "title_ru", "title_en", "description_en",
                    "attributes", "sku", "options", "price", "stock"])
        for i in range(rows):
            p, v = divmod(i, 4)
            first = v == 0
            w.writerow([f"product-{p}", cats[p % 5] if first else "", f"Brand {p % 40}" if first else "",
                        f"Товар {p}" if first else "", f"Product {p}" if first else "",
                        f"<p>About product {p}, <b>in bold</b>.</p>" if first else "",
                        f"material=steel; weight={p % 7} kg" if first else "",
                        f"SKU-{p}-{v}", f"size={'SMLX'[v]}", f"{100 + i % 9000}.{i % 100:02d}", str(i % 30)])


def test_progress_lines_and_rate():
    rows = int(os.environ.get("SOUK_IMPORT_BENCH_ROWS", "5000"))
    store = new_store()
    try:
        path = os.path.join(store.tmp, "big.csv")
        generate(path, rows)
        t0 = time.time()
        p = run_import(store, path, check=0, timeout=600)
        wall = time.time() - t0
        products = (rows + 3) // 4
        st.eq(summary(p), (products, rows, products + rows, 0, 0, 0))
        # stderr is a pipe here: plain progress lines, no terminal control codes
        lines = [l for l in p.stderr.splitlines() if l.startswith("import: ")]
        st.check(len(lines) >= 5, p.stderr)
        st.check("\r" not in p.stderr and "\x1b" not in p.stderr, repr(p.stderr[:200]))
        st.check(re.match(r"import: \d+/\d+ rows \(\d+%\), \d+ rows/s, ETA \d+", lines[0]), lines[0])
        done = [int(re.match(r"import: (\d+)/", l).group(1)) for l in lines]
        st.eq(done, sorted(done), "progress only moves forward")
        m = SUMMARY.search(p.stdout)
        print(f"  import of {rows} rows: {m.group(7)} s in the command ({m.group(8)} rows/s), "
              f"{wall:.2f} s wall", flush=True)

        t0 = time.time()
        p = run_import(store, path, check=0, timeout=600)
        st.eq(summary(p), (products, rows, 0, 0, products + rows, 0))
        m = SUMMARY.search(p.stdout)
        print(f"  re-import (nothing changed): {m.group(7)} s ({m.group(8)} rows/s)", flush=True)
    finally:
        store.cleanup()


# ----------------------------------------------------------------------- usage


def test_usage():
    store = new_store()
    try:
        p = run_import(store, "--help", check=0)
        st.check("--dry-run" in p.stdout and "--strict" in p.stdout, p.stdout)
        run_import(store, check=2)
        run_import(store, data("good.csv"), "--format", "xml", check=2)
        run_import(store, data("good.csv"), "--lang", "de", check=2)
        run_import(store, data("good.csv"), "--bogus", check=2)
        p = run_import(store, os.path.join(store.tmp, "missing.csv"), check=1)
        st.check("No such file" in p.stderr, p.stderr)
        # --format overrides the extension
        path = write_file(store, "catalog.txt", open(data("good.json"), encoding="utf-8").read())
        p = run_import(store, path, "--format", "json", check=0)
        st.eq(summary(p)[:2], (2, 3))
    finally:
        store.cleanup()


if __name__ == "__main__":
    st.main(globals())
