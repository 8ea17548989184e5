"""The catalog's pages as the server renders them (no browser): the demo store's
home, category, search, product and pickup-point pages in Russian and English.
Checks that the HTML carries the data the API gives (titles, prices, variants),
escapes what a visitor typed, links where it should, and has the filters form and
the pagination links.  The browser tests (tests/browser) look at the same pages
in Chromium."""
import html
import html.parser
import re
import urllib.parse

import souktest as st
from souktest import check, eq

store = st.Store(demo=True)
store.configure({"plugins": ["catalog"], "locale": "ru"})
server = st.Server(store, workers=2)

CYRILLIC = re.compile("[А-Яа-яЁё]")


class Page(html.parser.HTMLParser):
    """A parsed page: start tags with their attributes, and the visible text."""

    def __init__(self, body):
        super().__init__(convert_charrefs=True)
        self.raw = body
        self.elements = []          # (tag, attrs dict)
        self.texts = {}             # tag -> [text of each element], for h1/h2/title
        self._open = []
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3", "title", "option", "button", "del"):
            self._open.append([tag, ""])

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                t, text = self._open.pop(i)
                # Only ASCII blanks collapse: no-break spaces are part of the text.
                self.texts.setdefault(t, []).append(re.sub(r"[ \t\r\n]+", " ", text).strip())
                break

    def handle_data(self, data):
        for o in self._open:
            o[1] += data

    def find(self, tag, **want):
        """Elements tag whose attributes include want (class_ for class: one of the
        element's classes)."""
        out = []
        for t, a in self.elements:
            if t != tag:
                continue
            ok = True
            for k, v in want.items():
                k = k.rstrip("_")
                if k == "class":
                    ok = ok and v in (a.get("class") or "").split()
                else:
                    ok = ok and a.get(k) == v
            if ok:
                out.append(a)
        return out

    def text_of(self, tag):
        return self.texts.get(tag, [])


def get_page(path, lang="ru"):
    status, hdrs, body = server.request("GET", path, headers={"Accept-Language": lang})
    check(hdrs.get("content-type", "").startswith("text/html"), f"{path}: {hdrs.get('content-type')}")
    return status, Page(body.decode("utf-8"))


def get_view(path, lang="ru"):
    status, view = server.get_json(path, headers={"Accept-Language": lang})
    eq(status, 200, path)
    return view


def common(page, lang):
    """What every catalog page has: its language, one h1, the stylesheet, labels."""
    eq(page.find("html")[0].get("lang"), lang, "html lang")
    eq(len(page.text_of("h1")), 1, "h1 count")
    check(page.find("main", id="main"), "no <main id=main>")
    check(page.find("link", rel="stylesheet", href="/static/souk.css"), "no stylesheet")
    ids = {a.get("for") for t, a in page.elements if t == "label" and a.get("for")}
    for t, a in page.elements:
        if t in ("input", "select") and a.get("type") not in ("hidden", "radio", "checkbox"):
            check(a.get("id") in ids, f"{t} name={a.get('name')} has no <label for>")
    for img in page.find("img"):
        check("alt" in img, f"img without alt: {img.get('src')}")


# ------------------------------------------------------------------- home

def test_home_lists_categories_and_featured_products_in_russian():
    view = get_view("/")
    status, page = get_page("/")
    eq(status, 200)
    common(page, "ru")
    text = html.unescape(page.raw)
    for c in view["categories"]:
        check(c["name"] in text, f"category {c['name']} missing")
        check(page.find("a", href=c["url"]), f"no link to {c['url']}")
        for child in c["children"]:
            check(page.find("a", href=child["url"]), f"no link to {child['url']}")
    check(len(view["featured"]) >= 4, "too few featured products")
    titles = page.text_of("h3")
    for card in view["featured"]:
        check(card["title"] in titles, f"featured {card['title']} missing")
        check(page.find("a", class_="card__link", href=card["url"]), f"no link {card['url']}")
        check(page.find("img", src=card["image"], alt=card["title"]), f"no image {card['image']}")
        check(card["price"]["amount_text"] in text, f"no price {card['price']['amount_text']}")
    form = page.find("form", role="search")
    eq(len(form), 1, "search forms")
    eq(form[0].get("action"), "/search")
    eq(form[0].get("method"), "get")
    check(page.find("input", name="q", type="search"), "no search input")


