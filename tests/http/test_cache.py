"""The core's response cache (api->res_cache): a guest's GET answered again without
running the handler, keyed by path and query, representation and locale; dropped
when the database changes or the max age passes; never for signed-in users; pages
keep a per-visitor CSRF token.  The demo plugin's /api/v1/demo/cached and
/demo/cached make a fresh random token each time their handler runs."""
import glob
import os
import re
import shutil
import time

import souktest as st
from souktest import check, eq

store = st.Store({"plugins": ["demo"], "locale": "en", "locales": ["en", "ru"]})
os.makedirs(store.path("themes/default/templates"), exist_ok=True)
for f in glob.glob(os.path.join(st.SOURCE, "tests/plugins/demo/templates/*.mustache")):
    shutil.copy(f, store.path("themes/default/templates/"))
# One worker: each worker process has a cache of its own.
server = st.Server(store, workers=1)


def token(path, headers=None):
    status, view = server.get_json(path, headers)
    eq(status, 200, path)
    return view["token"], view


def page(path, headers=None):
    status, hdrs, body = server.request("GET", path, headers=headers)
    eq(status, 200, path)
    text = body.decode()
    return re.search(r'<p id="token">([0-9a-f]+)</p>', text).group(1), hdrs, text


def test_same_request_is_served_from_the_cache():
    a, view = token("/api/v1/demo/cached?x=1")
    eq(view["cacheable"], True)
    b, _ = token("/api/v1/demo/cached?x=1")
    eq(b, a, "the second answer is the cached one")
    c, view = token("/api/v1/demo/cached?x=2")
    check(c != a, "another query string is another entry")
    eq(view["x"], "2")
    d, view = token("/api/v1/demo/cached?x=1", {"Accept-Language": "ru"})
    check(d != a, "another locale is another entry")
    eq(view["locale"], "ru")
    eq(token("/api/v1/demo/cached?x=1", {"Accept-Language": "ru"})[0], d)


def test_a_write_invalidates():
    a, _ = token("/api/v1/demo/cached?x=w")
    eq(token("/api/v1/demo/cached?x=w")[0], a)
    status, _, _ = server.request("POST", "/api/v1/demo/notes", {"text": "changed"})
    eq(status, 201)
    b, _ = token("/api/v1/demo/cached?x=w")
    check(b != a, "a committed change makes the cached copy stale")
    eq(token("/api/v1/demo/cached?x=w")[0], b)


def test_a_write_by_another_process_invalidates():
    a, _ = token("/api/v1/demo/cached?x=other")
    eq(token("/api/v1/demo/cached?x=other")[0], a)
    import sqlite3
    db = sqlite3.connect(store.path("data/souk.db"), timeout=10)
    db.execute("INSERT INTO demo_notes(text, created_at) VALUES ('from outside', 0)")
    db.commit()
    db.close()
    check(token("/api/v1/demo/cached?x=other")[0] != a, "another connection's commit seen")


def test_signed_in_users_are_never_cached():
    user = {"X-Demo-User": "ann"}
    a, view = token("/api/v1/demo/cached?x=u", user)
    eq(view["cacheable"], False)
    check(token("/api/v1/demo/cached?x=u", user)[0] != a, "each signed-in request runs")
    # A guest's cached copy is not served to a signed-in user either.
    g, _ = token("/api/v1/demo/cached?x=g")
    eq(token("/api/v1/demo/cached?x=g")[0], g)
    check(token("/api/v1/demo/cached?x=g", user)[0] != g, "the guest's copy is not for users")


def test_expiry():
    a, _ = token("/api/v1/demo/cached?x=e&ms=300")
    eq(token("/api/v1/demo/cached?x=e&ms=300")[0], a)
    time.sleep(0.5)
    check(token("/api/v1/demo/cached?x=e&ms=300")[0] != a, "expired after its max age")


def test_pages_keep_each_visitors_csrf_token():
    t1, h1, body1 = page("/demo/cached?x=p", {"Cookie": "souk_csrf=" + "1" * 32})
    t2, h2, body2 = page("/demo/cached?x=p", {"Cookie": "souk_csrf=" + "2" * 32})
    eq(t2, t1, "the page came from the cache")
    check('value="' + "1" * 32 + '"' in body1, "first visitor's token")
    check('value="' + "2" * 32 + '"' in body2, "second visitor's token")
    check("placeholder" not in body2, "no placeholder left")
    check("1" * 32 not in body2, "not the first visitor's token")
    eq(h2.get("x-frame-options"), "DENY")
    check("content-security-policy" in h2, "page headers on a cached page")
    eq(h2.get("cache-control"), "no-store")
    # A visitor without the cookie gets a fresh one, and the same token in the page.
    t3, h3, body3 = page("/demo/cached?x=p")
    eq(t3, t1)
    cookie = [c for c in h3["set-cookie-list"] if c.startswith("souk_csrf=")][0]
    fresh = cookie.split(";")[0].split("=", 1)[1]
    eq(len(fresh), 32)
    check(f'value="{fresh}"' in body3, "the new cookie's token is in the page")
    # The page and the JSON of one address are separate entries.
    j, _ = token("/demo/cached?x=p")
    check(j != t1, "the JSON representation is cached apart")


def test_a_cached_page_accepts_its_form():
    _, hdrs, body = page("/demo/cached?x=form")
    cookie = [c for c in hdrs["set-cookie-list"] if c.startswith("souk_csrf=")][0]
    tok = cookie.split(";")[0].split("=", 1)[1]
    _, _, body = page("/demo/cached?x=form", {"Cookie": "souk_csrf=" + tok})
    status, _, _ = server.request("POST", "/demo/notes", "text=hi&_csrf=" + tok,
                                  {"Content-Type": "application/x-www-form-urlencoded",
                                   "Cookie": "souk_csrf=" + tok})
    eq(status, 303)


def test_flash_cookie_bypasses_the_cache():
    a, _, _ = page("/demo/cached?x=f")
    eq(page("/demo/cached?x=f")[0], a)
    b, _, _ = page("/demo/cached?x=f", {"Cookie": "souk_flash=W10"})
    check(b != a, "a request with a flash message waiting is rendered")


try:
    st.main(globals())
finally:
    server.stop()
    store.cleanup()
