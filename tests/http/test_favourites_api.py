"""Black-box tests of the favourites plugin's favourite products: the JSON API and
the pages, against a real server with the catalog, notify and auth plugins.

Shoppers sign up through the auth API (tests/http/authhelp.py: a code read from
the outbox with `souk outbox`), then use their session as a Bearer token (API) or
as a cookie (pages, where every form must carry the CSRF token)."""
import json
import os
import re
import sqlite3
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

MAX_ITEMS = 2   # settings.favourites.max_items of the test store

# slug, title_ru, title_en, status, [(sku, stock, price, options_ru, options_en)]
PRODUCTS = [
    ("green-tea", "Зелёный чай", "Green tea", "active",
     [("GT-S", 5, 50000, {"размер": "S"}, {"size": "S"}),
      ("GT-L", 0, 90000, {"размер": "L"}, {"size": "L"})]),
    ("black-tea", "Чёрный чай", "Black tea", "active", [("BT-1", 3, 40000, {}, {})]),
    ("old-tea", "Старый чай", "Old tea", "draft", [("OT-1", 1, 10000, {}, {})]),
]


def prepare(store):
    sh.migrate(store)
    sh.seed_catalog(store, ("tea", "Чай", "Tea"), PRODUCTS)


SHOP = ah.served(["catalog", "notify", "auth", "favourites"], prepare, locale="ru",
                 favourites={"max_items": MAX_ITEMS})
server = SHOP.server


# --------------------------------------------------------------- shoppers

def shopper():
    """A new shopper, signed up through the auth API (authhelp)."""
    return ah.shopper(SHOP)


def slugs(view):
    return [i["slug"] for i in view["items"]]


# ------------------------------------------------------------------ tests

def test_guests_are_refused():
    srv = server()
    for method, path in [("GET", "/api/v1/favourites"), ("GET", "/api/v1/favourites/green-tea"),
                         ("POST", "/api/v1/favourites"),
                         ("DELETE", "/api/v1/favourites/green-tea")]:
        s, _, body = srv.request(method, path, body={} if method == "POST" else None)
        st.eq(s, 401, f"{method} {path}")
        st.eq(json.loads(body)["error"]["code"], "unauthorized", f"{method} {path}")
    # A page sends the guest to sign in, and back here afterwards.
    s, hd, _ = srv.request("GET", "/favourites")
    st.check(s in (302, 303), f"GET /favourites as a guest: {s}")
    loc = urllib.parse.urlsplit(hd["location"])
    st.eq(loc.path, "/signin")
    st.eq(urllib.parse.parse_qs(loc.query).get("next"), ["/favourites"])


def test_add_list_get_remove():
    a = shopper()
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq((s, v["items"], v["count"]), (200, [], 0))
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "green-tea"})
    st.eq(s, 201, v)
    st.eq(v["created"], True)
    st.eq(v["favourite"]["slug"], "green-tea")
    st.eq(v["favourite"]["title"], "Зелёный чай")
    st.check(v["favourite"]["added_at"] > 0, v)
    # Adding it again changes nothing.
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "green-tea"})
    st.eq((s, v["created"]), (200, False))
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "black-tea"})
    st.eq(s, 201)
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(s, 200)
    st.eq(slugs(v), ["black-tea", "green-tea"], "newest first")
    st.eq(v["count"], 2)
    card = v["items"][1]["product"]
    st.eq((card["slug"], card["title"], card["url"]), ("green-tea", "Зелёный чай", "/p/green-tea"))
    st.eq(card["in_stock"], True)
    st.check(isinstance(card["price"]["amount"], int) and card["price"]["amount_text"], card)
    st.eq(v["items"][1]["available"], True)
    s, v = a.api("GET", "/api/v1/favourites/green-tea")
    st.eq((s, v["favourite"]["slug"]), (200, "green-tea"))
    s, v = a.api("DELETE", "/api/v1/favourites/green-tea")
    st.eq((s, v["removed"]), (200, {"slug": "green-tea"}))
    s, v = a.api("DELETE", "/api/v1/favourites/green-tea")
    st.eq((s, v["error"]["code"]), (404, "not_found"))
    s, v = a.api("GET", "/api/v1/favourites/green-tea")
    st.eq(s, 404)
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(slugs(v), ["black-tea"])


def test_refusals_name_the_field():
    a = shopper()
    s, v = a.api("POST", "/api/v1/favourites", {})
    st.eq((s, v["error"]["code"], v["error"]["field"]), (422, "invalid", "slug"))
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "no-such-tea"})
    st.eq((s, v["error"]["code"], v["error"]["field"]), (404, "not_found", "slug"))
    st.check("no-such-tea" in v["error"]["message"], v)
    # A draft is not sold: it cannot be added either.
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "old-tea"})
    st.eq(s, 404)
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(v["items"], [], "nothing was added by a refusal")