def test_home_in_english():
    view = get_view("/?lang=en", "en")
    status, page = get_page("/?lang=en", "en")
    eq(status, 200)
    common(page, "en")
    text = html.unescape(page.raw)
    check("Kitchen" in text and "Kettles" in text, "English category names missing")
    for card in view["featured"]:
        check(not CYRILLIC.search(card["title"]), f"not English: {card['title']}")
        check(card["title"] in page.text_of("h3"), f"featured {card['title']} missing")
    check("Catalogue sections" in page.text_of("h2"), page.text_of("h2"))


# ---------------------------------------------------------------- listing

def test_category_page_has_cards_filters_and_pages():
    view = get_view("/c/kettles")
    status, page = get_page("/c/kettles")
    eq(status, 200)
    common(page, "ru")
    eq(page.text_of("h1"), ["Чайники"])
    cards = page.find("li", class_="cat-card")
    eq(len(cards), len(view["items"]), "cards")
    eq(len(cards), 24)
    for item in view["items"]:
        check(item["title"] in page.text_of("h3"), f"{item['title']} missing")
        check(page.find("a", href=item["url"]), f"no link {item['url']}")
    # The breadcrumbs lead back to the parent category.
    check(page.find("a", href="/c/kitchen"), "no breadcrumb to /c/kitchen")
    # The filters: a GET form back to this page with every facet brand.
    forms = [a for t, a in page.elements if t == "form" and a.get("action") == "/c/kettles"]
    eq(len(forms), 1, "filter forms")
    eq(forms[0].get("method"), "get")
    brands = {a["value"] for a in page.find("input", name="brand", type="radio")}
    eq(brands, {""} | {b["name"] for b in view["facets"]["brands"]}, "brand choices")
    check(page.find("input", name="in_stock", type="checkbox", value="1"), "no in-stock box")
    check(page.find("input", name="price_from") and page.find("input", name="price_to"),
          "no price bounds")
    sorts = {a["value"] for a in page.find("option")}
    eq(sorts, {"newest", "price_asc", "price_desc"}, "sort options without a search text")
    check(page.find("button", type="submit"), "no submit button")
    check(page.find("aside", id="filters"), "the filters are not in an aside")
    check(page.find("a", href="#filters"), "no link to the filters")
    # Pagination: numbered links and a "next" link to page 2.
    nxt = page.find("a", rel="next")
    eq(len(nxt), 1, "next links")
    eq(urllib.parse.urlsplit(html.unescape(nxt[0]["href"])).path, "/c/kettles")
    check("page=2" in nxt[0]["href"], nxt[0]["href"])
    check(page.find("a", class_="pagination__page", **{"aria-current": "page"}), "no current page")
    check(not page.find("a", rel="prev"), "a previous link on the first page")


def test_second_page_and_filter_state():
    view = get_view("/c/kettles?page=2&brand=Polarix&in_stock=1")
    status, page = get_page("/c/kettles?page=2&brand=Polarix&in_stock=1")
    eq(status, 200)
    check(page.find("a", rel="prev"), "no previous link on page 2")
    current = page.find("a", class_="pagination__page", **{"aria-current": "page"})
    eq(len(current), 1)
    check("page=2" in current[0]["href"], current[0]["href"])
    eq([a["value"] for a in page.find("input", name="brand") if "checked" in a], ["Polarix"])
    check("checked" in page.find("input", name="in_stock")[0], "in_stock not kept checked")
    for item in view["items"]:
        eq(item["brand"], "Polarix")
        check(item["title"] in page.text_of("h3"), f"{item['title']} missing")


