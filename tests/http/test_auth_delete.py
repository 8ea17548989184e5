"""Black-box tests of account deletion: a reason and a code; a plugin's veto
(user.deleting, refused by the test plugin vetoprobe while its flag is set)
shown to the shopper on the page and in the API; on success the personal data
are erased (the row stays as a tombstone), every session, challenge, preference
and phone change goes, user.deleted reaches other plugins in the same
transaction, the session cookie is cleared and a farewell is sent first."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

VETO = "You have an open order #1042; wait until it is delivered"


# resend_ms 0: a second sign-in right after the sign-up.
SHOP = ah.served(["notify", "auth", "vetoprobe"], auth={"resend_ms": 0})
server = SHOP.server


def shopper():
    return ah.shopper(SHOP)


def veto(reason):
    if reason:
        s, _, _ = server().request("PUT", "/api/v1/vetoprobe/veto", body={"reason": reason})
    else:
        s, _, _ = server().request("DELETE", "/api/v1/vetoprobe/veto")
    st.eq(s, 200)


def events():
    return server().get_json("/api/v1/vetoprobe/events")[1]


def sign_in_again(a):
    """A second session of the same account: its token."""
    return ah.sign_in(server(), SHOP.store, a.phone)["token"]


def test_veto_is_shown_to_the_shopper():
    a = shopper()
    veto(VETO)
    try:
        s, v = a.api("POST", "/api/v1/account/delete", {"reason": "moving abroad"})
        st.eq(s, 409, f"{v}")
        st.eq((v["error"]["code"], v["error"]["message"], v["error"]["plugin"]),
              ("deletion_refused", VETO, "vetoprobe"))
        st.eq(len(ah.messages(SHOP.store, a.phone, "auth_code")), 1, "no code but the sign-up's:")
        # The page: the delete page itself, the reason where the shopper looks.
        s, _, text = a.form("/account/delete", {"reason": "moving abroad"}, page="/account/delete")
        st.eq(s, 409)
        st.check("Your account cannot be deleted yet" in text and
                 "You have an open order #1042" in text and "vetoprobe" in text, text)
        st.check('role="alert"' in text and "<h1>Delete your account</h1>" in text, text)
        # Allowed at the start, refused at the confirmation: still refused, nothing erased.
        veto(None)
        s, v = a.api("POST", "/api/v1/account/delete", {"reason": "moving abroad"})
        st.eq(s, 200, f"{v}")
        cid = v["challenge"]["id"]
        st.eq(v["challenge"]["channel"], "sms")
        veto(VETO)
        s, v = a.api("POST", "/api/v1/account/delete/confirm", {"challenge": cid, "code": a.code()})
        st.eq((s, v["error"]["code"], v["error"]["message"]), (409, "deletion_refused", VETO))
        s, v = a.api("GET", "/api/v1/account")
        st.eq((s, v["account"]["phone"]), (200, a.phone), "the account is still there:")
        st.check(a.id not in events()["deleted"], "no user.deleted for a refused deletion")
        # The code was not used up by the refusal: it works once the veto is lifted.
        veto(None)
        s, v = a.api("POST", "/api/v1/account/delete/confirm", {"challenge": cid, "code": a.code()})
        st.eq((s, v.get("deleted")), (200, True), f"{v}")
    finally:
        veto(None)


def test_deletion_erases_the_account():
    a = shopper()
    email = a.secure(name="Мария")
    a.api("PATCH", "/api/v1/account/profile", {"birth_date": "1990-05-17"})
    a.api("PUT", "/api/v1/account/notifications", {"newsletter": {"email": True}})
    s, v = a.api("POST", "/api/v1/account/phone", {"phone": ah.new_phone()})
    st.eq(s, 200)
    second = sign_in_again(a)
    st.eq(a.api("GET", "/api/v1/account", token=second)[0], 200, "the second session works")

    # A reason is required; a wrong code counts (422) and changes nothing.
    s, v = a.api("POST", "/api/v1/account/delete", {"reason": "   "})
    st.eq((s, v["error"]["code"], v["error"]["field"]), (422, "reason_required", "reason"))
    s, v = a.api("POST", "/api/v1/account/delete", {"reason": "x" * 501})
    st.eq((s, v["error"]["code"]), (422, "reason_too_long"))
    s, v = a.api("POST", "/api/v1/account/delete", {"reason": "too many emails"})
    st.eq(s, 200, f"{v}")
    cid = v["challenge"]["id"]
    code = a.code()
    wrong = "000000" if code != "000000" else "111111"
    s, v = a.api("POST", "/api/v1/account/delete/confirm", {"challenge": cid, "code": wrong})
    st.eq((s, v["error"]["code"], v["error"]["tries_left"]), (422, "code_wrong", 4))
    s, v = a.api("POST", "/api/v1/account/delete/confirm", {"challenge": cid})
    st.eq((s, v["error"]["code"]), (422, "code_required"))

    # The page's session: its cookie must be cleared by the answer.
    s, hd, body = server().request(
        "POST", "/api/v1/account/delete/confirm", body={"challenge": cid, "code": code},
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in a.cookies.items())})
    st.eq(s, 200, body)
    st.eq(json.loads(body), {"deleted": True})
    cleared = [c for c in hd["set-cookie-list"] if "session" in c.split("=")[0]]
    st.check(cleared and all("max-age=0" in c.lower() for c in cleared),
             f"the session cookie is cleared: {hd['set-cookie-list']}")

    # Every session is gone.
    for token in (a.token, second):
        s, v = a.api("GET", "/api/v1/account", token=token)
        st.eq(s, 401, "a deleted account's session:")
    s, _, _ = a.page("GET", "/account")
    st.eq(s, 303, "the cookie no longer signs in:")

    # The farewell went to both addresses before they were erased.
    st.eq(len(ah.messages(SHOP.store, email, "account_deleted")), 1, "farewell email:")
    st.eq(len(ah.messages(SHOP.store, a.phone, "account_deleted")), 1, "farewell SMS:")

    # The tombstone and what went with the personal data.
    row = sh.query(SHOP.store, "SELECT phone, email, name, birth_date, deleted_at,"
                   " deletion_reason, referral_code FROM auth_account WHERE id = ?", (a.id,))[0]
    st.eq(row[:4], (None, None, None, None), "personal data erased:")
    st.check(row[4] and row[5] == "too many emails" and row[6], f"the tombstone: {row}")
    for table in ("auth_session", "auth_pref", "auth_phone_change", "auth_challenge"):
        n = sh.query(SHOP.store, f"SELECT count(*) FROM {table} WHERE account_id = ?",
                     (a.id,))[0][0]
        st.eq(n, 0, f"{table} rows of the account:")
    n = sh.query(SHOP.store, "SELECT count(*) FROM auth_challenge WHERE destination IN (?, ?)",
                 (a.phone, email))[0][0]
    st.eq(n, 0, "challenges to its addresses:")

    # Other plugins heard of it, with the reason, in the deletion's transaction.
    ev = events()
    st.check(a.id in ev["deleted"], f"user.deleted reached vetoprobe: {ev}")
    st.check({"id": a.id, "reason": "too many emails"} in ev["asked"], ev)

    # The number and the email are free again: a new account, a new id.
    b = ah.Shopper(server(), SHOP.store, phone=a.phone)
    st.check(b.id != a.id, "a new account")
    s, v = b.api("POST", "/api/v1/account/email", {"email": email})
    st.eq(s, 200, f"the email is free again: {v}")


def test_delete_page_flow():
    a = shopper()
    s, _, text = a.page("GET", "/account/delete")
    st.eq(s, 200)
    st.check('id="field-reason"' in text and 'name="_csrf"' in text, text)
    s, _, text = a.form("/account/delete", {"reason": ""}, page="/account/delete")
    st.eq(s, 422)
    st.check('id="reason-error"' in text and "Tell us why you are leaving." in text, text)
    s, hd, _ = a.form("/account/delete", {"reason": "just testing"}, page="/account/delete")
    st.eq(s, 303)
    m = re.match(r"/account/delete\?challenge=([0-9a-f]+)#delete-code$", hd["location"])
    st.check(m, hd["location"])
    cid = m.group(1)
    s, _, text = a.page("GET", f"/account/delete?challenge={cid}")
    st.check('id="delete-code"' in text and f'action="/account/delete/confirm?challenge={cid}"'
             in text, text)
    code = a.code()
    wrong = "000000" if code != "000000" else "111111"
    s, _, text = a.form(f"/account/delete/confirm?challenge={cid}",
                        {"challenge": cid, "code": wrong}, page="/account/delete")
    st.eq(s, 422)
    st.check('id="code-error"' in text and 'id="delete-code"' in text, text)
    s, hd, _ = a.form(f"/account/delete/confirm?challenge={cid}",
                      {"challenge": cid, "code": code}, page="/account/delete")
    st.eq((s, hd["location"]), (303, "/"))
    st.check(not any("session" in k for k in a.cookies), f"cookie cleared: {a.cookies}")
    s, _, text = a.page("GET", "/")
    st.check("Your account has been deleted." in text, "the farewell flash")
    st.eq(sh.query(SHOP.store, "SELECT phone FROM auth_account WHERE id = ?", (a.id,))[0][0], None)


if __name__ == "__main__":
    st.main(globals())