def test_lists_are_per_account():
    a, b = shopper(), shopper()
    st.eq(a.api("POST", "/api/v1/favourites", {"slug": "green-tea"})[0], 201)
    s, v = b.api("GET", "/api/v1/favourites")
    st.eq(v["items"], [])
    s, v = b.api("DELETE", "/api/v1/favourites/green-tea")
    st.eq(s, 404, "b cannot remove a's favourite")
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(slugs(v), ["green-tea"])


def test_a_product_no_longer_sold_stays_listed():
    a = shopper()
    st.eq(a.api("POST", "/api/v1/favourites", {"slug": "black-tea"})[0], 201)
    db = sqlite3.connect(SHOP.store.path("data/souk.db"), timeout=10)
    try:
        with db:
            db.execute("UPDATE catalog_products SET status = 'archived' WHERE slug = 'black-tea'")
        s, v = a.api("GET", "/api/v1/favourites")
        st.eq(s, 200)
        st.eq(v["items"][0]["slug"], "black-tea")
        st.eq((v["items"][0]["available"], v["items"][0]["product"]), (False, None))
        s, _, text = a.page("GET", "/favourites?lang=en")
        st.check("This product is no longer sold." in text, "the page says it is gone")
    finally:
        with db:
            db.execute("UPDATE catalog_products SET status = 'active' WHERE slug = 'black-tea'")
        db.close()


def test_pages_add_and_remove_with_forms():
    a = shopper()
    token = a.csrf("/favourites")
    s, hd, _ = a.page("POST", "/favourites",
                      {"_csrf": token, "slug": "green-tea", "next": "/p/green-tea"})
    st.eq(s, 303)
    st.eq(hd["location"], "/p/green-tea", "back to the product")
    # The product page shows the message, in the page's language.
    s, _, text = a.page("GET", "/p/green-tea")
    st.eq(s, 200)
    st.check("Товар добавлен в избранное." in text, "no flash message on the product page")
    s, _, text = a.page("GET", "/favourites")
    st.check('href="/p/green-tea"' in text and "Зелёный чай" in text, "the list page shows it")
    st.check("<h1>Избранное</h1>" in text, "the page is in Russian")
    # An unsafe next is ignored: the list page instead.
    s, hd, _ = a.page("POST", "/favourites",
                      {"_csrf": token, "slug": "black-tea", "next": "//evil.example/x"})
    st.eq((s, hd["location"]), (303, "/favourites"))
    # The message is written in the language of the request that made it.
    s, hd, _ = a.page("POST", "/favourites?lang=en",
                      {"_csrf": token, "_method": "DELETE", "slug": "green-tea"})
    st.eq((s, hd["location"]), (303, "/favourites"))
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(slugs(v), ["black-tea"])
    s, _, text = a.page("GET", "/favourites")
    st.check("Removed from your favourites." in text, "no English flash after removing")
    st.check("<h1>Favourites</h1>" in text, "the page is in English")
    # Removing what is not there is news for a page, not an error.
    s, hd, _ = a.page("POST", "/favourites",
                      {"_csrf": token, "_method": "DELETE", "slug": "green-tea",
                       "next": "/p/green-tea"})
    st.eq((s, hd["location"]), (303, "/p/green-tea"))
    # A form without a product: the list page again, with the error beside the form.
    s, _, text = a.page("POST", "/favourites?lang=en", {"_csrf": token, "slug": ""})
    st.eq(s, 422)
    st.check("Choose a product." in text and 'role="alert"' in text, "no error on the form")
    st.check('href="/p/black-tea"' in text, "the rejected form's page still lists the favourites")


def test_forms_without_the_csrf_token_are_refused():
    a = shopper()
    token = a.csrf("/favourites")
    for form in ({"slug": "green-tea"}, {"slug": "green-tea", "_csrf": "x" + token[1:]}):
        s, _, _ = a.page("POST", "/favourites", form)
        st.eq(s, 403, f"form {form}")
    st.eq(a.api("POST", "/api/v1/favourites", {"slug": "black-tea"})[0], 201)
    s, _, _ = a.page("POST", "/favourites", {"_method": "DELETE", "slug": "black-tea"})
    st.eq(s, 403, "a removal without the token")
    s, v = a.api("GET", "/api/v1/favourites")
    st.eq(slugs(v), ["black-tea"], "the refused forms changed nothing")


