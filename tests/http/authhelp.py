"""authhelp -- helpers for the black-box tests of the auth plugin and of the
plugins that need a signed-in shopper.

Two ways to drive a store with the notify and auth plugins (dev mode, which
souktest's Store sets), served by the real `souk serve`:

    shop = ah.Shop({"code_ttl_ms": 120000})   # settings.auth; a store of its own
    s, hd, v = shop.send_code(phone=ah.new_phone())
    token, account = shop.signup(ah.new_phone())
    browser = shop.client()                   # keeps cookies; forms carry the CSRF token
    shop.advance(5 * ah.MINUTE_MS)            # the store clock (SOUK_CLOCK_FILE)
    shop.close()
    ah.shop()                                 # the test file's default Shop, closed at exit

    shopper = ah.Shopper(server, store)       # a new phone, signed up, on any served store
    s, view = shopper.api("GET", "/api/v1/account")     # Bearer token
    s, hd, html = shopper.page("GET", "/account")       # session cookie
    code = ah.last_code(store, "+79990000001")          # read from the outbox

A shopper signs up exactly as a person does: POST /api/v1/auth/code with the
phone, the code read back with `souk outbox DIR --to PHONE --json` (the notify
plugin's dev channel), POST /api/v1/auth/verify, then POST /api/v1/auth/signup
accepting the terms.  Tests that make many shoppers should raise
settings.auth.codes_per_ip and checks_per_ip (one address sends every code):
STORE_SETTINGS does, and a Shop uses it unless told otherwise."""
import atexit
import html
import itertools
import json
import os
import re
import time
import urllib.parse

import seedhelp as sh
import souktest as st

# settings.auth for a test store: every code comes from 127.0.0.1.
STORE_SETTINGS = {"codes_per_ip": 100000, "checks_per_ip": 100000}

MINUTE_MS = 60 * 1000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_numbers = itertools.count(1)


class Clock:
    """The store clock of a dev-mode store, moved through SOUK_CLOCK_FILE: the file
    holds an offset in ms from the real time, re-read by the server when its
    modification time changes.  Pass clock.env() to st.Server."""

    def __init__(self, store):
        self.path = os.path.join(store.tmp, "clock")
        self.offset = 0
        self.stamp = time.time_ns()
        self.set(0)

    def set(self, offset_ms):
        self.offset = int(offset_ms)
        with open(self.path, "w") as f:
            f.write(str(self.offset))
        # A new mtime whatever the file system's timestamp granularity.
        self.stamp = max(self.stamp + 1_000_000, time.time_ns())
        os.utime(self.path, ns=(self.stamp, self.stamp))

    def advance(self, ms):
        self.set(self.offset + ms)

    def env(self):
        return {"SOUK_CLOCK_FILE": self.path}


def new_phone(prefix="+7999"):
    """A fresh Russian mobile number (E.164) for this test process."""
    return f"{prefix}{next(_numbers):07d}"


def normal_phone(p):
    """The E.164 form of the test numbers (written +7..., 8... or 10 digits)."""
    d = re.sub(r"\D", "", p)
    if len(d) == 10:
        d = "7" + d
    if len(d) == 11 and d[0] == "8":
        d = "7" + d[1:]
    return "+" + d


# ------------------------------------------------------------------ outbox

def outbox(store, to):
    """The outbox messages to an address, oldest first (list of dicts)."""
    p = st.run("outbox", store.dir, "--to", to, "--json", env=store.env())
    if p.returncode != 0 or not p.stdout.strip():
        return []
    out = json.loads(p.stdout)
    return out if isinstance(out, list) else [out]


def messages(store, to, message=None):
    """The outbox messages to an address, only those of a message template name
    when given."""
    return [m for m in outbox(store, to) if message is None or m.get("message") == message]


def last_code(store, to):
    """The 6-digit code of the newest auth_code message to an address."""
    msgs = messages(store, to, "auth_code")
    st.check(msgs, f"no code was sent to {to}")
    m = re.search(r"\b(\d{6})\b", msgs[-1]["body"])
    st.check(m, f"no 6-digit code in {msgs[-1]['body']!r}")
    return m.group(1)


# ------------------------------------------------------------ HTTP and cookies

def take_cookies(hd, jar):
    """Apply a response's Set-Cookie headers (hd from st.Server.request) to jar
    (a dict), as a browser does: Max-Age=0 removes a cookie."""
    for c in hd.get("set-cookie-list", []):
        name, _, rest = c.partition("=")
        value = rest.split(";", 1)[0]
        low = c.lower()
        if "max-age=0" in low or "max-age=-" in low:
            jar.pop(name, None)
        else:
            jar[name] = value


def cookie_header(jar):
    """The Cookie header of a jar."""
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def json_request(server, method, path, body=None, headers=None):
    """A JSON request (a writing one gets {} when no body is given): (status,
    headers, parsed body or None)."""
    if body is None and method in ("POST", "PUT", "PATCH", "DELETE"):
        body = {}
    s, hd, data = server.request(method, path, body=body, headers=headers)
    return s, hd, (json.loads(data) if data else None)


