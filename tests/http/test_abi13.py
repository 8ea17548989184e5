"""The ABI 1.3 slots through the test plugin tests/plugins/bgprobe: background
work in every worker (worker_hooks, job_run), callbacks after a request's
transaction (on_done), keeping a failed attempt's changes (commit_on_error), the
store facts (site) and messages rendered from theme templates (render)."""
import json
import time

import souktest as st
from souktest import check, eq

store = st.Store({"plugins": ["bgprobe"], "locale": "en", "locales": ["en", "ru"],
                  "public_url": "https://shop.example/"})
store.write("themes/default/templates/message.greet.sms.en.mustache",
            "Hello {{{who}}} from {{site.name}} at {{site.url}} ({{site.locale}})")
store.write("themes/default/locales/en.bgprobe.json", json.dumps({"bg": {"hi": "Hi"}}))
store.write("themes/default/templates/message.greet.sms.ru.mustache",
            "{{t.bg.hi}} {{{who}}} / {{who}}")
store.write("themes/default/locales/ru.bgprobe.json", json.dumps({"bg": {"hi": "Привет"}}))
server = st.Server(store, workers=2)


def log():
    status, view = server.get_json("/api/v1/bg/log")
    eq(status, 200)
    return view["log"]


def kinds(k):
    return [e for e in log() if e["kind"] == k]


def attempt(keep):
    status, _, body = server.request("POST", "/api/v1/bg/attempt", {"keep": keep})
    eq(status, 422, body)


def test_every_worker_starts_its_background_work():
    starts = kinds("start")
    eq(len(starts), 2, "one start per worker")
    eq(len({e["detail"] for e in starts}), 2, "two different processes")


def test_error_rolls_back_and_on_done_says_so():
    before = len(kinds("attempt"))
    attempt(False)
    eq(len(kinds("attempt")), before, "the attempt was rolled back")
    eq(kinds("done")[-1]["detail"], "rolled back")


def test_commit_on_error_keeps_the_attempt():
    before = len(kinds("attempt"))
    attempt(True)
    eq(len(kinds("attempt")), before + 1, "the failed attempt was kept")
    eq(kinds("done")[-1]["detail"], "committed")


def test_job_run_inside_a_request_is_refused():
    status, view = server.get_json("/api/v1/bg/nested")
    eq(status, 200)
    eq(view["rc"], -1)


def test_site_uses_public_url():
    status, view = server.get_json("/api/v1/bg/site")
    eq(status, 200)
    site = view["site"]
    eq(site["url"], "https://shop.example", "trailing slash removed")
    eq(site["dev"], True)
    eq(site["name"], "Souk", "the theme's site_name")
    eq(site["locale"], "en")
    eq(site["locales"], ["en", "ru"])


def test_render_message_with_site_and_strings():
    status, view = server.get_json("/api/v1/bg/render?name=message.greet.sms.en&locale=en")
    eq(status, 200, view)
    eq(view["text"], "Hello <Ann & Bob> from Souk at https://shop.example (en)")
    eq(view["exists"], True)
    status, view = server.get_json("/api/v1/bg/render?name=message.greet.sms.ru&locale=ru")
    eq(view["text"], "Привет <Ann & Bob> / &lt;Ann &amp; Bob&gt;")
    # An unknown locale falls back to the store's default one.
    status, view = server.get_json("/api/v1/bg/render?name=message.greet.sms.en&locale=xx")
    check(view["text"].endswith("(en)"), view)


def test_render_missing_template_names_it():
    status, view = server.get_json("/api/v1/bg/render?name=message.nope.sms.en")
    eq(status, 422)
    check("message.nope.sms.en" in view["error"]["message"], view)


def test_stop_hooks_run_when_workers_stop():
    server.stop()
    # The server is gone: read the log straight from the database.
    import sqlite3
    db = sqlite3.connect(store.path("data/souk.db"))
    rows = db.execute("SELECT kind, detail FROM bgprobe_log").fetchall()
    db.close()
    starts = {d for k, d in rows if k == "start"}
    stops = {d for k, d in rows if k == "stop"}
    eq(stops, starts, "every worker that started stopped its work")


def test_url_defaults_to_the_real_listening_port():
    s2 = st.Store({"plugins": ["bgprobe"]})
    srv = st.Server(s2, workers=1)
    try:
        status, view = srv.get_json("/api/v1/bg/site")
        eq(view["site"]["url"], "http://127.0.0.1:%d" % srv.port)
    finally:
        srv.stop()
        s2.cleanup()


try:
    st.main(globals())
finally:
    server.stop()
    store.cleanup()
