"""Black-box tests of the notification preferences: the defaults (newsletter
off, orders and back-in-stock on), changes through the API and the page's form,
auth_v1.notify_account as another plugin uses it (only the channels the shopper
allows, email only when verified, in the account's language), the signed
one-click unsubscribe link (valid, tampered, without signing in, GET changes
nothing, RFC 8058 one-click POST) and `souk newsletter`."""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import souktest as st  # noqa: E402

PROBE_EMAIL = {
    "en": "Subject: Probe {{{kind}}}\n\nHello {{{customer.name}}}: {{{text}}}\n"
          "{{#unsubscribe_url}}unsubscribe: {{{unsubscribe_url}}}{{/unsubscribe_url}}\n",
    "ru": "Subject: Проба {{{kind}}}\n\nЗдравствуйте, {{{customer.name}}}: {{{text}}}\n"
          "{{#unsubscribe_url}}отписка: {{{unsubscribe_url}}}{{/unsubscribe_url}}\n",
}
PROBE_SMS = {"en": "probe {{{text}}}\n", "ru": "проба {{{text}}}\n"}


def prepare(store):
    for loc in ("en", "ru"):
        store.write(f"themes/default/templates/message.probe_notice.email.{loc}.mustache",
                    PROBE_EMAIL[loc])
        store.write(f"themes/default/templates/message.probe_notice.sms.{loc}.mustache",
                    PROBE_SMS[loc])


SHOP = ah.served(["notify", "auth", "vetoprobe"], prepare)
server = SHOP.server


def shopper():
    return ah.shopper(SHOP)


def prefs(a):
    s, v = a.api("GET", "/api/v1/account/notifications")
    st.eq(s, 200)
    return {(k["kind"], c["channel"]): c["enabled"] for k in v["notifications"]
            for c in k["channels"]}


def test_defaults_and_changes():
    a = shopper()
    st.eq(prefs(a), {("newsletter", "email"): False, ("orders", "email"): True,
                     ("orders", "sms"): True, ("back_in_stock", "email"): True,
                     ("back_in_stock", "sms"): True}, "defaults:")
    s, v = a.api("GET", "/api/v1/account/notifications")
    st.eq(v["email_verified"], False)
    email = [c for k in v["notifications"] for c in k["channels"] if c["channel"] == "email"]
    st.check(all(not c["available"] for c in email), "email unavailable until verified")
    s, v = a.api("PUT", "/api/v1/account/notifications",
                 {"newsletter": {"email": True}, "orders": {"sms": False}})
    st.eq(s, 200, f"{v}")
    p = prefs(a)
    st.eq((p[("newsletter", "email")], p[("orders", "sms")], p[("orders", "email")]),
          (True, False, True), "only the pairs given change:")
    for body, code, field in (
            ({"weather": {"email": True}}, "kind_unknown", "weather"),
            ({"newsletter": {"sms": True}}, "channel_unknown", "newsletter.sms"),
            ({"orders": {"email": "yes"}}, "invalid", "orders.email"),
            ({"orders": True}, "invalid", "orders")):
        s, v = a.api("PUT", "/api/v1/account/notifications", body)
        st.eq((s, v["error"]["code"], v["error"]["field"]), (422, code, field), f"{body}:")
    # A refused request changes nothing, even the valid pairs before the bad one.
    s, v = a.api("PUT", "/api/v1/account/notifications",
                 {"back_in_stock": {"sms": False}, "weather": {"email": True}})
    st.eq(s, 422)
    st.eq(prefs(a)[("back_in_stock", "sms")], True, "rolled back:")


def test_notifications_page_form():
    a = shopper()
    s, _, text = a.page("GET", "/account/notifications")
    st.eq(s, 200)
    st.check('name="newsletter.email"' in text and 'name="orders.sms"' in text, text)
    st.check('name="newsletter.sms"' not in text, "no SMS newsletters")
    st.check(not re.search(r'name="newsletter.email"[^>]*checked', text), "newsletter off")
    s, hd, _ = a.form("/account/notifications",
                      {"form": "1", "newsletter.email": "1", "orders.email": "1"},
                      page="/account/notifications")
    st.eq((s, hd["location"]), (303, "/account/notifications"))
    st.eq(prefs(a), {("newsletter", "email"): True, ("orders", "email"): True,
                     ("orders", "sms"): False, ("back_in_stock", "email"): False,
                     ("back_in_stock", "sms"): False}, "unticked boxes turn off:")
    s, _, text = a.page("GET", "/account/notifications")
    st.check("Notifications saved." in text, text)
    st.check(re.search(r'name="newsletter.email"[^>]*checked', text), "newsletter on")
    s, _, text = a.page("GET", "/account/notifications?lang=ru")
    st.check("Новости и предложения" in text and "По почте" in text, text)
    a.page("GET", "/account/notifications?lang=en")