def test_price_bounds_are_whole_roubles_and_stay_in_the_form():
    view = get_view("/c/kettles?price_from=2000&price_to=5000&sort=price_desc")
    check(view["total"] > 0, "nothing between 2 000 and 5 000 roubles")
    for item in view["items"]:
        check(200000 <= item["price"]["amount"] <= 500000, f"{item['title']}: {item['price']}")
    status, page = get_page("/c/kettles?price_from=2000&price_to=5000&sort=price_desc")
    eq(status, 200)
    eq(page.find("input", name="price_from")[0].get("value"), "2000")
    eq(page.find("input", name="price_to")[0].get("value"), "5000")
    eq([a["value"] for a in page.find("option") if "selected" in a], ["price_desc"])
    for item in view["items"]:
        check(item["title"] in page.text_of("h3"), f"{item['title']} missing")


def test_search_page_shows_results_and_keeps_the_query():
    q = urllib.parse.quote("чайник")
    view = get_view(f"/search?q={q}")
    check(view["total"] > 0, "nothing found for чайник")
    status, page = get_page(f"/search?q={q}")
    eq(status, 200)
    common(page, "ru")
    check("чайник" in page.text_of("h1")[0], page.text_of("h1"))
    for item in view["items"][:5]:
        check(item["title"] in page.text_of("h3"), f"{item['title']} missing")
    eq(page.find("input", name="q", type="search")[0].get("value"), "чайник")
    # On /search the filter form carries the query along.
    eq([a["value"] for a in page.find("input", type="hidden", name="q")], ["чайник"])
    check("relevance" in {a["value"] for a in page.find("option")}, "no relevance sort")
    check(str(view["total"]) in html.unescape(page.raw), "no result count")


def test_search_page_suggests_products_without_javascript():
    q = urllib.parse.quote("чай")
    view = get_view(f"/search?q={q}")
    check(view["has_suggestions"] and view["suggestions"], view.get("suggestions"))
    status, page = get_page(f"/search?q={q}")
    eq(status, 200)
    eq(page.find("input", name="q", type="search")[0].get("list"), "cat-search-suggestions")
    options = [o.get("value") for o in page.find("option") if o.get("value") and
               o.get("value") not in ("relevance", "price_asc", "price_desc", "newest")]
    for s in view["suggestions"]:
        check(s["title"] in options, f"{s['title']} not in the datalist")
        check(f'href="{s["url"]}"' in page.raw, f"no link to {s['url']}")


def test_search_without_results_and_with_nothing_to_search():
    status, page = get_page("/search?q=zzqxwv")
    eq(status, 200)
    eq(page.find("li", class_="cat-card"), [])
    check("Ничего не нашлось" in html.unescape(page.raw), "no 'nothing found' message")
    view = get_view("/search?q=%2A%2A%2A")
    status, page = get_page("/search?q=%2A%2A%2A")
    eq(status, 200)
    if view.get("query_message"):
        check(view["query_message"] in html.unescape(page.raw), "query_message not shown")


def test_what_a_visitor_typed_is_escaped():
    evil = '"><script>alert(1)</script>&'
    status, hdrs, body = server.request("GET", "/search?q=" + urllib.parse.quote(evil))
    eq(status, 200)
    text = body.decode()
    check("<script>alert(1)" not in text, "the query reached the page unescaped")
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in text, "the escaped query is not shown")
    check('value="&quot;&gt;&lt;script&gt;' in text, "the search box value is not escaped")


# ----------------------------------------------------------------- product

def first_product(lang="ru"):
    return get_view("/c/kettles", lang)["items"][0]


