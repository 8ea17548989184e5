"""Member prices: the catalog gives pricing.lua the signed-in shopper (the auth
plugin's identity, with "member": true), so the store's default pricing.lua (rule
3, "club card": 5% off for members) shows a member a lower price than a guest, on
the product page and in the API -- and a guest is never shown the member's price
(the catalog's pages are response-cached for guests only).

The expected prices come from `souk price --json` (the same script, the same
moment), once for a guest and once for {"member": true}: the test does not copy
the script's arithmetic, it checks that the request path prices exactly as the
merchant's own tool does, for the right customer."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import seedhelp as sh  # noqa: E402
import souktest as st  # noqa: E402

SLUG = "linen-shirt"
SKU = "LS-M"
BASE = 249000           # 2 490 ₽; the brand has no standing discount in pricing.lua
MEMBER_RULE = "member-price"


def prepare(store):
    st.check(os.path.exists(store.path("scripts/pricing.lua")),
             "souk init wrote no scripts/pricing.lua")
    with open(store.path("scripts/pricing.lua")) as f:
        st.check("customer.member == true" in f.read(),
                 "the default pricing.lua has no member rule")
    sh.migrate(store)
    sh.seed_catalog(store, ("shirts", "Рубашки", "Shirts"),
                    [(SLUG, "Льняная рубашка", "Linen shirt", "active",
                      [(SKU, 4, BASE, {"размер": "M"}, {})])])


SHOP = ah.served(["catalog", "notify", "auth"], prepare, locale="ru")
server = SHOP.server


# ----------------------------------------------------------------- helpers

def souk_price(customer):
    """The variant's price shape as `souk price --json` computes it now."""
    path = os.path.join(SHOP.store.tmp, "customer.json")
    with open(path, "w") as f:
        json.dump(customer, f)
    p = st.run("price", SHOP.store.dir, "--product", SLUG, "--customer-json", path, "--json",
               env=SHOP.store.env(), check=0)
    out = json.loads(p.stdout)
    return next(v["price"] for v in out["variants"] if v["sku"] == SKU)


def rules(price):
    return [a["rule"] for a in price["adjustments"]]


def api_price(headers=None):
    s, body = server().get_json(f"/api/v1/products/{SLUG}", headers=headers)
    st.eq(s, 200, body)
    return body["product"]["variants"][0]["price"], body["product"]["price"]


def page():
    """The product page as a guest sees it."""
    s, _, body = server().request("GET", f"/p/{SLUG}")
    st.eq(s, 200)
    return body.decode()


# ------------------------------------------------------------------- tests

def test_guest_sees_the_base_rules_only():
    server()
    guest = souk_price(None)
    st.check(MEMBER_RULE not in rules(guest), guest)
    variant, card = api_price()
    st.eq(variant["amount"], guest["amount"], "the API prices a guest as souk price does")
    st.check(MEMBER_RULE not in rules(variant), variant)
    st.eq(card["amount"], guest["amount"])
    text = page()
    st.check(guest["amount_text"] in text, "the guest's price is on the page")
    st.check("клубной карте" not in text, "a guest sees no club card price")


def test_member_sees_the_member_price():
    server()
    shopper = ah.shopper(SHOP)
    s, me = shopper.api("GET", "/api/v1/auth/me")
    st.eq(s, 200, me)
    st.eq(me["account"]["member"], True, "the identity says member")
    guest = souk_price(None)
    member = souk_price({"id": me["account"]["id"], "member": True})
    st.check(member["amount"] < guest["amount"], f"a member pays less: {member} vs {guest}")
    st.check(MEMBER_RULE in rules(member), member)

    # A guest asks first, so that the guest's answer is in the response cache ...
    api_price()
    page()
    # ... and the member is priced as a member all the same: API, card and page.
    bearer = {"Authorization": "Bearer " + shopper.token}
    variant, card = api_price(bearer)
    st.eq(variant["amount"], member["amount"], "the member's API price")
    st.check(MEMBER_RULE in rules(variant), variant)
    st.eq(card["amount"], member["amount"], "the product's card price")
    s, body = server().get_json("/api/v1/products", headers=bearer)
    st.eq(s, 200)
    st.eq(body["items"][0]["price"]["amount"], member["amount"], "the listing's card")
    s, _, text = shopper.page("GET", f"/p/{SLUG}")
    st.eq(s, 200)
    st.check(member["amount_text"] in text, f"the member's price {member['amount_text']!r} "
             "is on the page")
    st.check("Цена по клубной карте" in text, "the page explains the club card price")
    # And the guest still gets the guest's price, not the member's.
    variant, _ = api_price()
    st.eq(variant["amount"], guest["amount"], "the guest again")
    st.check("клубной карте" not in page(), "the guest's page again")


def test_zz_stop():
    SHOP.stop()


if __name__ == "__main__":
    st.main(globals())
