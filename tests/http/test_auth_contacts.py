"""Black-box tests of the shopper's contacts: adding and changing the email (a
code to the new address, unique among live accounts, a notice to the old one),
changing the phone with codes to the new and the old number, and the 14-day
path when the old number is lost -- completed by the sweep when the store clock
(SOUK_CLOCK_FILE) passes the date, cancelled, or failed because the number went
to another account -- with the notices, the pages and their forms."""
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import souktest as st  # noqa: E402

CLOCK = None
SWEEP_MS = 200
YEAR_MS = 365 * ah.DAY_MS
WAIT_MS = 14 * ah.DAY_MS


def with_clock(store):
    global CLOCK
    CLOCK = ah.Clock(store)
    return CLOCK.env()


# The clock moves by weeks here: sessions must outlive it.
SHOP = ah.served(["notify", "auth"], with_clock,
                 auth={"sweep_ms": SWEEP_MS, "session_idle_ms": YEAR_MS,
                       "session_absolute_ms": YEAR_MS})
server = SHOP.server


def shopper():
    return ah.shopper(SHOP)


def notices(to, message):
    return ah.messages(SHOP.store, to, message)


def start_email(a, email):
    s, v = a.api("POST", "/api/v1/account/email", {"email": email})
    st.eq(s, 200, f"start {email}: {v}")
    st.eq(v["challenge"]["channel"], "email")
    return v["challenge"]["id"]


# ------------------------------------------------------------------- email

def test_email_verify_and_uniqueness():
    a, b = shopper(), shopper()
    email = f"shared{a.id}@example.com"
    cid = start_email(a, email.upper())  # normalised to lower case
    st.eq(ah.messages(SHOP.store, email, "auth_code")[-1]["to"], email, "the code went to it:")
    # A wrong code counts and says how many tries are left; nothing changes.
    s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": "000000"})
    if a.code(email) == "000000":
        s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": "111111"})
    st.eq((s, v["error"]["code"], v["error"]["tries_left"]), (422, "code_wrong", 4))
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["email"], None)
    # Another shopper cannot use a's code request.
    s, v = b.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": a.code(email)})
    st.eq((s, v["error"]["code"]), (404, "challenge_unknown"), "b with a's challenge:")
    s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": a.code(email)})
    st.eq((s, v["account"]["email"]), (200, email))
    # Used up.
    s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": a.code(email)})
    st.eq(s, 410, f"used: {v}")
    # Taken: refused at once, clearly.
    s, v = b.api("POST", "/api/v1/account/email", {"email": email})
    st.eq((s, v["error"]["code"], v["error"]["field"]), (422, "email_taken", "email"))
    st.check("another account" in v["error"]["message"], v["error"]["message"])
    # Taken meanwhile: both ask for the same free address; the first to verify wins.
    other = f"race{a.id}@example.com"
    cb = start_email(b, other)
    code_b = b.code(other)
    CLOCK.advance(61 * 1000)  # one code a minute to an address
    ca = start_email(a, other)
    s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": ca, "code": a.code(other)})
    st.eq((s, v["account"]["email"]), (200, other))
    s, v = b.api("POST", "/api/v1/account/email/verify", {"challenge": cb, "code": code_b})
    st.eq((s, v.get("error", {}).get("code")), (422, "email_taken"), "b verifies too late:")
    st.eq(b.api("GET", "/api/v1/account")[1]["account"]["email"], None)
    # Bad addresses and the same address.
    for bad in ("", "no-at-sign", "a@b", "a b@example.com"):
        s, v = b.api("POST", "/api/v1/account/email", {"email": bad})
        st.eq(s, 422, f"{bad!r}:")
        st.check(v["error"]["code"] in ("email_required", "email_invalid"), v)
    s, v = a.api("POST", "/api/v1/account/email", {"email": other})
    st.eq((s, v["error"]["code"]), (422, "email_same"))


def test_email_change_sends_a_notice_to_the_old_address():
    a = shopper()
    old, new = f"old{a.id}@example.com", f"new{a.id}@example.com"
    s, v = a.api("POST", "/api/v1/account/email/verify",
                 {"challenge": start_email(a, old), "code": a.code(old)})
    st.eq(s, 200)
    st.eq(notices(old, "account_email_changed"), [], "adding the first email is no change:")
    cid = start_email(a, new)
    st.eq(notices(new, "auth_code")[-1]["to"], new, "the code goes to the new address:")
    s, v = a.api("POST", "/api/v1/account/email/verify", {"challenge": cid, "code": a.code(new)})
    st.eq((s, v["account"]["email"]), (200, new))
    mails = notices(old, "account_email_changed")
    st.eq(len(mails), 1, "one notice to the old address:")
    st.check("n***@example.com" in mails[0]["body"], mails[0]["body"])
    st.check(mails[0]["subject"] == "Your email address was changed", mails[0])
    st.eq(len(notices(a.phone, "account_email_changed")), 1, "and an SMS to the phone:")
    st.eq(notices(new, "account_email_changed"), [], "nothing of it to the new address:")