def test_product_page_shows_price_variants_and_pickup_points():
    slug = first_product()["slug"]
    view = get_view(f"/p/{slug}")
    product = view["product"]
    status, page = get_page(f"/p/{slug}")
    eq(status, 200)
    common(page, "ru")
    eq(page.text_of("h1"), [product["title"]])
    text = html.unescape(page.raw)
    check(product["price"]["amount_text"] in text, "no price")
    if product["price"]["discounted"]:
        check(product["price"]["base_text"] in page.text_of("del")[0], "no crossed-out price")
        for adj in product["price"]["adjustments"]:
            check(adj["label"] in text and adj["amount_text"] in text, f"adjustment {adj}")
    rows = page.raw.count('<th scope="row">')
    eq(rows, len(product["variants"]), "variant rows")
    for v in product["variants"]:
        check(v["sku"] in text, f"no SKU {v['sku']}")
        check(v["price"]["amount_text"] in text, f"no price of {v['sku']}")
    # The attributes table, in the page's language (the demo's first category,
    # kettles, has a capacity).
    check(page.find("dl", class_="cat-attributes__list"), "no attributes list")
    check("<dt>Объём</dt>" in page.raw, "the attributes table is empty (product.attribute_list)")
    # The sanitised description is HTML, the only raw output.
    check(product["description_html"] in page.raw, "the description is not rendered as HTML")
    for p in view["pickup_points"]:
        check(p["name"] in text and p["address"] in text, f"pickup point {p['code']}")
    for crumb in view["breadcrumbs"][:-1]:
        check(page.find("a", href=crumb["url"]), f"no breadcrumb {crumb['url']}")
    check(page.find("span", **{"aria-current": "page"}), "the product is not the current crumb")
    check(page.find("a", href=product["category"]["url"]), "no link to the category")
    check(page.find("img", src=product["images"][0], alt=product["title"]), "no image")


def test_product_page_in_english():
    slug = first_product()["slug"]
    view = get_view(f"/p/{slug}?lang=en", "en")
    status, page = get_page(f"/p/{slug}?lang=en", "en")
    eq(status, 200)
    common(page, "en")
    title = page.text_of("h1")[0]
    eq(title, view["product"]["title"])
    check(not CYRILLIC.search(title), title)
    check("Options" in page.text_of("h2") and "Description" in page.text_of("h2"),
          page.text_of("h2"))
    check(not CYRILLIC.search(view["product"]["description_html"]), "description not English")
    check("<dt>Capacity</dt>" in page.raw, "no English attributes (product.attribute_list)")


def test_product_image_is_served():
    img = first_product()["image"]
    check(img.startswith("/media/catalog/") and img.endswith(".svg"), img)
    status, hdrs, body = server.request("GET", img)
    eq(status, 200, img)
    check(hdrs["content-type"].startswith("image/svg+xml"), hdrs["content-type"])
    check(body.startswith(b"<svg ") and len(body) < 1024, body[:40])


def test_unknown_product_and_category_are_404_pages():
    for path in ("/p/no-such-product", "/c/no-such-category"):
        status, page = get_page(path)
        eq(status, 404, path)
        eq(len(page.text_of("h1")), 1)


# ----------------------------------------------------------- pickup points

def test_pickup_points_page_and_nearest():
    view = get_view("/pickup-points")
    status, page = get_page("/pickup-points")
    eq(status, 200)
    common(page, "ru")
    eq(len(view["pickup_points"]), 12)
    text = html.unescape(page.raw)
    for p in view["pickup_points"]:
        check(p["name"] in text and p["address"] in text and p["hours"] in text, p["code"])
    form = [a for t, a in page.elements if t == "form" and a.get("action") == "/pickup-points"]
    eq(len(form), 1)
    check(page.find("input", name="near", id="field-near"), "no near field")
    near = urllib.parse.quote("59.9343,30.3351")
    view = get_view(f"/pickup-points?near={near}")
    status, page = get_page(f"/pickup-points?near={near}")
    eq(status, 200)
    first = view["pickup_points"][0]
    eq(first["code"], "SPB-NEVSKY")
    cards = page.text_of("h3")
    eq(cards[0], first["name"])
    check(first["distance_text"] in html.unescape(page.raw), "no distance")
    eq(page.find("input", name="near")[0].get("value"), "59.9343,30.3351")


def test_pickup_points_in_english():
    status, page = get_page("/pickup-points?lang=en", "en")
    eq(status, 200)
    common(page, "en")
    text = html.unescape(page.raw)
    check("Saint Petersburg" in text and "Moscow" in text, "English addresses missing")
    eq(page.text_of("h1"), ["Pickup points"])


def teardown():
    server.stop()
    store.cleanup()


if __name__ == "__main__":
    try:
        st.main(globals())
    finally:
        teardown()
