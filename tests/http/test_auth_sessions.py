"""Black-box tests of the auth plugin's sessions: the cookie's attributes (and
the __Host- form behind TLS), the token stored hashed, the same session as a
Bearer token, a new token at every sign-in (the old one dead), idle and absolute
expiry with the store clock moved, last-seen written at most every touch_ms and
never inside a GET, the sessions list (device, address, this device), revoking
one or all others, signing out, and pages that need a signed-in shopper."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import souktest as st  # noqa: E402

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
                  " Chrome/126.0.0.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
                 " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


shop = ah.shop  # the file's store with the default settings


def new_phone():
    return ah.new_phone("+7988")


def me(s, token=None, cookies=None):
    h = {}
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return s.api("GET", "/api/v1/auth/me", token=token, headers=h)


def sign_up_in(s, c, phone):
    """Sign phone up through the pages in browser c: the headers of the answer
    to the terms form (checked to be 303)."""
    _, hd, _ = c.post("/signin", {"phone": phone})
    ch = ah.query_of(ah.location(hd))["c"][0]
    c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone)})
    status, hd, _ = c.post("/signup/terms", {"challenge": ch, "accept_terms": "1"})
    st.eq(status, 303)
    return hd


def signed_up_client(s, ua=None):
    """A browser that signed up through the pages; returns (client, phone)."""
    c = s.client(user_agent=ua)
    phone = new_phone()
    sign_up_in(s, c, phone)
    st.check(c.session(), "no session cookie after sign-up")
    return c, phone


def page_signin(s, c, phone):
    s.advance(61000)
    _, hd, _ = c.post("/signin", {"phone": phone})
    ch = ah.query_of(ah.location(hd))["c"][0]
    status, hd, _ = c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone)})
    st.eq(status, 303)
    return hd


# ------------------------------------------------------------------ tokens

def test_session_cookie_attributes_and_hashed_token():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    _, _, v = s.verify(v["challenge"], s.last_code(phone))
    status, hd, v = s.api("POST", "/api/v1/auth/signup", {"challenge": v["challenge"],
                                                           "accept_terms": True})
    st.eq(status, 201)
    cookies = [c for c in hd["set-cookie-list"] if c.startswith("souk_session=")]
    st.eq(len(cookies), 1, f"{hd['set-cookie-list']}")
    attrs = cookies[0].split("; ")
    st.eq(attrs[0], "souk_session=" + v["token"], "the cookie holds the token")
    for a in ("HttpOnly", "SameSite=Lax", "Path=/", f"Max-Age={30 * 86400}"):
        st.check(a in attrs, f"{a} missing: {cookies[0]}")
    st.check("Secure" not in attrs, "Secure on a store without TLS")
    rows = s.query("SELECT token_hash FROM auth_session WHERE account_id = ?",
                   (v["account"]["id"],))
    st.eq(len(rows), 1)
    st.check(re.fullmatch(r"[0-9a-f]{64}", rows[0][0]) and rows[0][0] != v["token"],
             "the token is stored as is")
    for col in s.query("SELECT * FROM auth_session WHERE account_id = ?", (v["account"]["id"],))[0]:
        st.check(v["token"] not in str(col), "the token appears in the session row")


def test_bearer_and_cookie_give_the_same_session():
    s = shop()
    token, acct = s.signup(new_phone())
    status, _, a = me(s, token=token)
    st.eq(status, 200, f"{a}")
    status, _, b = me(s, cookies={"souk_session": token})
    st.eq(status, 200, f"{b}")
    st.eq(a, b)
    st.eq(a["account"]["id"], acct["id"])
    st.eq(a["session"]["id"], b["session"]["id"])
    for bad in ("0" * 64, token[:-1], token.upper(), token + "0", ""):
        status, _, e = me(s, token=bad)
        st.eq(status, 401, f"token {bad!r}")
    status, _, e = s.api("GET", "/api/v1/auth/me", headers={"Authorization": "Basic " + token})
    st.eq(status, 401, "not a Bearer")
    # A Bearer decides alone: a wrong one is not rescued by a good cookie.
    status, _, _ = s.api("GET", "/api/v1/auth/me", token="0" * 64,
                         headers={"Cookie": "souk_session=" + token})
    st.eq(status, 401)
    # Bearer requests need no CSRF token (browsers never add one by themselves).
    status, _, v = s.api("POST", "/api/v1/auth/sessions/revoke-others", token=token)
    st.eq(status, 200, f"{v}")


def test_a_new_token_at_every_signin():
    s = shop()
    c, phone = signed_up_client(s)
    first = c.session()
    hd = page_signin(s, c, phone)
    second = c.session()
    st.check(second and second != first, "the token did not change")
    st.check(any(x.startswith("souk_session=" + second) for x in hd["set-cookie-list"]),
             "no new cookie")
    status, _, _ = me(s, token=first)
    st.eq(status, 401, "the old token still works")
    status, _, v = me(s, token=second)
    st.eq(status, 200)
    st.eq(s.query("SELECT count(*) FROM auth_session WHERE account_id = ?",
                  (v["account"]["id"],))[0][0], 1, "the old session row was not ended")
    # The API sign-in rotates the Bearer's session the same way.
    s.advance(61000)
    token3, _ = s.signin(phone, headers={"Authorization": "Bearer " + second})
    status, _, _ = me(s, token=second)
    st.eq(status, 401, "the Bearer's session survived a new sign-in")
    st.eq(me(s, token=token3)[0], 200)


def test_planted_cookie_is_worthless_after_signin():
    """Session fixation: a token known before sign-in never becomes a session."""
    s = shop()
    c = s.client()
    planted = "ab" * 32
    c.cookies["souk_session"] = planted
    phone = new_phone()
    _, hd, _ = c.post("/signin", {"phone": phone})
    ch = ah.query_of(ah.location(hd))["c"][0]
    c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone)})
    c.post("/signup/terms", {"challenge": ch, "accept_terms": "1"})
    st.check(c.session() != planted, "the planted token was kept")
    st.eq(me(s, token=planted)[0], 401)


# ------------------------------------------------------------------ expiry

def test_idle_and_absolute_expiry():
    s = ah.Shop({"session_idle_ms": 10 * ah.MINUTE_MS, "session_absolute_ms": 25 * ah.MINUTE_MS,
                 "touch_ms": 0})
    try:
        idle, _ = s.signup(new_phone())
        busy, _ = s.signup(new_phone())
        for _ in range(3):  # 6, 12, 18 minutes: the busy session is used, the idle one not
            s.advance(6 * ah.MINUTE_MS)
            st.eq(me(s, token=busy)[0], 200, "a session in use ended")
        st.eq(me(s, token=idle)[0], 401, "an idle session did not end after 10 minutes")
        s.advance(6 * ah.MINUTE_MS)       # 24 minutes after sign-in
        st.eq(me(s, token=busy)[0], 200)
        s.advance(2 * ah.MINUTE_MS)       # 26: past the absolute limit although in use
        st.eq(me(s, token=busy)[0], 401, "a session outlived the absolute limit")
        # Expired sessions are not listed and are purged by the sweep later;
        # signing in again works.
    finally:
        s.close()


def test_last_seen_is_written_after_the_request_and_at_most_every_touch_ms():
    s = shop()
    token, acct = s.signup(new_phone())

    def seen():
        return s.query("SELECT last_seen_at FROM auth_session WHERE account_id = ?",
                       (acct["id"],))[0][0]

    t0 = seen()
    s.advance(30000)
    me(s, token=token)
    st.eq(seen(), t0, "last-seen written within touch_ms (60 s)")
    s.advance(31000)
    me(s, token=token)
    t1 = seen()
    st.check(t1 >= t0 + 61000 - 50, f"last-seen not written after touch_ms: {t0} -> {t1}")
    me(s, token=token)
    st.eq(seen(), t1, "written again at once")


# ---------------------------------------------------------------- sessions

def test_sessions_list_devices_and_this_device():
    s = shop()
    c1, phone = signed_up_client(s, ua=FIREFOX)
    c2 = s.client(user_agent=CHROME_ANDROID)
    page_signin(s, c2, phone)
    c3 = s.client(user_agent=SAFARI_IPHONE)
    page_signin(s, c3, phone)
    status, _, v = c1.get_json("/account/sessions")
    st.eq(status, 200, f"{v}")
    st.eq(len(v["sessions"]), 3)
    st.eq(v["others"], 2)
    st.eq([x["current"] for x in v["sessions"]], [True, False, False], "this device first")
    st.eq(v["sessions"][0]["device"], "Firefox, Windows")
    st.eq(sorted(x["device"] for x in v["sessions"][1:]), ["Chrome, Android", "Safari, iPhone"])
    st.eq({x["ip"] for x in v["sessions"]}, {"127.0.0.1"})
    st.check(all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", x["last_seen"])
                 for x in v["sessions"]), f"{v['sessions']}")
    # The same through the API with the Bearer of another device.
    status, _, api = s.api("GET", "/api/v1/auth/sessions", token=c2.session())
    st.eq(status, 200)
    st.eq([x["device"] for x in api["sessions"] if x["current"]], ["Chrome, Android"])
    # The page, in Russian.
    status, _, page = c1.get("/account/sessions")
    st.eq(status, 200)
    text = " ".join(ah.text_of(page).split())
    st.check("Где выполнен вход" in text and "Это устройство" in text, "the page")
    st.check(text.count("Firefox, Windows") == 1 and "Safari, iPhone" in text, "devices")
    st.check(page.count('name="_method" value="DELETE"') == 3, "one end button per session")
    st.check('action="/account/sessions/revoke-others"' in page, "no sign-out-everywhere form")


def test_revoke_one_session():
    s = shop()
    c1, phone = signed_up_client(s, ua=FIREFOX)
    c2 = s.client(user_agent=CHROME_ANDROID)
    page_signin(s, c2, phone)
    _, _, v = c1.get_json("/account/sessions")
    other = [x["id"] for x in v["sessions"] if not x["current"]][0]
    # Someone else's session cannot be ended.
    stranger, _ = s.signup(new_phone())
    status, _, e = s.api("DELETE", f"/api/v1/auth/sessions/{other}", token=stranger)
    st.eq((status, e["error"]["code"]), (404, "session_unknown"))
    st.eq(me(s, token=c2.session())[0], 200)
    for bad in ("0", "abc", "99999999"):
        status, _, _ = s.api("DELETE", f"/api/v1/auth/sessions/{bad}", token=c1.session())
        st.eq(status, 404, bad)
    # The page form (a POST with _method=DELETE and the CSRF token).
    status, hd, _ = c1.post(f"/account/sessions/{other}", {"_method": "DELETE"})
    st.eq((status, ah.location(hd)), (303, "/account/sessions"))
    st.eq(me(s, token=c2.session())[0], 401, "the ended session still works")
    st.eq(me(s, token=c1.session())[0], 200, "this session ended too")
    status, _, page = c1.get("/account/sessions")
    st.check("Сеанс завершён" in ah.text_of(page), "no flash")
    # Without the token the form is refused.
    status, _, _ = c1.post(f"/account/sessions/{other}", {"_method": "DELETE"}, csrf=False)
    st.eq(status, 403)
    # Ending this very session signs out.
    _, _, v = c1.get_json("/account/sessions")
    mine = v["sessions"][0]["id"]
    token = c1.session()
    status, hd, v = c1.api("DELETE", f"/api/v1/auth/sessions/{mine}")
    st.eq(status, 200, f"{v}")
    st.eq(v, {"ended": 1, "current": True})
    st.eq(me(s, token=token)[0], 401)
    st.check(c1.session() is None, "the cookie was not cleared")


def test_revoke_all_other_sessions():
    s = shop()
    c1, phone = signed_up_client(s)
    others = []
    for _ in range(3):
        c = s.client()
        page_signin(s, c, phone)
        others.append(c)
    st.eq(c1.get_json("/account/sessions")[2]["others"], 3)
    status, hd, _ = c1.post("/account/sessions/revoke-others", {})
    st.eq((status, ah.location(hd)), (303, "/account/sessions"))
    for c in others:
        st.eq(me(s, token=c.session())[0], 401)
    st.eq(me(s, token=c1.session())[0], 200)
    status, _, v = c1.get_json("/account/sessions")
    st.eq((len(v["sessions"]), v["others"]), (1, 0))
    status, _, v = s.api("POST", "/api/v1/auth/sessions/revoke-others", token=c1.session())
    st.eq((status, v), (200, {"ended": 0}))


def test_signout():
    s = shop()
    c, phone = signed_up_client(s)
    token = c.session()
    status, _, _ = c.post("/signout", {}, csrf=False)
    st.eq(status, 403, "sign-out without the CSRF token")
    st.eq(me(s, token=token)[0], 200)
    status, hd, _ = c.post("/signout", {})
    st.eq((status, ah.location(hd)), (303, "/"))
    st.check(any(x.startswith("souk_session=;") and "Max-Age=0" in x
                 for x in hd["set-cookie-list"]), f"cookie not cleared: {hd['set-cookie-list']}")
    st.eq(me(s, token=token)[0], 401)
    status, _, page = c.get("/")
    st.check("Вы вышли" in ah.text_of(page) and 'href="/signin"' in page, "the signed-out header")
    # The API: with the Bearer.
    s.advance(61000)
    token, _ = s.signin(phone)
    status, _, v = s.api("POST", "/api/v1/auth/signout", token=token)
    st.eq((status, v), (200, {"signed_out": True}))
    st.eq(me(s, token=token)[0], 401)
    status, _, v = s.api("POST", "/api/v1/auth/signout")
    st.eq(status, 200, "signing out twice is harmless")


def test_signed_in_pages_need_a_session():
    s = shop()
    status, hd, _ = s.server.request("GET", "/account/sessions")
    st.eq((status, ah.location(hd)), (303, "/signin?next=/account/sessions"))
    status, _, v = s.api("GET", "/api/v1/auth/sessions")
    st.eq((status, v["error"]["code"]), (401, "unauthorized"))
    status, _, _ = s.api("GET", "/api/v1/auth/me")
    st.eq(status, 401)
    status, _, _ = s.api("DELETE", "/api/v1/auth/sessions/1")
    st.eq(status, 401)
    # After signing in through that link the shopper lands back on the page.
    c = s.client()
    phone = new_phone()
    s.signup(phone)
    s.advance(61000)
    _, hd, _ = c.post("/signin", {"phone": phone, "next": "/account/sessions"})
    ch = ah.query_of(ah.location(hd))["c"][0]
    status, hd, _ = c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone),
                                            "next": "/account/sessions"})
    st.eq((status, ah.location(hd)), (303, "/account/sessions"))
    st.eq(c.get("/account/sessions")[0], 200)


def test_identity_object_for_other_plugins():
    s = shop()
    token, acct = s.signup(new_phone())
    status, _, v = me(s, token=token)
    st.eq(sorted(v["account"]), ["email", "id", "level", "locale", "member", "name", "phone",
                                 "referral_code"])
    st.eq((v["account"]["level"], v["account"]["member"]), ("limited", True))
    # Secured: a name and a verified email.
    s.execute("UPDATE auth_account SET name = 'Анна', email = 'anna.level@example.com'"
              " WHERE id = ?", (acct["id"],))
    status, _, v = me(s, token=token)
    st.eq((v["account"]["level"], v["account"]["name"]), ("secured", "Анна"))
    s.execute("UPDATE auth_account SET name = '  ' WHERE id = ?", (acct["id"],))
    st.eq(me(s, token=token)[2]["account"]["level"], "limited", "a blank name is no name")
    # A deleted account's sessions stop working at once.
    s.execute("UPDATE auth_account SET deleted_at = 1 WHERE id = ?", (acct["id"],))
    st.eq(me(s, token=token)[0], 401)


def test_the_sweep_purges_what_no_rule_needs_any_more():
    s = ah.Shop({"sweep_ms": 100})
    try:
        token, acct = s.signup(new_phone())
        live_phone = new_phone()

        def counts():
            return (s.query("SELECT count(*) FROM auth_session")[0][0],
                    s.query("SELECT count(*) FROM auth_challenge")[0][0],
                    s.query("SELECT count(*) FROM auth_rate")[0][0])

        st.check(all(n > 0 for n in counts()), f"nothing to purge: {counts()}")
        s.advance(31 * ah.DAY_MS)
        s.send_code(phone=live_phone)   # what is new must stay
        deadline = time.time() + 10
        while time.time() < deadline and counts() != (0, 1, 2):
            time.sleep(0.05)
        st.eq(counts(), (0, 1, 2), "expired sessions, old challenges and counters are purged;"
                                   " the new challenge and its two counters stay")
        st.eq(me(s, token=token)[0], 401)
    finally:
        s.close()


def test_https_store_uses_host_prefixed_secure_cookie():
    s = ah.Shop(config={"https": True})
    try:
        c = s.client()
        c.get("/signin")
        st.check("__Host-souk_csrf" in c.cookies, f"{c.cookies}")
        hd = sign_up_in(s, c, new_phone())
        cookie = [x for x in hd["set-cookie-list"] if x.startswith("__Host-souk_session=")]
        st.eq(len(cookie), 1, f"{hd['set-cookie-list']}")
        for a in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            st.check(a in cookie[0].split("; "), f"{a} missing: {cookie[0]}")
        st.check("Domain" not in cookie[0], "a __Host- cookie has no Domain")
        token = c.cookies["__Host-souk_session"]
        st.eq(me(s, cookies={"__Host-souk_session": token})[0], 200)
        st.eq(me(s, cookies={"souk_session": token})[0], 401, "the plain name is not read")
    finally:
        s.close()


st.main(globals())
