"""Black-box tests of signing in and up with one-time codes (the auth plugin):
phone forms, sign-up with the terms, codes stored hashed, single use, bound to
their challenge, expiry (the store clock moved), brute force locked after 5
tries, the resend interval and the hourly limits per destination, per address
and per account, email sign-in without account enumeration (status, body and
timing), the referral link, CSRF, `next`, and GETs that change nothing.

Codes are read from the outbox with `souk outbox`, as a developer would."""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import souktest as st  # noqa: E402

shop = ah.shop  # the file's store with the default settings
new_phone = ah.new_phone  # a fresh number for each test: limits never carry over


def error_of(v):
    st.check(isinstance(v, dict) and "error" in v, f"expected an error object, got {v!r}")
    return v["error"]


def refused(answer, status, code, msg=""):
    """answer (status, headers, body) is an error: status and the error's code."""
    st.eq((answer[0], error_of(answer[2])["code"]), (status, code), msg)


# ----------------------------------------------------------------- sign up/in

def test_phone_signup_records_terms_and_signs_in():
    s = shop()
    phone = new_phone()
    status, _, v = s.send_code(phone=phone)
    st.eq(status, 200, f"{v}")
    st.eq(sorted(v), ["challenge", "channel", "destination", "expires_in", "resend_in"])
    st.check(re.fullmatch(r"[0-9a-f]{32}", v["challenge"]), f"challenge id {v['challenge']!r}")
    st.eq(v["channel"], "sms")
    st.eq(v["destination"], f"+7 {phone[2:5]} ***-**-{phone[-2:]}")
    st.eq((v["expires_in"], v["resend_in"]), (300, 60))
    sms = s.codes(phone)
    st.eq(len(sms), 1, "one SMS")
    st.check("Код для входа" in sms[0]["body"], f"the SMS is not the Russian sign-in text: {sms[0]}")
    code = s.last_code(phone)

    status, _, v = s.verify(v["challenge"], code)
    st.eq(status, 200, f"{v}")
    st.eq(v, {"signup_required": True, "challenge": v["challenge"], "terms_version": "2026-11-01"})
    st.eq(s.query("SELECT count(*) FROM auth_account WHERE phone = ?", (phone,))[0][0], 0,
          "no account before the terms are accepted")

    status, hd, v2 = s.api("POST", "/api/v1/auth/signup", {"challenge": v["challenge"],
                                                             "accept_terms": True})
    st.eq(status, 201, f"{v2}")
    acct = v2["account"]
    st.eq((acct["phone"], acct["level"], acct["member"], acct["name"], acct["email"]),
          (phone, "limited", True, None, None))
    st.check(re.fullmatch(r"[2-9A-HJ-NP-Z]{6}", acct["referral_code"]), f"{acct['referral_code']}")
    st.check(re.fullmatch(r"[0-9a-f]{64}", v2["token"]), "a 256-bit token in hex")
    row = s.query("SELECT terms_version, terms_accepted_at, created_at, referrer_id FROM auth_account"
                  " WHERE id = ?", (acct["id"],))[0]
    st.eq(row[0], "2026-11-01", "terms version recorded")
    st.check(abs(row[1] - time.time() * 1000 - s.offset) < 60000, f"terms time recorded: {row}")
    st.eq(row[3], None, "no referrer")

    # The same number in its other written forms signs in to the same account.
    status, _, v = s.send_code(phone="8 " + phone[2:5] + " " + phone[5:8] + "-" + phone[8:10] + "-"
                               + phone[10:])
    st.eq(status, 429, "a second code within 60 s is refused")
    s.advance(61000)
    status, _, v = s.send_code(phone="8 (" + phone[2:5] + ") " + phone[5:])
    st.eq(status, 200, f"{v}")
    status, _, v = s.verify(v["challenge"], s.last_code(phone))
    st.eq(status, 200, f"{v}")
    st.eq(v["account"]["id"], acct["id"], "signed in to the account made before")
    st.check(v["token"] != v2["token"], "a new token at every sign-in")