def code_verified(server, store, phone, headers=None):
    """A code to phone, read from the outbox and sent back (headers go with that
    second step): the verify step's answer."""
    s, _, v = json_request(server, "POST", "/api/v1/auth/code", {"phone": phone})
    st.eq(s, 200, f"code for {phone}: {v}")
    s, _, v = json_request(server, "POST", "/api/v1/auth/verify",
                           {"challenge": v["challenge"],
                            "code": last_code(store, normal_phone(phone))}, headers)
    st.eq(s, 200, f"verify: {v}")
    return v


def sign_in(server, store, phone, headers=None):
    """A new session for the account that has phone: the answer ({"token",
    "account"})."""
    v = code_verified(server, store, phone, headers)
    st.check("token" in v, f"no token: {v}")
    return v


def sign_up(server, store, phone, headers=None):
    """A new account for phone through the API, as a person makes one (a code,
    the code back, the terms): (the sign-up's answer, its headers).  headers go
    with the last step."""
    v = code_verified(server, store, phone)
    st.check(v.get("signup_required"), f"a new phone must sign up: {v}")
    s, hd, v = json_request(server, "POST", "/api/v1/auth/signup",
                            {"challenge": v["challenge"], "accept_terms": True}, headers)
    st.eq(s, 201, f"signup: {v}")
    return v, hd


# -------------------------------------------------------------------- Shop

class Shop:
    """A store with the notify and auth plugins and its server, the store clock
    movable (SOUK_CLOCK_FILE).  settings are settings.auth (merged over
    STORE_SETTINGS unless roomy=False); config adds top-level souk.lua keys."""

    def __init__(self, settings=None, roomy=True, config=None, workers=2, plugins=None):
        auth = dict(STORE_SETTINGS) if roomy else {}
        auth.update(settings or {})
        conf = {"plugins": plugins or ["notify", "auth"], "locale": "ru",
                "locales": ["ru", "en"], "settings": {"auth": auth}}
        conf.update(config or {})

        def with_clock(store):
            self.clock = Clock(store)
            return self.clock.env()

        self.store, self.server = sh.start(conf, with_clock, workers)

    def close(self):
        try:
            self.server.stop()
        finally:
            self.store.cleanup()

    # --- clock -------------------------------------------------------------

    @property
    def offset(self):
        return self.clock.offset

    def set_clock(self, offset_ms):
        """Move the store clock to wall time + offset_ms (every worker sees it at
        its next reading)."""
        self.clock.set(offset_ms)

    def advance(self, ms):
        self.clock.advance(ms)

    # --- database (read-only checks) and outbox ------------------------------

    def query(self, sql, args=()):
        return sh.query(self.store, sql, args)

    def execute(self, sql, args=()):
        sh.execute(self.store, sql, args)

    def outbox(self, to):
        """Messages to an address, oldest first."""
        return outbox(self.store, to)

    def codes(self, to):
        return messages(self.store, to, "auth_code")

    def last_code(self, to):
        return last_code(self.store, to)

    # --- API shortcuts ------------------------------------------------------

    def api(self, method, path, body=None, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return json_request(self.server, method, path, body, h)

    def send_code(self, **who):
        return self.api("POST", "/api/v1/auth/code", who)

    def verify(self, challenge, code, **kw):
        return self.api("POST", "/api/v1/auth/verify", {"challenge": challenge, "code": code}, **kw)

    def signup(self, phone, headers=None):
        """A new account for phone through the API; returns (token, account)."""
        v, _ = sign_up(self.server, self.store, phone, headers)
        return v["token"], v["account"]

    def signin(self, phone, headers=None):
        """A session for an existing account; returns (token, account)."""
        v = sign_in(self.server, self.store, phone, headers)
        return v["token"], v["account"]

    def client(self, **kw):
        return Client(self, **kw)


_shop = None


def shop():
    """The test file's Shop with the default settings: made on first use,
    closed at exit."""
    global _shop
    if _shop is None:
        _shop = Shop()
        atexit.register(_shop.close)
    return _shop


class Client:
    """A browser: keeps cookies, sends forms with the CSRF token of the last page."""

    def __init__(self, shop, user_agent=None, lang=None):
        self.shop = shop
        self.cookies = {}
        self.ua = user_agent
        self.lang = lang
        self.last_body = ""

    def headers(self, extra=None):
        h = {}
        if self.cookies:
            h["Cookie"] = cookie_header(self.cookies)
        if self.ua:
            h["User-Agent"] = self.ua
        if self.lang:
            h["Accept-Language"] = self.lang
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None):
        """Any request with the cookies and the browser's headers; the answer's
        cookies kept.  (status, headers, body bytes)."""
        s, hd, data = self.shop.server.request(method, path, body=body,
                                               headers=self.headers(headers))
        take_cookies(hd, self.cookies)
        return s, hd, data

    def get(self, path, headers=None):
        s, hd, body = self.request("GET", path, headers=headers)
        self.last_body = body.decode("utf-8", "replace")
        return s, hd, self.last_body

    def get_json(self, path):
        s, hd, body = self.request("GET", path, headers={"Accept": "application/json"})
        return s, hd, (json.loads(body) if body else None)

    def csrf(self):
        tok = self.cookies.get("souk_csrf") or self.cookies.get("__Host-souk_csrf")
        if not tok:
            self.get("/signin")
            tok = self.cookies.get("souk_csrf") or self.cookies.get("__Host-souk_csrf")
        st.check(tok, "no CSRF cookie was set")
        return tok

    def post(self, path, form, csrf=True, headers=None):
        """A form post (url-encoded); the CSRF field added unless csrf=False."""
        data = dict(form)
        if csrf:
            data["_csrf"] = self.csrf()
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        s, hd, body = self.request("POST", path, urllib.parse.urlencode(data), h)
        self.last_body = body.decode("utf-8", "replace")
        return s, hd, self.last_body

    def api(self, method, path, body=None):
        """JSON with the cookies (an in-browser script of this site)."""
        if body is None and method in ("POST", "PUT", "PATCH", "DELETE"):
            body = {}
        s, hd, data = self.request(method, path, body, {"Accept": "application/json"})
        return s, hd, (json.loads(data) if data else None)

    def session(self):
        return self.cookies.get("souk_session") or self.cookies.get("__Host-souk_session")