def notify(account_id, kind, text="hi", data=None):
    d = {"text": text, "kind": kind}
    d.update(data or {})
    s, _, body = server().request("POST", "/api/v1/vetoprobe/notify",
                                  body={"account_id": account_id, "kind": kind,
                                        "message": "probe_notice", "data": d})
    return s, json.loads(body)


def test_notify_account_follows_the_preferences():
    a = shopper()
    s, v = notify(a.id, "orders", "order 1")
    st.eq((s, v["sent"]), (200, 1), "no email yet: SMS only")
    sms = ah.messages(SHOP.store, a.phone, "probe_notice")
    st.eq((len(sms), sms[-1]["body"]), (1, "probe order 1"))
    email = a.secure(name="Анна")
    s, v = notify(a.id, "orders", "order 2")
    st.eq(v["sent"], 2, "email and SMS:")
    mail = ah.messages(SHOP.store, email, "probe_notice")[-1]
    st.eq(mail["subject"], "Probe orders")
    st.check("Hello Анна: order 2" in mail["body"] and "unsubscribe" not in mail["body"], mail)
    a.api("PUT", "/api/v1/account/notifications", {"orders": {"sms": False}})
    st.eq(notify(a.id, "orders", "order 3")[1]["sent"], 1, "SMS turned off:")
    st.eq(ah.messages(SHOP.store, a.phone, "probe_notice")[-1]["body"], "probe order 2")
    # The newsletter: off by default; on, it goes by email only, with the link.
    st.eq(notify(a.id, "newsletter")[1]["sent"], 0, "newsletter off:")
    a.api("PUT", "/api/v1/account/notifications", {"newsletter": {"email": True}})
    st.eq(notify(a.id, "newsletter", "news")[1]["sent"], 1, "newsletter on:")
    mail = ah.messages(SHOP.store, email, "probe_notice")[-1]
    st.check(re.search(r"unsubscribe: http://127\.0\.0\.1:\d+/unsubscribe/\S+", mail["body"]),
             mail["body"])
    # Another plugin's own kind: every channel, on by default.
    st.eq(notify(a.id, "wallet_payout")[1]["sent"], 2)
    # In the account's language.
    a.api("PATCH", "/api/v1/account/profile", {"locale": "ru"})
    notify(a.id, "orders", "заказ")
    mail = ah.messages(SHOP.store, email, "probe_notice")[-1]
    st.eq((mail["locale"], mail["subject"]), ("ru", "Проба orders"))
    # An unknown account is an error the caller sees.
    s, v = notify(999999, "orders")
    st.eq(s, 422)
    st.check("999999" in v["error"]["message"], v)


def newsletter(*args):
    return st.run("newsletter", SHOP.store.dir, *args, env=SHOP.store.env())


def unsub_links(email):
    links = []
    for m in ah.messages(SHOP.store, email, "newsletter_sample"):
        links += re.findall(r"http://127\.0\.0\.1:\d+(/unsubscribe/\S+)", m["body"])
    return links