def test_a_full_list_refuses_more():
    a = shopper()
    for slug in ("green-tea", "black-tea"):
        st.eq(a.api("POST", "/api/v1/favourites", {"slug": slug})[0], 201)
    sh.execute(SHOP.store, "INSERT INTO catalog_products(id, slug, category_id, brand, title_ru,"
                           " title_en, status, created_at, updated_at)"
                           " VALUES(10, 'white-tea', 1, 'Acme', 'Белый чай', 'White tea',"
                           " 'active', 1, 1)")
    s, v = a.api("POST", "/api/v1/favourites", {"slug": "white-tea"})
    st.eq((s, v["error"]["code"]), (409, "limit"))
    st.check(f"{MAX_ITEMS} favourites" in v["error"]["message"], v)
    # Adding one that is already there is not "one more".
    st.eq(a.api("POST", "/api/v1/favourites", {"slug": "black-tea"})[0], 200)
    st.eq(a.api("DELETE", "/api/v1/favourites/green-tea")[0], 200)
    st.eq(a.api("POST", "/api/v1/favourites", {"slug": "white-tea"})[0], 201)


def test_settings_are_checked():
    store = st.Store({"plugins": ["catalog", "notify", "auth", "favourites"],
                      "settings": {"favourites": {"max_itemz": 5}}})
    try:
        p = st.run("check", store.dir, env=store.env())
        st.eq(p.returncode, 1, p.stdout + p.stderr)
        st.check("settings.favourites.max_itemz: unknown setting" in p.stdout + p.stderr,
                 p.stdout + p.stderr)
        store.configure({"plugins": ["catalog", "notify", "auth", "favourites"],
                         "settings": {"favourites": {"max_waitlist": 0}}})
        p = st.run("check", store.dir, env=store.env())
        st.eq(p.returncode, 1)
        st.check("settings.favourites.max_waitlist: expected a whole number from 1 to 10000"
                 in p.stdout + p.stderr, p.stdout + p.stderr)
    finally:
        store.cleanup()


def test_product_page_controls():
    srv = server()
    # A guest: links to sign in that come back to the product, no forms.
    s, _, body = srv.request("GET", "/p/green-tea")
    text = body.decode()
    st.eq(s, 200)
    st.check('href="/signin?next=/p/green-tea"' in text, "no sign-in link for a guest")
    st.check('action="/favourites"' not in text and 'action="/waitlist"' not in text,
             "a guest gets no forms")
    # A shopper: add and remove forms, and "notify me" for the sold-out variant only.
    a = shopper()
    s, _, text = a.page("GET", "/p/green-tea?lang=en")
    st.eq(s, 200)
    forms = re.findall(r'<form[^>]*action="(/favourites|/waitlist)"[^>]*>(.*?)</form>', text, re.S)
    fav = [f for a_, f in forms if a_ == "/favourites"]
    wait = [f for a_, f in forms if a_ == "/waitlist"]
    st.eq(len(fav), 1, "only the action that applies: add")
    st.check('name="slug" value="green-tea"' in fav[0] and 'name="_csrf"' in fav[0], fav)
    st.check("Add to favourites" in fav[0] and 'value="DELETE"' not in fav[0], fav[0])
    st.eq(len(wait), 1, "one sold-out variant, one notify form")
    # Once it is a favourite, the page offers removing it instead.
    s, _, _ = a.form("/favourites", {"slug": "green-tea", "next": "/p/green-tea"},
                     page="/p/green-tea")
    st.eq(s, 303)
    s, _, text = a.page("GET", "/p/green-tea?lang=en")
    forms = re.findall(r'<form[^>]*action="/favourites"[^>]*>(.*?)</form>', text, re.S)
    st.eq(len(forms), 1, "only the action that applies: remove")
    st.check('value="DELETE"' in forms[0] and "Remove from favourites" in forms[0], forms[0])
    st.check("In your favourites" in text, "the state is said in words")
    s, _, _ = a.form("/favourites", {"slug": "green-tea", "_method": "DELETE",
                                     "next": "/p/green-tea"}, page="/p/green-tea")
    st.eq(s, 303)
    st.check('name="sku" value="GT-L"' in wait[0] and "Notify me when back in stock" in wait[0],
             wait[0])


def test_a_store_without_the_plugin_shows_none_of_it():
    with sh.running({"plugins": ["catalog"], "locale": "en"}, prepare, workers=1) as (_, srv):
        s, _, body = srv.request("GET", "/p/green-tea")
    text = body.decode()
    st.eq(s, 200)
    st.check("Green tea" in text, "the product page")
    st.check("/signin?next=" not in text and 'action="/favourites"' not in text and
             'action="/waitlist"' not in text, "no favourites controls without the plugin")


def test_zz_stop():
    SHOP.stop()


if __name__ == "__main__":
    st.main(globals())