def test_signup_needs_the_terms_and_a_verified_code():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    ch = v["challenge"]
    refused(s.api("POST", "/api/v1/auth/signup", {"challenge": ch, "accept_terms": True}), 403,
            "code_not_verified", "sign-up before the code")
    s.verify(ch, s.last_code(phone))
    status, _, e = s.api("POST", "/api/v1/auth/signup", {"challenge": ch})
    st.eq((status, error_of(e)["code"], error_of(e)["field"]), (422, "terms_required",
                                                                 "accept_terms"))
    status, _, e = s.api("POST", "/api/v1/auth/signup", {"challenge": ch, "accept_terms": False})
    st.eq(status, 422)
    status, _, v = s.api("POST", "/api/v1/auth/signup", {"challenge": ch, "accept_terms": True})
    st.eq(status, 201, f"{v}")
    refused(s.api("POST", "/api/v1/auth/signup", {"challenge": ch, "accept_terms": True}), 410,
            "code_used", "a sign-up is used once")


def test_signup_window_ends():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    s.verify(v["challenge"], s.last_code(phone))
    s.advance(10 * ah.MINUTE_MS + 1000)
    status, _, e = s.api("POST", "/api/v1/auth/signup", {"challenge": v["challenge"],
                                                          "accept_terms": True})
    st.eq((status, error_of(e)["code"]), (410, "signup_expired"))


def test_invalid_input_names_the_field():
    s = shop()
    for body, field, code in [({"phone": "12345"}, "phone", "invalid_phone"),
                              ({"phone": "+8 999 123-45-67"}, "phone", "invalid_phone"),
                              ({"email": "not an email"}, "email", "invalid_email"),
                              ({}, "phone", "login_required"),
                              ({"phone": "  ", "email": ""}, "phone", "login_required")]:
        status, _, e = s.send_code(**body)
        st.eq(status, 422, f"{body}")
        st.eq((error_of(e)["field"], error_of(e)["code"]), (field, code), f"{body}")
    status, _, e = s.send_code(phone="+8 999 123-45-67")
    st.check("+8 is not a country code" in error_of(e)["message"], f"{e}")
    refused(s.verify("zz", "123456"), 404, "challenge_unknown")
    refused(s.verify("0" * 32, "123456"), 404, "challenge_unknown")


# ------------------------------------------------------------------- codes

def test_code_is_stored_only_as_a_keyed_hash():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    code = s.last_code(phone)
    rows = s.query("SELECT * FROM auth_challenge WHERE public_id = ?", (v["challenge"],))
    st.eq(len(rows), 1)
    for col in rows[0]:
        st.check(code not in str(col), f"the code appears in the challenge row: {rows[0]}")
    h = s.query("SELECT code_hash FROM auth_challenge WHERE public_id = ?", (v["challenge"],))[0][0]
    st.check(re.fullmatch(r"[0-9a-f]{64}", h), f"hash {h!r}")
    import hashlib
    for plain in (code, v["challenge"] + code):
        st.check(hashlib.sha256(plain.encode()).hexdigest() != h, "an unkeyed hash")
        st.check(hashlib.blake2b(plain.encode(), digest_size=32).hexdigest() != h,
                 "an unkeyed hash")


def test_brute_force_is_locked_after_5_tries():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    code = s.last_code(phone)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for left in (4, 3, 2, 1, 0):
        status, _, e = s.verify(v["challenge"], wrong)
        st.eq(status, 422, f"{e}")
        st.eq((error_of(e)["code"], error_of(e)["field"], error_of(e)["tries_left"]),
              ("code_wrong", "code", left))
    # The wrong tries were kept although each answer was an error.
    st.eq(s.query("SELECT tries FROM auth_challenge WHERE public_id = ?",
                  (v["challenge"],))[0][0], 5)
    status, hd, e = s.verify(v["challenge"], code)
    st.eq((status, error_of(e)["code"]), (429, "code_locked"), "even the right code is refused")
    # The lock holds in the other worker too (the state is in the database).
    for _ in range(4):
        status, _, e = s.verify(v["challenge"], code)
        st.eq(status, 429)