def test_contacts_page_email_flow():
    a = shopper()
    email = f"page{a.id}@example.com"
    s, _, text = a.page("GET", "/account/contacts")
    st.eq(s, 200)
    st.check('action="/account/email"' in text and 'action="/account/phone"' in text, text)
    # Invalid: the page again with the message by the field.
    s, _, text = a.form("/account/email", {"email": "not an email"}, page="/account/contacts")
    st.eq(s, 422)
    st.check('id="email-error"' in text and re.search(
        r'id="field-email"[^>]*aria-invalid="true"', text, re.S), text)
    s, hd, _ = a.form("/account/email", {"email": email}, page="/account/contacts")
    st.eq(s, 303)
    loc = hd["location"]
    m = re.match(r"/account/contacts\?email_challenge=([0-9a-f]+)#email-code$", loc)
    st.check(m, loc)
    cid = m.group(1)
    s, _, text = a.page("GET", loc.split("#")[0])
    st.check("We sent a code to the new address." in text and 'id="email-code"' in text, text)
    st.check(f'action="/account/email/verify?email_challenge={cid}"' in text, text)
    # A wrong code: shown again, the message by the code field.
    code = a.code(email)
    wrong = "000000" if code != "000000" else "111111"
    s, _, text = a.form(f"/account/email/verify?email_challenge={cid}",
                        {"challenge": cid, "code": wrong}, page="/account/contacts")
    st.eq(s, 422)
    st.check('id="email-code-error"' in text and re.search(
        r'id="email-code-input"[^>]*aria-invalid="true"', text, re.S), text)
    st.check('id="email-error"' not in text, "the address field is not the one at fault")
    s, hd, _ = a.form(f"/account/email/verify?email_challenge={cid}",
                      {"challenge": cid, "code": code}, page="/account/contacts")
    st.eq((s, hd["location"]), (303, "/account/contacts"))
    s, _, text = a.page("GET", "/account/contacts")
    st.check("Your email is confirmed." in text and email in text, text)


# ------------------------------------------------------------------- phone

def start_phone(a, phone):
    s, v = a.api("POST", "/api/v1/account/phone", {"phone": phone})
    st.eq(s, 200, f"start {phone}: {v}")
    return v["challenges"]["new"]["id"], v["challenges"]["old"]["id"]


def verify_phone(a, cid, to):
    return a.api("POST", "/api/v1/account/phone/verify", {"challenge": cid, "code": a.code(to)})


def test_phone_change_with_both_codes():
    a = shopper()
    email = a.secure()
    new = ah.new_phone()
    # Russian ways of writing the number are accepted.
    national = "8 " + new[2:5] + " " + new[5:8] + "-" + new[8:10] + "-" + new[10:]
    cn, co = start_phone(a, national)
    st.check(notices(new, "auth_code") and notices(a.phone, "auth_code"),
             "a code to the new number and one to the old")
    s, v = a.api("GET", "/api/v1/account")
    pc = v["phone_change"]
    st.eq((pc["new_phone"], pc["new_confirmed"], pc["old_confirmed"], pc["waiting"]),
          (new, False, False, False))
    # The old number's code cannot stand for the new one's: each is checked for itself.
    s, v = a.api("POST", "/api/v1/account/phone/verify",
                 {"challenge": cn, "code": a.code(a.phone)})
    if a.code(a.phone) != a.code(new):
        st.eq((s, v["error"]["code"]), (422, "code_wrong"))
    s, v = verify_phone(a, cn, new)
    st.eq((s, v["confirmed"], v["completed"]), (200, "new", False), f"{v}")
    st.eq(v["account"]["phone"], a.phone, "not yet changed:")
    s, v = verify_phone(a, co, a.phone)
    st.eq((s, v["confirmed"], v["completed"]), (200, "old", True), f"{v}")
    st.eq((v["account"]["phone"], v["phone_change"]), (new, None))
    done = notices(a.phone, "account_phone_change_completed")
    st.eq(len(done), 1, "the old number hears of it")
    st.eq(len(notices(email, "account_phone_change_completed")), 1, "and the email")
    # The new number signs in to the same account; the old one is free.
    v = ah.sign_in(server(), SHOP.store, new)
    st.eq(v["account"]["id"], a.id, "signed in with the new number:")