def location(hd):
    return hd.get("location", "")


def query_of(url):
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query)


def text_of(page):
    """The visible text of a page, roughly (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# ----------------------------------------------------------------- Shopper

class Shopper:
    """A signed-up shopper on a served store: a Bearer token for the API, cookies
    for the pages."""

    def __init__(self, server, store, phone=None):
        self.server, self.store = server, store
        self.phone = phone or new_phone()
        self.cookies = {}
        v, hd = sign_up(server, store, self.phone)
        self.token = v["token"]
        self.id = v["account"]["id"]
        take_cookies(hd, self.cookies)
        st.check(self.cookies, "the sign-up set no session cookie")

    def api(self, method, path, body=None, token=None):
        """A JSON request with the Bearer token: (status, parsed body or None)."""
        h = {"Authorization": "Bearer " + (token or self.token)}
        s, _, v = json_request(self.server, method, path, body, h)
        return s, v

    def page(self, method, path, form=None, headers=None):
        """A browser request with the cookies; form (a dict) is url-encoded.
        Returns (status, headers, text)."""
        h = {"Cookie": cookie_header(self.cookies)}
        h.update(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        s, hd, data = self.server.request(method, path, body=body, headers=h)
        take_cookies(hd, self.cookies)
        return s, hd, data.decode()

    def csrf(self, path="/account"):
        """The form token of a page (its cookie is kept in the jar)."""
        s, _, text = self.page("GET", path)
        st.eq(s, 200, f"GET {path}")
        m = re.search(r'name="_csrf" value="([^"]+)"', text)
        st.check(m, f"no CSRF field on {path}")
        return html.unescape(m.group(1))

    def form(self, path, fields, page="/account"):
        """POST a form with the CSRF token of page: (status, headers, text)."""
        f = dict(fields)
        f["_csrf"] = self.csrf(page)
        return self.page("POST", path, form=f)

    def code(self, to=None):
        """The newest code sent to this shopper's phone (or to `to`)."""
        return last_code(self.store, to or self.phone)

    def secure(self, name="Анна", email=None):
        """Fill in the name and verify an email: the account becomes secured.
        Returns the email."""
        email = email or f"{self.phone.lstrip('+')}@example.com"
        s, v = self.api("PATCH", "/api/v1/account/profile", {"name": name})
        st.eq(s, 200, f"profile: {v}")
        s, v = self.api("POST", "/api/v1/account/email", {"email": email})
        st.eq(s, 200, f"email start: {v}")
        s, v = self.api("POST", "/api/v1/account/email/verify",
                        {"challenge": v["challenge"]["id"], "code": self.code(email)})
        st.eq(s, 200, f"email verify: {v}")
        st.eq(v["account"]["level"], "secured", "after name and email:")
        return email


def served(plugins, prepare=None, locale="en", auth=None, **settings):
    """A seedhelp.Served store with plugins (notify and auth among them) in
    English and Russian, locale first: settings.auth is STORE_SETTINGS with auth
    over it, the other settings (settings.<plugin>) as given."""
    locales = [locale] + [x for x in ("en", "ru") if x != locale]
    return sh.Served({"plugins": plugins, "locale": locale, "locales": locales,
                      "settings": dict(settings, auth=dict(STORE_SETTINGS, **(auth or {})))},
                     prepare=prepare)


def shopper(served, phone=None):
    """A new Shopper on a seedhelp.Served store (started if it is not yet)."""
    return Shopper(served.server(), served.store, phone)