def test_a_code_is_used_once():
    s = shop()
    phone = new_phone()
    token, _ = s.signup(phone)
    s.advance(61000)
    _, _, v = s.send_code(phone=phone)
    code = s.last_code(phone)
    status, _, ok = s.verify(v["challenge"], code)
    st.eq(status, 200, f"{ok}")
    refused(s.verify(v["challenge"], code), 410, "code_used")


def test_a_code_is_bound_to_its_challenge():
    s = shop()
    a, b = new_phone(), new_phone()
    _, _, va = s.send_code(phone=a)
    _, _, vb = s.send_code(phone=b)
    refused(s.verify(vb["challenge"], s.last_code(a)), 422, "code_wrong",
            "A's code for B's challenge")
    status, _, v = s.verify(va["challenge"], s.last_code(a))
    st.eq(status, 200, f"{v}")


def test_a_code_expires_after_5_minutes():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    code = s.last_code(phone)
    s.advance(5 * ah.MINUTE_MS + 1000)
    refused(s.verify(v["challenge"], code), 410, "code_expired")
    # A new code for the same challenge works again.
    status, _, r = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq(status, 200, f"{r}")
    st.eq(r["challenge"], v["challenge"])
    refused(s.verify(v["challenge"], code), 422, "code_wrong", "the old code stopped working")
    status, _, ok = s.verify(v["challenge"], s.last_code(phone))
    st.eq(status, 200, f"{ok}")


def test_code_lifetime_setting_is_bounded():
    store = st.Store({"plugins": ["notify", "auth"],
                      "settings": {"auth": {"code_ttl_ms": 11 * ah.MINUTE_MS}}})
    try:
        p = st.run("check", store.dir, env=store.env())
        st.check(p.returncode != 0, "a code lifetime over 10 minutes was accepted")
        st.check("settings.auth.code_ttl_ms" in p.stdout + p.stderr, p.stdout + p.stderr)
    finally:
        store.cleanup()
    short = ah.Shop({"code_ttl_ms": 2 * ah.MINUTE_MS})
    try:
        phone = new_phone()
        _, _, v = short.send_code(phone=phone)
        st.eq(v["expires_in"], 120)
        code = short.last_code(phone)
        short.advance(2 * ah.MINUTE_MS + 500)
        status, _, e = short.verify(v["challenge"], code)
        st.eq(status, 410)
    finally:
        short.close()


def test_resend_waits_60_seconds():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    first = s.last_code(phone)
    status, hd, e = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq((status, error_of(e)["code"]), (429, "resend_too_soon"))
    st.check(55 <= int(hd["retry-after"]) <= 60, f"Retry-After {hd.get('retry-after')}")
    st.eq(error_of(e)["retry_after"], int(hd["retry-after"]))
    # Nor by asking for a new challenge to the same number.
    refused(s.send_code(phone=phone), 429, "resend_too_soon")
    st.eq(len(s.codes(phone)), 1, "nothing more was sent")
    s.advance(45000)
    status, hd, e = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq(status, 429)
    st.check(10 <= int(hd["retry-after"]) <= 15, f"Retry-After {hd.get('retry-after')}")
    s.advance(16000)
    status, _, r = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq(status, 200, f"{r}")
    st.eq((r["resend_in"], r["expires_in"]), (60, 300))
    second = s.last_code(phone)
    st.eq(len(s.codes(phone)), 2)
    if second != first:
        refused(s.verify(v["challenge"], first), 422, "code_wrong",
                "the first code stopped working")
    status, _, ok = s.verify(v["challenge"], second)
    st.eq(status, 200, f"{ok}")


def test_a_newer_challenge_replaces_the_older():
    s = shop()
    phone = new_phone()
    _, _, old = s.send_code(phone=phone)
    old_code = s.last_code(phone)
    s.advance(61000)
    _, _, new = s.send_code(phone=phone)
    refused(s.verify(old["challenge"], old_code), 410, "code_expired", "the older challenge ended")
    status, _, ok = s.verify(new["challenge"], s.last_code(phone))
    st.eq(status, 200, f"{ok}")