def test_phone_change_refusals():
    a, b = shopper(), shopper()
    for phone, code in (("", "phone_required"), ("12", "phone_invalid"),
                        (a.phone, "phone_same"), (b.phone, "phone_taken")):
        s, v = a.api("POST", "/api/v1/account/phone", {"phone": phone})
        st.eq((s, v["error"]["code"], v["error"]["field"]), (422, code, "phone"), f"{phone!r}:")
    # Nothing pending: nothing to confirm, lose or cancel.
    s, v = a.api("POST", "/api/v1/account/phone/lost")
    st.eq((s, v["error"]["code"]), (409, "no_phone_change"))
    s, v = a.api("DELETE", "/api/v1/account/phone/change")
    st.eq((s, v["error"]["code"]), (404, "no_phone_change"))
    # A code of an earlier attempt cannot confirm a later one.
    x, y = ah.new_phone(), ah.new_phone()
    cx, _ = start_phone(a, x)
    code_x = a.code(x)
    CLOCK.advance(61 * 1000)  # a new code to the old number: a minute later
    cy, coy = start_phone(a, y)
    s, v = a.api("POST", "/api/v1/account/phone/verify", {"challenge": cx, "code": code_x})
    st.eq((s, v["error"]["code"]), (409, "change_stale"), f"{v}")
    # Someone else's challenge is unknown to a.
    s, v = b.api("POST", "/api/v1/account/phone/verify", {"challenge": cy, "code": a.code(y)})
    st.eq((s, v["error"]["code"]), (404, "challenge_unknown"))
    # The new number taken before the change completes: refused at completion.
    s, v = verify_phone(a, cy, y)
    st.eq(s, 200)
    ah.shopper(SHOP, y)
    s, v = verify_phone(a, coy, a.phone)
    st.eq((s, v["error"]["code"]), (422, "phone_taken"), f"{v}")
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["phone"], a.phone)
    s, v = a.api("DELETE", "/api/v1/account/phone/change")
    st.eq((s, v["cancelled"]), (200, True))


def wait_for(pred, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(SWEEP_MS / 1000 / 2)
    raise AssertionError(f"timed out waiting for {what}")


def sweeps_pass():
    """Long enough for every worker's sweep to have run at least twice."""
    time.sleep(3 * SWEEP_MS / 1000)


def waiting_change():
    """A secured shopper whose new number is confirmed and who has lost the old
    one: the change waits (a, email, new number)."""
    a = shopper()
    email = a.secure()
    new = ah.new_phone()
    cn, _ = start_phone(a, new)
    st.eq(verify_phone(a, cn, new)[0], 200)
    st.eq(a.api("POST", "/api/v1/account/phone/lost")[0], 200)
    return a, email, new


def test_lost_old_number_completes_after_14_days():
    a = shopper()
    email = a.secure()
    new = ah.new_phone()
    cn, _ = start_phone(a, new)
    # "Lost" needs the new number confirmed first.
    s, v = a.api("POST", "/api/v1/account/phone/lost")
    st.eq((s, v["error"]["code"]), (422, "phone_new_unconfirmed"))
    st.eq(verify_phone(a, cn, new)[0], 200)
    t0 = int(time.time() * 1000) + CLOCK.offset
    s, v = a.api("POST", "/api/v1/account/phone/lost")
    st.eq(s, 200, f"{v}")
    pc = v["phone_change"]
    st.check(pc["waiting"] and abs(pc["due_at"] - (t0 + WAIT_MS)) < 60 * 1000, pc)
    # The notices went at once, to the email and the old number.
    started = notices(email, "account_phone_change_started")
    st.eq(len(started), 1, "email notice at once:")
    st.check(pc["due_text"] in started[0]["body"], started[0]["body"])
    st.check(re.search(r"cancel it now in your account: http://127\.0\.0\.1:\d+/account\n",
                       started[0]["body"]), started[0]["body"])
    st.eq(len(notices(a.phone, "account_phone_change_started")), 1, "sms notice at once:")
    # The account page shows the change, its date and the cancel button.
    s, _, text = a.page("GET", "/account")
    st.check(pc["due_text"] in text and new in text, text)
    st.check('action="/account/phone/change"' in text and 'value="DELETE"' in text, text)
    # Asking again changes nothing (no second notice, the same date).
    s, v = a.api("POST", "/api/v1/account/phone/lost")
    st.eq((s, v["phone_change"]["due_at"]), (200, pc["due_at"]))
    st.eq(len(notices(email, "account_phone_change_started")), 1)

    # 13 days on: nothing happens.
    CLOCK.advance(13 * ah.DAY_MS)
    sweeps_pass()
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["phone"], a.phone, "after 13 days:")
    # A day and a minute more: the sweep completes the change.
    CLOCK.advance(ah.DAY_MS + 60 * 1000)
    wait_for(lambda: a.api("GET", "/api/v1/account")[1]["account"]["phone"] == new,
             "the sweep to change the number")
    s, v = a.api("GET", "/api/v1/account")
    st.eq(v["phone_change"], None)
    st.eq(len(notices(email, "account_phone_change_completed")), 1, "completed, by email:")
    st.eq(len(notices(a.phone, "account_phone_change_completed")), 1, "and to the old number:")


