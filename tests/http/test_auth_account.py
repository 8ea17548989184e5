"""Black-box tests of the account: the level (limited until the name is filled in
and an email verified), auth_v1.require_secured and level as another plugin sees
them (the test plugin vetoprobe), the profile's rules (a real birth date in the
past, a sane age, a name), the overview and profile pages in both languages with
the form re-shown on a 422, and guests kept out."""
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import authhelp as ah  # noqa: E402
import souktest as st  # noqa: E402

SECURE_PAGE = """{{<layout}}{{$content}}<h1>Secure area</h1><p>level {{level}}</p>{{/content}}{{/layout}}
"""



def prepare(store):
    store.write("themes/default/templates/vetoprobe_secure.mustache", SECURE_PAGE)


SHOP = ah.served(["notify", "auth", "vetoprobe"], prepare)
server = SHOP.server


def shopper():
    return ah.shopper(SHOP)


def test_limited_until_name_and_verified_email():
    a = shopper()
    s, v = a.api("GET", "/api/v1/account")
    st.eq(s, 200)
    st.eq((v["level"], v["account"]["secured"]), ("limited", False), "a new account:")
    st.eq(v["limited"], {"missing_name": True, "missing_email": True,
                         "finish_url": "/account/profile"})
    # Another plugin asks: limited (1), and a sensitive action is refused.
    s, v = a.api("GET", "/api/v1/vetoprobe/level")
    st.eq(v["level"], 1, "auth->level of a limited shopper:")
    s, v = a.api("GET", "/api/v1/vetoprobe/secure")
    st.eq(s, 403, "require_secured, limited:")
    e = v["error"]
    st.eq((e["code"], e["finish_url"], e["missing_name"], e["missing_email"]),
          ("account_limited", "/account/profile", True, True))
    st.check("name" in e["message"] and "email" in e["message"], e["message"])

    # The name alone is not enough.
    s, v = a.api("PATCH", "/api/v1/account/profile", {"name": "Анна"})
    st.eq((s, v["account"]["level"]), (200, "limited"))
    s, v = a.api("GET", "/api/v1/vetoprobe/secure")
    st.eq((s, v["error"]["missing_name"], v["error"]["missing_email"]), (403, False, True))

    # An email verified by a code secures the account.
    email = f"anna{a.id}@example.com"
    s, v = a.api("POST", "/api/v1/account/email", {"email": email})
    st.eq(s, 200, f"{v}")
    s, v = a.api("POST", "/api/v1/account/email/verify",
                 {"challenge": v["challenge"]["id"], "code": a.code(email)})
    st.eq((s, v["account"]["level"], v["account"]["email"]), (200, "secured", email))
    s, v = a.api("GET", "/api/v1/account")
    st.check("limited" not in v, f"a secured account has no 'limited': {v}")
    st.eq(v["level"], "secured")
    s, v = a.api("GET", "/api/v1/vetoprobe/secure")
    st.eq((s, v["ok"], v["level"]), (200, True, 2), "require_secured, secured:")

    # Clearing nothing but the birth date keeps it secured; a guest is level 0.
    s, v = a.api("PATCH", "/api/v1/account/profile", {"birth_date": None})
    st.eq((s, v["account"]["level"]), (200, "secured"))
    st.eq(server().get_json("/api/v1/vetoprobe/level")[1]["level"], 0, "a guest:")
    s, v = server().get_json("/api/v1/vetoprobe/secure")
    st.eq((s, v["error"]["code"]), (401, "unauthorized"), "require_secured, guest:")


def test_require_secured_page_explains_and_links():
    a = shopper()
    s, _, text = a.page("GET", "/vetoprobe/secure")
    st.eq(s, 403, "a limited shopper's page:")
    st.check("Secure your account first" in text, text)
    st.check('href="/account/profile"' in text, "links to finishing the profile")
    st.check('href="/account/contacts#email"' in text, "says the email is missing")
    s, _, text = a.page("GET", "/vetoprobe/secure?lang=ru")
    st.eq(s, 403)
    st.check("Сначала подтвердите аккаунт" in text and "укажите имя" in text, text)
    a.secure()
    s, _, text = a.page("GET", "/vetoprobe/secure")
    st.eq(s, 200)
    st.check("Secure area" in text and "level 2" in text, text)


def years_ago(n, days=0):
    today = datetime.date.today()
    try:
        d = today.replace(year=today.year - n)
    except ValueError:  # 29 February
        d = today.replace(year=today.year - n, day=28)
    return (d + datetime.timedelta(days=days)).isoformat()