def test_at_most_5_codes_per_destination_per_hour():
    s = shop()
    phone = new_phone()
    _, _, v = s.send_code(phone=phone)
    for _ in range(4):
        s.advance(61000)
        status, _, r = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
        st.eq(status, 200, f"{r}")
    st.eq(len(s.codes(phone)), 5)
    s.advance(61000)
    status, hd, e = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq((status, error_of(e)["code"]), (429, "rate_limited"), "a 6th code in the hour")
    wait = int(hd["retry-after"])
    st.check(3000 < wait <= 3600, f"Retry-After {wait}: until the first code is an hour old")
    status, _, e = s.send_code(phone=phone)
    st.eq(status, 429, "nor through a new challenge")
    # Another number is not affected.
    status, _, _ = s.send_code(phone=new_phone())
    st.eq(status, 200)
    st.eq(len(s.codes(phone)), 5, "nothing more was sent")
    s.advance(wait * 1000)
    status, _, r = s.send_code(phone=phone)
    st.eq(status, 200, f"once the hour has passed: {r}")


def test_per_address_limits_for_sending_and_checking():
    shop2 = ah.Shop({"codes_per_ip": 3, "checks_per_ip": 4}, roomy=False)
    try:
        challenges = []
        for _ in range(3):
            status, _, v = shop2.send_code(phone=new_phone())
            st.eq(status, 200, f"{v}")
            challenges.append(v["challenge"])
        status, hd, e = shop2.send_code(phone=new_phone())
        st.eq((status, error_of(e)["code"]), (429, "rate_limited"), "a 4th code from one address")
        st.check(int(hd["retry-after"]) > 0, "Retry-After")
        for i in range(4):
            status, _, e = shop2.verify(challenges[i % 3], "000000")
            st.check(status in (422,), f"check {i}: {status} {e}")
        status, hd, e = shop2.verify(challenges[0], "000000")
        st.eq((status, error_of(e)["code"]), (429, "rate_limited"), "a 5th check from one address")
        st.check(int(hd["retry-after"]) > 0, "Retry-After")
        shop2.advance(ah.HOUR_MS + 2 * ah.MINUTE_MS)
        status, _, _ = shop2.send_code(phone=new_phone())
        st.eq(status, 200, "the hour has passed")
    finally:
        shop2.close()


def test_20_failures_per_account_per_hour_across_challenges():
    s = shop()
    phone = new_phone()
    s.signup(phone)
    s.advance(ah.HOUR_MS)  # the sign-up's code no longer counts against the 5 per hour
    failures = 0
    for round_ in range(4):
        s.advance(61000)
        _, _, v = s.send_code(phone=phone)
        code = s.last_code(phone)
        wrong = f"{(int(code) + 7) % 1000000:06d}"
        for _ in range(5):
            refused(s.verify(v["challenge"], wrong), 422, "code_wrong", f"round {round_}")
            failures += 1
    st.eq(failures, 20)
    s.advance(61000)
    _, _, v = s.send_code(phone=phone)
    code = s.last_code(phone)
    status, hd, e = s.verify(v["challenge"], code)
    st.eq((status, error_of(e)["code"]), (429, "too_many_failures"),
          "the 21st check within the hour, even with the right code")
    st.check(int(hd["retry-after"]) > 0, "Retry-After")
    st.eq(s.query("SELECT tries FROM auth_challenge WHERE public_id = ?",
                  (v["challenge"],))[0][0], 0, "the refused check used no try")
    s.advance(ah.HOUR_MS)
    status, _, r = s.api("POST", "/api/v1/auth/code/resend", {"challenge": v["challenge"]})
    st.eq(status, 200, f"{r}")
    status, _, ok = s.verify(v["challenge"], s.last_code(phone))
    st.eq(status, 200, f"an hour later: {ok}")


# ------------------------------------------------------------------ email

def make_email_account(s, email):
    token, acct = s.signup(new_phone())
    s.execute("UPDATE auth_account SET email = ? WHERE id = ?", (email, acct["id"]))
    return acct