def test_newsletter_command_and_unsubscribe_link():
    server()
    subscribed, quiet, no_email, gone = shopper(), shopper(), shopper(), shopper()
    e1 = subscribed.secure(name="Пётр")
    e2 = quiet.secure()
    e4 = gone.secure()
    for x in (subscribed, no_email, gone):
        st.eq(x.api("PUT", "/api/v1/account/notifications", {"newsletter": {"email": True}})[0],
              200)
    # gone deletes the account.
    s, v = gone.api("POST", "/api/v1/account/delete", {"reason": "test"})
    st.eq(s, 200, f"{v}")
    s, v = gone.api("POST", "/api/v1/account/delete/confirm",
                    {"challenge": v["challenge"]["id"], "code": gone.code()})
    st.eq(s, 200, f"{v}")

    # Usage errors.
    st.eq(newsletter().returncode, 2, "no --message:")
    st.eq(newsletter("--message", "Bad Name!").returncode, 2, "a bad name:")
    p = newsletter("--message", "no_such_letter")
    st.eq(p.returncode, 1, "a missing template:")
    st.check("message.no_such_letter.email" in p.stderr, p.stderr)
    st.eq(newsletter("--help").returncode, 0)

    before = len(ah.outbox(SHOP.store, e1))
    p = newsletter("--message", "newsletter_sample", "--dry-run")
    st.eq(p.returncode, 0, p.stderr)
    m = re.search(r"would queue (\d+) message", p.stdout)
    st.check(m, p.stdout)
    n = int(m.group(1))  # the subscriber, and any of the earlier tests
    st.check(n >= 1, p.stdout)
    st.eq(len(ah.outbox(SHOP.store, e1)), before, "a dry run queues nothing")

    p = newsletter("--message", "newsletter_sample")
    st.eq(p.returncode, 0, p.stderr)
    st.check(f"queued {n} message" in p.stdout, p.stdout)
    st.eq(len(unsub_links(e1)), 1, "the subscriber got it")
    for e in (e2, e4):
        st.eq(ah.messages(SHOP.store, e, "newsletter_sample"), [], f"{e} did not")
    mail = ah.messages(SHOP.store, e1, "newsletter_sample")[-1]
    st.check(mail["subject"].startswith("News from") and "Пётр" in mail["body"], mail)

    # The link: a page that asks, signed out, and changes nothing on GET.
    link = unsub_links(e1)[0]
    srv = server()
    for _ in range(2):
        s, _, body = srv.request("GET", link)
        text = body.decode()
        st.eq(s, 200)
        st.check("Stop sending this to" in text and "News and offers" in text, text)
        st.check(f'action="{link}"' in text, text)
    st.eq(prefs(subscribed)[("newsletter", "email")], True, "GET changed nothing:")

    # Tampered links: another account, another kind, a changed signature.
    token = link.rsplit("/", 1)[1]
    acct, kind, mac = token.split(".")
    bad = [f"{quiet.id}.{kind}.{mac}", f"{acct}.orders.{mac}",
           f"{acct}.{kind}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
           f"{acct}.{kind}.{mac[:-2]}", "garbage", f"{acct}.{kind}"]
    for t in bad:
        s, _, _ = srv.request("GET", "/unsubscribe/" + urllib.parse.quote(t))
        st.eq(s, 404, f"GET {t}:")
        s, _, _ = srv.request("POST", "/api/v1/unsubscribe/" + urllib.parse.quote(t), body={})
        st.eq(s, 404, f"POST {t}:")
    st.eq(prefs(subscribed)[("newsletter", "email")], True, "tampered links changed nothing:")
    st.eq(prefs(quiet)[("newsletter", "email")], False)

    # RFC 8058 one-click: a bare form POST, no cookies, no CSRF token.
    s, _, body = srv.request("POST", link, body="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    st.eq(s, 200, body)
    st.check("you will no longer receive this" in body.decode(), body)
    st.eq(prefs(subscribed)[("newsletter", "email")], False, "unsubscribed:")
    s, _, body = srv.request("GET", link)
    st.check("You are not subscribed to this any more." in body.decode(), body)
    # The API form works too (and again, harmlessly).
    s, v = srv.get_json(link)
    st.eq(v["unsubscribe"]["enabled"], False)
    s, _, body = srv.request("POST", "/api/v1" + link, body={})
    st.eq(s, 200, body)
    # Running it again sends only to whoever did not have it: here a new subscriber.
    st.eq(quiet.api("PUT", "/api/v1/account/notifications", {"newsletter": {"email": True}})[0],
          200)
    p = newsletter("--message", "newsletter_sample")
    st.eq(p.returncode, 0, p.stderr)
    st.check(f"queued 1 message(s), {n - 1} subscriber(s) had it already" in p.stdout, p.stdout)
    st.eq(len(unsub_links(e2)), 1, "the new subscriber got it")
    st.eq(len(unsub_links(e1)), 1, "nothing more to the one who left")
    # A deleted account's link is dead.
    st.eq(srv.request("GET", f"/unsubscribe/{gone.id}.newsletter.{mac}")[0], 404)


if __name__ == "__main__":
    st.main(globals())