def test_lost_old_number_cancelled():
    a, email, _ = waiting_change()
    # Cancelled from the account page's form.
    s, hd, _ = a.form("/account/phone/change", {"_method": "DELETE"})
    st.eq((s, hd["location"]), (303, "/account"))
    s, _, text = a.page("GET", "/account")
    st.check("The change of number was cancelled." in text, text)
    st.eq(a.api("GET", "/api/v1/account")[1]["phone_change"], None)
    st.eq(len(notices(email, "account_phone_change_cancelled")), 1, "cancel notice by email:")
    st.eq(len(notices(a.phone, "account_phone_change_cancelled")), 1, "and by SMS:")
    CLOCK.advance(WAIT_MS + 60 * 1000)
    sweeps_pass()
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["phone"], a.phone, "never changed:")


def test_lost_old_number_fails_when_the_number_is_taken():
    a, email, new = waiting_change()
    b = ah.shopper(SHOP, new)  # the number goes to a new account
    CLOCK.advance(WAIT_MS + 60 * 1000)
    wait_for(lambda: a.api("GET", "/api/v1/account")[1]["phone_change"] is None,
             "the sweep to end the change")
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["phone"], a.phone, "unchanged:")
    st.eq(b.api("GET", "/api/v1/account")[1]["account"]["phone"], new, "b keeps it:")
    st.eq(len(notices(email, "account_phone_change_failed")), 1, "failure notice by email:")
    st.eq(len(notices(a.phone, "account_phone_change_failed")), 1, "and by SMS:")


def test_contacts_page_phone_flow():
    a = shopper()
    new = ah.new_phone()
    s, hd, _ = a.form("/account/phone", {"phone": new}, page="/account/contacts")
    st.eq(s, 303)
    loc = hd["location"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    cn, co = q["phone_new"][0], q["phone_old"][0]
    s, _, text = a.page("GET", loc.split("#")[0])
    st.check("Code sent to the new number" in text and "Code sent to your current number" in text,
             text)
    state = f"phone_new={cn}&amp;phone_old={co}"
    st.check(f'action="/account/phone/verify?{state}"' in text, text)
    # "Lost" is offered only once the new number is confirmed.
    st.check('action="/account/phone/lost"' not in text, "no 'lost' button yet")
    s, hd, _ = a.form(f"/account/phone/verify?phone_new={cn}&phone_old={co}",
                      {"challenge": cn, "code": a.code(new)}, page="/account/contacts")
    st.eq(s, 303)
    st.eq(hd["location"], f"/account/contacts?phone_old={co}#phone-codes")
    s, _, text = a.page("GET", f"/account/contacts?phone_old={co}")
    st.check("Code accepted." in text and "The new number is confirmed." in text, text)
    st.check('action="/account/phone/lost"' in text and "Code sent to the new number" not in text,
             text)
    s, hd, _ = a.form("/account/phone/lost", {}, page="/account/contacts")
    st.eq((s, hd["location"]), (303, "/account"))
    s, _, text = a.page("GET", "/account?lang=ru")
    st.check("Номер сменится автоматически" in text and "Отменить смену номера" in text, text)
    a.page("GET", "/account?lang=en")


def test_taken_answers_count_like_codes():
    """"Belongs to another account" reveals an address: each such answer counts
    against the client's hourly codes (codes_per_ip), so probing is no faster than
    asking for codes."""
    store = st.Store({"plugins": ["notify", "auth"], "locale": "en", "locales": ["en", "ru"],
                      "settings": {"auth": {"codes_per_ip": 5, "checks_per_ip": 1000}}})
    try:
        srv = st.Server(store, workers=1)
        try:
            a = ah.Shopper(srv, store)  # code 1
            b = ah.Shopper(srv, store)  # code 2
            answers = []
            for _ in range(4):
                s, v = a.api("POST", "/api/v1/account/phone", {"phone": b.phone})
                answers.append((s, v["error"]["code"]))
            st.eq(answers, [(422, "phone_taken")] * 3 + [(429, "rate_limited")], "probes:")
        finally:
            srv.stop()
    finally:
        store.cleanup()


if __name__ == "__main__":
    st.main(globals())