def test_email_signin_for_a_verified_email():
    s = shop()
    acct = make_email_account(s, "anna.signin@example.com")
    status, _, v = s.send_code(email="  Anna.Signin@Example.COM ")
    st.eq(status, 200, f"{v}")
    st.eq((v["channel"], v["destination"]), ("email", "a***@example.com"))
    mail = s.codes("anna.signin@example.com")
    st.eq(len(mail), 1)
    st.check(mail[0]["subject"] and "Код для входа" in mail[0]["subject"], f"{mail[0]}")
    status, _, ok = s.verify(v["challenge"], s.last_code("anna.signin@example.com"))
    st.eq(status, 200, f"{ok}")
    st.eq(ok["account"]["id"], acct["id"])
    # A code sent before the email left the account signs nobody in.
    s.advance(61000)
    _, _, v = s.send_code(email="anna.signin@example.com")
    s.execute("UPDATE auth_account SET email = NULL WHERE id = ?", (acct["id"],))
    refused(s.verify(v["challenge"], s.last_code("anna.signin@example.com")), 404,
            "challenge_unknown")


def test_email_answers_do_not_tell_who_has_an_account():
    s = shop()
    rounds = 20
    known = [f"kate{i}@example.com" for i in range(rounds)]
    unknown = [f"kirk{i}@example.com" for i in range(rounds)]
    for e in known:
        make_email_account(s, e)
    times = {"known": [], "unknown": []}
    bodies = {}
    for i in range(rounds):
        for kind, addr in (("known", known[i]), ("unknown", unknown[i])) if i % 2 else \
                (("unknown", unknown[i]), ("known", known[i])):
            t0 = time.perf_counter()
            status, hd, body = s.server.request("POST", "/api/v1/auth/code", body={"email": addr})
            times[kind].append(time.perf_counter() - t0)
            st.eq(status, 200, f"{kind} {addr}: {body!r}")
            if i == 0:
                bodies[kind] = (body, hd)
    # Byte for byte the same apart from the random challenge id (the masked
    # address shows the first letter and the domain, the same for both here).
    def normal(b):
        return re.sub(rb'"challenge":\s*"[0-9a-f]{32}"', b'"challenge":"ID"', b)
    kb, ub = normal(bodies["known"][0]), normal(bodies["unknown"][0])
    st.check(kb != bodies["known"][0], f"no challenge id in {kb!r}")
    st.eq(kb, ub, "the bodies differ")
    khd, uhd = bodies["known"][1], bodies["unknown"][1]
    for h in ("content-type", "content-length", "cache-control"):
        st.eq(khd.get(h), uhd.get(h), f"header {h}")
    st.eq(sorted(k for k in khd if k not in ("date", "set-cookie-list")),
          sorted(k for k in uhd if k not in ("date", "set-cookie-list")), "header names")
    # Only the known addresses got mail.
    st.eq(len(s.codes(known[0])), 1)
    st.eq(len(s.codes(unknown[0])), 0, "a code was sent to an address no account has")
    # Similar timing: the medians within a loose bound (the same database work
    # is done for both; the decoy renders the message without queuing it).
    mk, mu = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"     medians: known {mk * 1000:.2f} ms, unknown {mu * 1000:.2f} ms")
    st.check(abs(mk - mu) < max(0.005, 0.6 * max(mk, mu)),
             f"medians differ: known {mk * 1000:.2f} ms, unknown {mu * 1000:.2f} ms")
    # The same limits answer alike too.
    status_k, _, ek = s.send_code(email=known[0])
    status_u, _, eu = s.send_code(email=unknown[0])
    st.eq((status_k, status_u), (429, 429))
    st.eq(ek, eu, "the refusals differ")
    # And a wrong code is answered alike.
    rows = s.query("SELECT public_id FROM auth_challenge WHERE destination IN (?, ?)"
                   " ORDER BY id DESC", (known[2], unknown[2]))
    answers = [s.verify(r[0], "000000") for r in rows]
    st.eq([a[0] for a in answers], [422, 422])
    st.eq(answers[0][2], answers[1][2], "wrong codes are answered differently")
    # A new code: the same answer again, and still nothing for the unknown address.
    s.advance(61000)
    resent = [s.api("POST", "/api/v1/auth/code/resend", {"challenge": r[0]}) for r in rows]
    st.eq([r[0] for r in resent], [200, 200])
    st.eq({k: v for k, v in resent[0][2].items() if k not in ("challenge", "destination")},
          {k: v for k, v in resent[1][2].items() if k not in ("challenge", "destination")})
    st.eq((len(s.codes(known[2])), len(s.codes(unknown[2]))), (2, 0))