def test_profile_rules():
    a = shopper()
    bad = [
        ({"name": ""}, "name_required", "name"),
        ({"name": "   "}, "name_required", "name"),
        ({"name": "x" * 101}, "name_too_long", "name"),
        ({"name": "a\u0007b"}, "name_invalid", "name"),
        ({"name": 5}, "name_required", "name"),
        ({"birth_date": "1990-02-30"}, "birth_date_invalid", "birth_date"),
        ({"birth_date": "2023-02-29"}, "birth_date_invalid", "birth_date"),
        ({"birth_date": "1990-13-01"}, "birth_date_invalid", "birth_date"),
        ({"birth_date": "17.05.1990"}, "birth_date_invalid", "birth_date"),
        ({"birth_date": "1990-5-17"}, "birth_date_invalid", "birth_date"),
        ({"birth_date": 19900517}, "birth_date_invalid", "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date_future", "birth_date"),
        ({"birth_date": datetime.date.today().isoformat()}, "birth_date_future", "birth_date"),
        ({"birth_date": years_ago(5)}, "birth_date_age", "birth_date"),
        ({"birth_date": years_ago(14, days=1)}, "birth_date_age", "birth_date"),
        ({"birth_date": "1850-01-01"}, "birth_date_age", "birth_date"),
        ({"locale": "de"}, "locale_unknown", "locale"),
    ]
    for body, code, field in bad:
        s, v = a.api("PATCH", "/api/v1/account/profile", body)
        st.eq(s, 422, f"{body}:")
        st.eq((v["error"]["code"], v["error"]["field"]), (code, field), f"{body}:")
    # A refused change changes nothing, not even the valid parts of it.
    s, v = a.api("PATCH", "/api/v1/account/profile", {"name": "Борис", "birth_date": "1990-02-30"})
    st.eq(s, 422)
    st.eq(a.api("GET", "/api/v1/account")[1]["account"]["name"], None, "rolled back:")

    good = {"name": "  Борис Годунов ", "birth_date": "1996-02-29", "locale": "ru"}
    s, v = a.api("PATCH", "/api/v1/account/profile", good)
    st.eq(s, 200, f"{v}")
    acct = v["account"]
    st.eq((acct["name"], acct["birth_date"], acct["locale"]),
          ("Борис Годунов", "1996-02-29", "ru"))
    s, v = a.api("PATCH", "/api/v1/account/profile", {"birth_date": years_ago(14)})
    st.eq(s, 200, f"exactly 14 today: {v}")
    s, v = a.api("PATCH", "/api/v1/account/profile", {"birth_date": ""})
    st.eq((s, v["account"]["birth_date"], v["account"]["name"]), (200, None, "Борис Годунов"))


def test_overview_shows_the_referral_link():
    a = shopper()
    s, v = a.api("GET", "/api/v1/account")
    code = v["account"]["referral_code"]
    st.check(re.fullmatch(r"[A-Z0-9]{4,16}", code), code)
    st.eq(v["referral"], {"code": code,
                          "url": f"http://127.0.0.1:{server().port}/?ref={code}"})
    s, _, text = a.page("GET", "/account")
    st.eq(s, 200)
    st.check(code in text and f"/?ref={code}" in text, "the page shows the code and the link")
    st.check("Limited" in text and 'href="/account/profile"' in text, "explains the level")
    s, _, text = a.page("GET", "/account?lang=ru")
    st.check("Личный кабинет" in text and "Пригласите друзей" in text, "in Russian")


def test_profile_page_form_and_422():
    a = shopper()
    s, _, text = a.page("GET", "/account/profile")
    st.eq(s, 200)
    st.check('name="_csrf"' in text and 'id="field-name"' in text, "a form with its token")
    st.check('<option value="ru" lang="ru"' in text and "Русский" in text,
             "languages by their own names")
    # Without the token: refused, nothing saved.
    s, _, _ = a.page("POST", "/account/profile", form={"name": "Вера"})
    st.eq(s, 403, "no CSRF token:")
    # A wrong birth date: the form again, the message by the field, values kept.
    s, _, text = a.form("/account/profile", {"name": "Вера", "birth_date": "1990-02-30",
                                             "locale": "en"}, page="/account/profile")
    st.eq(s, 422)
    st.check('id="birth-error"' in text and "Enter a real date" in text, text)
    st.check(re.search(r'id="field-birth_date"[^>]*aria-invalid="true"', text, re.S), text)
    st.check('value="Вера"' in text and 'value="1990-02-30"' in text, "the entered values stay")
    st.check(re.search(r'<h1>Profile</h1>', text), "the profile page, not the error page")
    # The same in Russian.
    s, _, text = a.form("/account/profile?lang=ru", {"name": "Вера", "birth_date": "2999-01-01"},
                        page="/account/profile?lang=ru")
    st.eq(s, 422)
    st.check("Дата рождения должна быть в прошлом" in text, text)
    # Saved: a redirect with a flash message.
    s, hd, _ = a.form("/account/profile", {"name": "Вера", "birth_date": "1991-03-08",
                                           "locale": "en"}, page="/account/profile?lang=en")
    st.eq((s, hd.get("location")), (303, "/account/profile"))
    s, _, text = a.page("GET", "/account/profile")
    st.check("Profile saved." in text and 'value="Вера"' in text and "1991-03-08" in text, text)


def test_guests_are_sent_to_sign_in():
    srv = server()
    for path in ("/account", "/account/profile", "/account/contacts", "/account/notifications",
                 "/account/delete"):
        s, hd, _ = srv.request("GET", path)
        st.eq(s, 303, f"GET {path}:")
        st.check(hd["location"].startswith("/signin?next="), hd["location"])
    for method, path in (("GET", "/api/v1/account"), ("PATCH", "/api/v1/account/profile"),
                         ("POST", "/api/v1/account/email"), ("POST", "/api/v1/account/phone"),
                         ("GET", "/api/v1/account/notifications"),
                         ("POST", "/api/v1/account/delete")):
        s, _, body = srv.request(method, path, body={} if method != "GET" else None)
        st.eq(s, 401, f"{method} {path}:")
        st.eq(json.loads(body)["error"]["code"], "unauthorized")


if __name__ == "__main__":
    st.main(globals())