# --------------------------------------------------------------- referral

def test_referral_link_is_remembered_until_signup():
    s = shop()
    _, referrer = s.signup(new_phone())
    c = s.client()
    status, hd, _ = c.get("/?ref=" + referrer["referral_code"].lower())
    st.eq(status, 200)
    cookie = [x for x in hd["set-cookie-list"] if x.startswith("souk_ref=")]
    st.eq(len(cookie), 1, f"{hd['set-cookie-list']}")
    attrs = cookie[0].split("; ")
    st.eq(attrs[0], "souk_ref=" + referrer["referral_code"])
    for a in ("HttpOnly", "SameSite=Lax", f"Max-Age={30 * 86400}", "Path=/"):
        st.check(a in attrs, f"{a} missing in {cookie[0]}")
    # Later pages without ?ref keep it (no new cookie); a bad code is ignored.
    status, hd, _ = c.get("/signin")
    st.check(not any(x.startswith("souk_ref=") for x in hd["set-cookie-list"]), "set again")
    status, hd, _ = c.get("/signin?ref=%3Cscript%3E")
    st.check(not any(x.startswith("souk_ref=") for x in hd["set-cookie-list"]), "bad code kept")
    # Sign up through the pages with that browser.
    phone = new_phone()
    status, hd, _ = c.post("/signin", {"phone": phone})
    st.eq(status, 303)
    ch = ah.query_of(ah.location(hd))["c"][0]
    status, hd, _ = c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone)})
    st.eq(status, 303)
    st.check(ah.location(hd).startswith("/signup/terms?c=" + ch), ah.location(hd))
    status, hd, _ = c.post("/signup/terms", {"challenge": ch, "accept_terms": "1"})
    st.eq(status, 303)
    st.check(any(x.startswith("souk_ref=;") and "Max-Age=0" in x for x in hd["set-cookie-list"]),
             f"the referral cookie is not cleared: {hd['set-cookie-list']}")
    row = s.query("SELECT referrer_id FROM auth_account WHERE phone = ?", (phone,))
    st.eq(row, [(referrer["id"],)], "the referrer recorded")
    # An unknown code records nothing.
    c2 = s.client()
    c2.get("/?ref=ZZZZZZ")
    phone2 = new_phone()
    _, hd, _ = c2.post("/signin", {"phone": phone2})
    ch = ah.query_of(ah.location(hd))["c"][0]
    c2.post("/signin/code", {"challenge": ch, "code": s.last_code(phone2)})
    c2.post("/signup/terms", {"challenge": ch, "accept_terms": "1"})
    st.eq(s.query("SELECT referrer_id FROM auth_account WHERE phone = ?", (phone2,)), [(None,)])


# ------------------------------------------------------------------- pages

def test_pages_sign_up_by_phone_in_russian():
    s = shop()
    c = s.client()
    status, _, page = c.get("/signin?next=/somewhere%3Fx%3D1")
    st.eq(status, 200)
    text = ah.text_of(page)
    st.check("Вход" in text and "Номер телефона" in text, "the sign-in page is not in Russian")
    st.check('name="_csrf"' in page, "no CSRF field")
    st.check('value="/somewhere?x=1"' in page, "next is not kept in the form")
    # A bad number: the form again with the message beside the field.
    status, _, page = c.post("/signin", {"phone": "12-34", "next": "/somewhere?x=1"})
    st.eq(status, 422)
    st.check('aria-invalid="true"' in page and "Проверьте номер телефона" in ah.text_of(page),
             "no field error")
    st.check('value="12-34"' in page, "the typed number is lost")
    phone = new_phone()
    status, hd, _ = c.post("/signin", {"phone": phone, "next": "/somewhere?x=1"})
    st.eq(status, 303)
    loc = ah.location(hd)
    st.check(loc.startswith("/signin/code?c="), loc)
    status, _, page = c.get(loc)
    st.eq(status, 200)
    text = ah.text_of(page)
    st.check(f"***-**-{phone[-2:]}" in text, "the masked number is not shown")
    st.check("Осталось попыток: 5" in " ".join(text.split()), "tries left not shown")
    st.check("через 60" in " ".join(text.split()), "the resend wait is not shown")
    ch = ah.query_of(loc)["c"][0]
    # Resend too soon: back to the code page with the reason.
    status, hd, _ = c.post("/signin/code/resend", {"challenge": ch, "next": "/somewhere?x=1"})
    st.eq(status, 303)
    status, _, page = c.get(ah.location(hd))
    st.check("Код только что отправлен" in ah.text_of(page), "no flash about the wait")
    # A wrong code: 422, the same page with the message and tries left.
    status, _, page = c.post("/signin/code", {"challenge": ch, "code": "abc",
                                              "next": "/somewhere?x=1"})
    st.eq(status, 422)
    st.check("Неверный код. Осталось попыток: 4" in " ".join(ah.text_of(page).split()),
             "no translated error with the tries left")
    status, hd, _ = c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone),
                                            "next": "/somewhere?x=1"})
    st.eq(status, 303)
    terms = ah.location(hd)
    st.check(terms.startswith("/signup/terms?c=" + ch), terms)
    status, _, page = c.get(terms)
    st.eq(status, 200)
    st.check("2026-11-01" in page and 'href="/terms"' in page, "terms version or link missing")
    status, _, page = c.post("/signup/terms", {"challenge": ch, "next": "/somewhere?x=1"})
    st.eq(status, 422, "no terms accepted")
    st.check("примите условия" in ah.text_of(page), "no message about the terms")
    status, hd, _ = c.post("/signup/terms", {"challenge": ch, "accept_terms": "1",
                                             "next": "/somewhere?x=1"})
    st.eq(status, 303)
    st.eq(ah.location(hd), "/somewhere?x=1", "next kept to the end")
    st.check(c.session(), "no session cookie")
    status, _, page = c.get("/terms")
    st.check("Добро пожаловать" in ah.text_of(page), "no welcome message")
    st.check('action="/signout"' in page and 'href="/account"' in page,
             "the header does not show the account links")
    st.check('href="/favourites"' not in page,
             "a link to favourites in a store without the favourites plugin")
    st.check("Условия использования" in ah.text_of(page), "the terms page")


def test_pages_in_english():
    s = shop()
    c = s.client()
    status, _, page = c.get("/signin?lang=en")
    st.eq(status, 200)
    st.check("Phone number" in ah.text_of(page) and 'href="/signin"' in page, "not English")
    phone = new_phone()
    _, hd, _ = c.post("/signin", {"phone": phone})
    ch = ah.query_of(ah.location(hd))["c"][0]
    status, _, page = c.post("/signin/code", {"challenge": ch, "code": "111111"})
    st.eq(status, 422)
    st.check("Wrong code. Tries left: 4" in " ".join(ah.text_of(page).split()), "English error")
    st.check("en" in s.codes(phone)[-1]["locale"] and "sign-in code" in s.codes(phone)[-1]["body"],
             f"the SMS is not in English: {s.codes(phone)[-1]}")


def test_next_is_only_a_local_path():
    s = shop()
    for nxt, want in [("//evil.example/x", "/account"), ("https://evil.example/", "/account"),
                      ("/\\evil.example", "/account"), ("/favourites", "/favourites"),
                      ("javascript:alert(1)", "/account")]:
        phone = new_phone()
        s.signup(phone)
        s.advance(61000)
        c = s.client()
        _, hd, _ = c.post("/signin", {"phone": phone, "next": nxt})
        loc = ah.location(hd)
        ch = ah.query_of(loc)["c"][0]
        status, hd, _ = c.post("/signin/code", {"challenge": ch, "code": s.last_code(phone),
                                                "next": nxt})
        st.eq((status, ah.location(hd)), (303, want), f"next={nxt!r}")


def test_forms_without_the_csrf_token_are_refused():
    s = shop()
    c = s.client()
    c.get("/signin")
    phone = new_phone()
    for path, form in [("/signin", {"phone": phone}), ("/signout", {}),
                       ("/signin/code", {"challenge": "0" * 32, "code": "123456"})]:
        status, _, _ = c.post(path, form, csrf=False)
        st.eq(status, 403, f"{path} without a token")
        status, _, _ = c.post(path, dict(form, _csrf="0" * 32), csrf=False)
        st.eq(status, 403, f"{path} with a wrong token")
    st.eq(s.codes(phone), [], "a refused form sent a code")
    # A foreign Origin is refused even with a token.
    status, _, _ = c.post("/signin", {"phone": phone}, headers={"Origin": "http://evil.example"})
    st.eq(status, 403)
    status, _, _ = c.post("/signin", {"phone": phone})
    st.eq(status, 303, "with the token the form works")


def test_get_never_changes_state():
    s = shop()
    phone = new_phone()
    token, _ = s.signup(phone)
    s.advance(61000)
    _, _, v = s.send_code(phone=phone)

    def snapshot():
        return (s.query("SELECT id, public_id, tries, used_at, verified_at, expires_at, sent_at"
                        " FROM auth_challenge ORDER BY id"),
                s.query("SELECT * FROM auth_rate ORDER BY key, window"),
                s.query("SELECT * FROM auth_account ORDER BY id"),
                s.query("SELECT id, account_id, token_hash, created_at FROM auth_session"
                        " ORDER BY id"),
                s.query("SELECT count(*) FROM notify_outbox"))

    before = snapshot()
    c = s.client()
    gets = ["/signin", "/signin?phone=" + phone, "/signin/code?c=" + v["challenge"],
            "/signin/code?c=" + v["challenge"] + "&code=" + s.last_code(phone),
            "/signup/terms?c=" + v["challenge"], "/terms", "/signout", "/api/v1/auth/code",
            "/api/v1/auth/verify?challenge=" + v["challenge"] + "&code=" + s.last_code(phone),
            "/api/v1/auth/signout", "/api/v1/auth/sessions/revoke-others"]
    for g in gets:
        c.get(g)
        s.server.request("GET", g, headers={"Authorization": "Bearer " + token})
    status, _, _ = s.server.request("GET", "/signout")
    st.eq(status, 405, "sign-out is not a GET")
    st.eq(snapshot(), before, "a GET changed the database")
    status, _, _ = s.api("GET", "/api/v1/auth/me", token=token)
    st.eq(status, 200, "the session survived the GETs")
    status, _, ok = s.verify(v["challenge"], s.last_code(phone))
    st.eq(status, 200, "the code survived the GETs")


def test_message_templates_name_the_purpose():
    s = shop()
    phone = new_phone()
    s.send_code(phone=phone)
    body = s.codes(phone)[-1]["body"]
    st.check(re.search(r"Код для входа в .+: \d{6}\. Действует 5 мин\.", body), body)


def test_signin_throughput():
    """Codes issued and verified per second through the API (two workers, one
    client): printed for the record, and at least a modest floor."""
    s = shop()
    n = 40
    phones = [new_phone() for _ in range(n)]
    for p in phones:
        s.signup(p)
    s.advance(61000)
    t0 = time.perf_counter()
    ids = []
    for p in phones:
        status, _, v = s.send_code(phone=p)
        st.eq(status, 200)
        ids.append(v["challenge"])
    t1 = time.perf_counter()
    codes = [s.last_code(p) for p in phones]
    t2 = time.perf_counter()
    for ch, code in zip(ids, codes):
        status, _, _ = s.verify(ch, code)
        st.eq(status, 200)
    t3 = time.perf_counter()
    issue_rate, verify_rate = n / (t1 - t0), n / (t3 - t2)
    print(f"     sign-in throughput: {issue_rate:.0f} codes issued/s, "
          f"{verify_rate:.0f} codes verified/s (sequential, one client)")
    st.check(issue_rate > 20 and verify_rate > 20, "sign-in is far too slow")


st.main(globals())
