"""The plugin ABI end to end: the demo and demo_dep test plugins served by a real
souk — routes, both representations, migrations, events, vetoes, services, identity,
transactions and rollback, CSRF, flash and redirects, scripts, commands."""
import glob
import json
import os
import re
import shutil
import subprocess

import souktest as st
from souktest import check, eq

store = st.Store({"plugins": ["demo", "demo_dep"], "settings": {"demo": {"greeting": "Salaam"}}})
os.makedirs(store.path("themes/default/templates"), exist_ok=True)
for f in glob.glob(os.path.join(st.SOURCE, "tests/plugins/demo/templates/*.mustache")):
    shutil.copy(f, store.path("themes/default/templates/"))
store.write("scripts/calc.lua", "local M = {}\n"
            "function M.add(a, b) return { sum = a.x + b.x } end\n"
            "function M.loop() while true do end end\n"
            "function M.bad() return function() end end\n"
            "function M.boom() error('kaput') end\n"
            "return M\n")
CLOCK = os.path.join(store.tmp, "clock")
server = st.Server(store, workers=2, env={"SOUK_CLOCK_FILE": CLOCK})


def csrf_session():
    """A page visit gives the CSRF cookie and the token in the form."""
    status, hdrs, body = server.request("GET", "/demo/notes")
    eq(status, 200)
    cookie = [c for c in hdrs["set-cookie-list"] if c.startswith("souk_csrf=")][0]
    token = cookie.split(";")[0].split("=", 1)[1]
    check(f'value="{token}"'.encode() in body, "token in the form")
    return token


def test_page_and_json_from_one_handler():
    status, view = server.get_json("/demo/hello/Ann?excited=1")
    eq(status, 200)
    eq(view["greeting"], "Hello, Ann!")
    status, hdrs, body = server.request("GET", "/demo/hello/Ann")
    eq(status, 200)
    check(hdrs["content-type"].startswith("text/html"))
    check(b'<h1 id="greeting">Hello, Ann</h1>' in body, body[:500])


def test_escaping_in_pages():
    status, hdrs, body = server.request("GET", "/demo/hello/%3Cscript%3Ealert(1)")
    eq(status, 200)
    check(b"<script>alert(1)" not in body)
    check(b"&lt;script&gt;" in body)


def test_home_lists_public_pages():
    status, view = server.get_json("/")
    hrefs = [p["href"] for p in view["pages"]]
    check("/demo/notes" in hrefs, hrefs)
    status, hdrs, body = server.request("GET", "/")
    check(b'href="/demo/notes"' in body)


def test_api_create_list_event_service():
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body={"text": "first"})
    eq(status, 201, body)
    note = json.loads(body)["note"]
    eq(note["text"], "first")
    status, view = server.get_json("/api/v1/demo/notes")
    check(any(n["text"] == "first" for n in view["notes"]))
    status, stats = server.get_json("/api/v1/demo_dep/stats")
    eq(stats["logged"], stats["notes"], "the event handler ran in the same transaction")
    check(stats["notes"] >= 1)


def test_failed_handler_rolls_back():
    _, before = server.get_json("/api/v1/demo/notes")
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes/fail", body={})
    eq(status, 422)
    err = json.loads(body)["error"]
    eq(err["code"], "rejected")
    eq(err["field"], "text")
    _, after = server.get_json("/api/v1/demo/notes")
    eq(after["count"], before["count"], "the insert was rolled back")


def test_validation_error_json():
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body={"text": ""})
    eq(status, 422)
    eq(json.loads(body)["error"], {"code": "invalid", "message": "text is required", "field": "text"})


def test_veto():
    _, _, body = server.request("POST", "/api/v1/demo/notes", body={"text": "keep me"})
    keep = json.loads(body)["note"]["id"]
    _, _, body = server.request("POST", "/api/v1/demo/notes", body={"text": "drop me"})
    drop = json.loads(body)["note"]["id"]
    status, hdrs, body = server.request("DELETE", f"/api/v1/demo/notes/{keep}")
    eq(status, 409)
    eq(json.loads(body)["error"]["message"], "this note is protected")
    status, hdrs, body = server.request("DELETE", f"/api/v1/demo/notes/{drop}")
    eq(status, 200)
    _, view = server.get_json("/api/v1/demo/notes")
    ids = [n["id"] for n in view["notes"]]
    check(keep in ids and drop not in ids)


def test_auth_required():
    status, view = server.get_json("/api/v1/demo/me")
    eq(status, 401)
    eq(view["error"]["code"], "unauthorized")
    status, view = server.get_json("/api/v1/demo/me", headers={"X-Demo-User": "ann"})
    eq(status, 200)
    check(view["user"]["id"], view)


def test_method_not_allowed_and_not_found():
    status, hdrs, body = server.request("PUT", "/api/v1/demo/notes", body={})
    eq(status, 405)
    eq(hdrs["allow"], "GET, HEAD, POST")
    status, view = server.get_json("/api/v1/demo/notes/1/nothing")
    eq(status, 404)


def test_bad_inputs_400_415():
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body="{bad json",
                                        headers={"Content-Type": "application/json"})
    eq(status, 400)
    check("JSON" in json.loads(body)["error"]["message"])
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body="[1]",
                                        headers={"Content-Type": "application/json"})
    eq(status, 400)
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body="x",
                                        headers={"Content-Type": "text/plain"})
    eq(status, 415)
    status, hdrs, body = server.request("GET", "/api/v1/demo/echo", headers={"Cookie": "a=\x01"})
    eq(status, 400)


def test_csrf_on_forms():
    # No token: refused, nothing saved.
    _, before = server.get_json("/api/v1/demo/notes")
    status, hdrs, body = server.request("POST", "/demo/notes", body="text=forged",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(status, 403)
    # A wrong token: refused.
    token = csrf_session()
    status, hdrs, body = server.request("POST", "/demo/notes", body="text=forged&_csrf=" + "0" * 32,
                                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                                 "Cookie": f"souk_csrf={token}"})
    eq(status, 403)
    # A foreign origin with JSON: refused.
    status, hdrs, body = server.request("POST", "/api/v1/demo/notes", body={"text": "x"},
                                        headers={"Origin": "http://evil.example"})
    eq(status, 403)
    _, after = server.get_json("/api/v1/demo/notes")
    eq(after["count"], before["count"])


def test_form_post_redirect_flash():
    token = csrf_session()
    status, hdrs, body = server.request("POST", "/demo/notes", body=f"text=from+form&_csrf={token}",
                                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                                 "Cookie": f"souk_csrf={token}"})
    eq(status, 303)
    eq(hdrs["location"], "/demo/notes")
    flash = [c for c in hdrs["set-cookie-list"] if c.startswith("souk_flash=")]
    check(flash, hdrs["set-cookie-list"])
    flash_value = flash[0].split(";")[0].split("=", 1)[1]
    status, hdrs, body = server.request("GET", "/demo/notes",
                                        headers={"Cookie": f"souk_csrf={token}; souk_flash={flash_value}"})
    eq(status, 200)
    check(b"Note saved" in body)
    check(b"<li>from form</li>" in body)
    check(any(c.startswith("souk_flash=;") for c in hdrs["set-cookie-list"]), "flash consumed")


def test_method_override_from_form():
    _, _, body = server.request("POST", "/api/v1/demo/notes", body={"text": "to delete"})
    nid = json.loads(body)["note"]["id"]
    token = csrf_session()
    status, hdrs, body = server.request("POST", f"/api/v1/demo/notes/{nid}",
                                        body=f"_method=DELETE&_csrf={token}",
                                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                                 "Cookie": f"souk_csrf={token}"})
    eq(status, 200, body)
    eq(json.loads(body)["deleted"], nid)


def test_signin_redirect_for_pages():
    status, hdrs, body = server.request("GET", "/demo/hello/x")  # a public page
    eq(status, 200)
    # /api/v1/demo/me is JSON-only; pages needing a user redirect (none in demo is a
    # page with AUTH), so check the sign-in page itself renders with next.
    status, hdrs, body = server.request("GET", "/demo/signin?next=/x")
    eq(status, 200)
    check(b'<p id="next">/x</p>' in body)


def test_echo_request_accessors():
    status, hdrs, body = server.request("POST", "/api/v1/demo/echo?q=a+b", body="x=1&x=2&y=%C3%A9",
                                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                                 "X-Demo-Echo": "hi", "Cookie": "demo=c1",
                                                 "Authorization": "Bearer t"})
    eq(status, 200, body)
    v = json.loads(body)
    eq(v["q"], "a b")
    eq(v["header"], "hi")
    eq(v["cookie"], "c1")
    eq(v["input"], {"x": ["1", "2"], "y": "é"})
    eq(v["ip"], "127.0.0.1")
    eq(hdrs["x-demo"], "echo")
    check(any(c.startswith("demo_seen=1") and "HttpOnly" in c for c in hdrs["set-cookie-list"]))


def test_settings_and_crypto():
    _, v = server.get_json("/api/v1/demo/info")
    eq(v["greeting"], "Salaam")
    eq(v["abi"], 1)
    eq(v["shout"], "SALAAM!", "an SQL function registered with db_on_open")
    _, c = server.get_json("/api/v1/demo/crypto")
    eq(c["token_length"], 32)
    check(re.fullmatch(r"\d{6}", c["code"]))
    check(c["hash_stable"] and c["seal_roundtrip"])


def test_injectable_clock():
    import time
    _, before = server.get_json("/api/v1/demo/crypto")
    day = 24 * 3600 * 1000
    with open(CLOCK, "w") as f:
        f.write(str(14 * day))
    _, after = server.get_json("/api/v1/demo/crypto")
    delta = after["now_ms"] - before["now_ms"]
    check(14 * day <= delta < 14 * day + 60000, f"clock moved by {delta} ms")
    os.unlink(CLOCK)
    _, back = server.get_json("/api/v1/demo/crypto")
    check(abs(back["now_ms"] - time.time() * 1000) < 60000, "back to real time")


def test_script_calls_and_errors():
    status, hdrs, body = server.request("POST", "/api/v1/demo/script",
                                        body={"script": "calc", "fn": "add", "args": [{"x": 2}, {"x": 40}]})
    eq(status, 200, body)
    eq(json.loads(body)["result"], {"sum": 42})
    for fn, needle in [("loop", "budget"), ("bad", "function"), ("boom", "calc.lua:5"),
                       ("missing", "missing")]:
        status, hdrs, body = server.request("POST", "/api/v1/demo/script",
                                            body={"script": "calc", "fn": fn, "args": []})
        eq(status, 422, fn)
        msg = json.loads(body)["error"]["message"]
        check(needle in msg, f"{fn}: {msg}")


def test_script_hot_reload_keeps_working_version():
    import time
    store.write("scripts/calc.lua", "local M = {}\nfunction M.add(a, b) return { sum = a.x * b.x } end\nreturn M\n")
    deadline = time.time() + 10
    result = None
    while time.time() < deadline:
        _, _, body = server.request("POST", "/api/v1/demo/script",
                                    body={"script": "calc", "fn": "add", "args": [{"x": 2}, {"x": 40}]})
        result = json.loads(body).get("result")
        if result == {"sum": 80}:
            break
        time.sleep(0.2)
    eq(result, {"sum": 80}, "the new version is live")
    store.write("scripts/calc.lua", "local M = {}\nfunction M.add(a, b) return { sum = ")  # broken
    time.sleep(1.5)
    _, _, body = server.request("POST", "/api/v1/demo/script",
                                body={"script": "calc", "fn": "add", "args": [{"x": 2}, {"x": 40}]})
    eq(json.loads(body).get("result"), {"sum": 80}, "a broken script never replaces a working one")
    check("calc" in server.log_text(), "the refused reload is logged")
    store.write("scripts/calc.lua", "local M = {}\nfunction M.add(a, b) return { sum = a.x + b.x } end\nreturn M\n")


def test_plugins_and_check_commands():
    p = st.run("plugins", store.dir, env=store.env(), check=0)
    check(p.stdout.index("demo 1.0.0") < p.stdout.index("demo_dep 1.0.0"), p.stdout)
    check("/api/v1/demo/notes" in p.stdout and "demo-count" in p.stdout, p.stdout)
    p = st.run("check", store.dir, env=store.env(), check=0)
    check("2 loaded" in p.stdout, p.stdout)


def test_plugin_command():
    p = st.run("demo-count", store.dir, env=store.env(), check=0)
    check(re.search(r"\d+", p.stdout), p.stdout)
    p = st.run("no-such-command", store.dir, env=store.env())
    eq(p.returncode, 2)


def test_migrate_reports_and_is_idempotent():
    s2 = st.Store({"plugins": []})
    try:
        s2.configure({"plugins": ["demo", "demo_dep"]})
        p = st.run("migrate", s2.dir, env=s2.env(), check=0)
        check(re.search(r"applied\s+demo\s+1", p.stdout), p.stdout)
        check(re.search(r"applied\s+demo\s+2", p.stdout), p.stdout)
        check(p.stdout.index(" demo ") < p.stdout.index("demo_dep"), "dependency order")
        p = st.run("migrate", s2.dir, env=s2.env(), check=0)
        check("nothing to migrate" in p.stdout, p.stdout)
    finally:
        s2.cleanup()


def test_load_failures_are_one_line():
    cases = {"bad_abi": "ABI", "bad_sig": "signature", "bad_init": "init", "bad_symbol": "undefined",
             "cyc_a": "cycle", "needs_missing": "nonexistent", "no_desc": "souk_plugin"}
    for name, needle in cases.items():
        s2 = st.Store({"plugins": [name] + (["cyc_b"] if name == "cyc_a" else [])})
        try:
            p = st.run("check", s2.dir, env=s2.env())
            eq(p.returncode, 1, name)
            lines = [l for l in p.stderr.splitlines() if l.strip()]
            check(any(l.startswith(f"souk check: plugin '{name}'") or
                      (name == "cyc_a" and "plugin 'cyc_" in l) for l in lines), f"{name}: {p.stderr}")
            check(needle.lower() in p.stderr.lower(), f"{name}: {p.stderr}")
        finally:
            s2.cleanup()


def test_out_of_tree_build():
    build = os.environ.get("SOUK_BUILD_DIR")
    prefix = os.path.join(store.tmp, "prefix")
    p = subprocess.run(["bash", os.path.join(st.SOURCE, "tests/plugins/oot/build.sh"), build, prefix],
                       capture_output=True, text=True, timeout=300)
    eq(p.returncode, 0, p.stdout + p.stderr)
    oot = os.path.join(prefix, "oot-plugin")
    check(os.path.exists(os.path.join(oot, "demo.so")), p.stdout + p.stderr)
    # The plugin built from the installed header alone loads and lists its routes.
    s2 = st.Store({"plugins": ["demo"]})
    try:
        p = st.run("plugins", s2.dir, env={"SOUK_PLUGIN_PATH": oot}, check=0)
        check(f"demo 1.0.0  ({oot}/demo.so)" in p.stdout, p.stdout)
        check("/api/v1/demo/notes" in p.stdout)
    finally:
        s2.cleanup()


def test_route_parameter_not_utf8_is_400_not_a_crash():
    # A parameter the core cannot hand over as text must not reach the handler as
    # NULL (the demo's DELETE handler would crash its worker on it).
    for method, path in [("DELETE", "/api/v1/demo/notes/%FF"), ("GET", "/demo/hello/%C0%AF"),
                         ("GET", "/api/v1/demo/notes/%ED%A0%80x")]:
        status, hdrs, body = server.request(method, path, headers={"Accept": "application/json"})
        check(status in (400, 405), f"{method} {path}: {status}")
        if status == 400:
            eq(json.loads(body)["error"]["code"], "bad_path", path)
    status, hdrs, body = server.request("DELETE", "/api/v1/demo/notes/%FF")
    eq(status, 400)
    check("killed by signal" not in server.log_text(), "a worker crashed")
    status, view = server.get_json("/healthz")
    eq(status, 200)


def test_accept_negotiation():
    def kind(accept):
        status, hdrs, body = server.request("GET", "/demo/hello/Ann", headers={"Accept": accept})
        eq(status, 200)
        return hdrs["content-type"].split(";")[0]
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    eq(kind(browser), "text/html", browser)
    eq(kind("*/*"), "text/html")
    eq(kind("application/json"), "application/json")
    eq(kind("application/json; charset=utf-8"), "application/json")
    eq(kind("application/json, text/plain, */*"), "application/json")  # what axios sends
    eq(kind("application/json, text/html;q=0.1"), "application/json")
    eq(kind("text/html;q=0.5, application/json;q=0.9"), "application/json")
    eq(kind("application/json, text/html"), "text/html")  # a tie: the page
    eq(kind("application/json;q=0, text/html"), "text/html")
    eq(kind("application/json;q=0"), "text/html")
    eq(kind("application/jsonx"), "text/html")


def test_csrf_origin_rules():
    token = csrf_session()
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"souk_csrf={token}"}
    body = f"text=origin+check&_csrf={token}"
    # Origin: null (sandboxed frames, data: pages) is refused even with the token.
    eq(server.request("POST", "/demo/notes", body=body, headers=dict(form, Origin="null"))[0], 403)
    eq(server.request("POST", "/api/v1/demo/notes", body={"text": "x"}, headers={"Origin": "null"})[0], 403)
    # The same site, whatever the case of its name, is let through.
    h = dict(form, Host="Shop.Example", Origin="http://shop.example")
    eq(server.request("POST", "/demo/notes", body=body, headers=h)[0], 303)
    h = dict(form, Host="shop.example", Origin="http://shop.example.evil")
    eq(server.request("POST", "/demo/notes", body=body, headers=h)[0], 403)
    # JSON with a charset is JSON (no form can send it); text/plain is no input type.
    status, _, _ = server.request("POST", "/api/v1/demo/notes", body='{"text": "cs"}',
                                  headers={"Content-Type": "application/json; charset=utf-8"})
    eq(status, 201)
    status, _, _ = server.request("POST", "/demo/notes", body='{"text": "plain"}',
                                  headers={"Content-Type": "text/plain", "Cookie": f"souk_csrf={token}"})
    eq(status, 415)
    # A method override is still a POST from a form: it needs the token.
    status, _, _ = server.request("POST", "/api/v1/demo/notes/1", body="_method=DELETE",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(status, 403)


def test_signin_redirect_keeps_the_whole_page_address():
    status, hdrs, body = server.request("GET", "/demo/private?a=1&b=2")
    eq(status, 303)
    eq(hdrs["location"], "/demo/signin?next=/demo/private%3Fa%3D1%26b%3D2")
    status, hdrs, body = server.request("GET", hdrs["location"])
    eq(status, 200)
    check(b'<p id="next">/demo/private?a=1&amp;b=2</p>' in body, body[-600:])
    status, hdrs, body = server.request("GET", "/demo/private", headers={"X-Demo-User": "ann"})
    eq(status, 200)
    status, view = server.get_json("/demo/private")
    eq(status, 401)


def test_root_other_methods_405():
    status, hdrs, body = server.request("POST", "/", body={}, headers={"Accept": "application/json"})
    eq(status, 405)
    eq(hdrs["allow"], "GET, HEAD")
    eq(json.loads(body)["error"]["code"], "method_not_allowed")
    status, hdrs, body = server.request("DELETE", "/")
    eq(status, 405)
    check(hdrs["content-type"].startswith("text/html") and b"</html>" in body)


def test_chunked_body_reaches_the_handler():
    body = b'{"text":' + b' ' * 100 + b'"chunky"}'
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    data = server.raw(b"POST /api/v1/demo/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    resps = st.parse_responses(data)
    eq(len(resps), 1, data[:200])
    status, hdrs, out = resps[0]
    eq(status, 200, out)
    v = json.loads(out)
    eq(v["body_len"], len(body))
    eq(v["input"], {"text": "chunky"})


def test_bad_form_and_cookie_400():
    status, hdrs, body = server.request("POST", "/api/v1/demo/echo", body="a=%zz",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(status, 400)
    eq(json.loads(body)["error"]["code"], "bad_form")
    status, hdrs, body = server.request("POST", "/api/v1/demo/echo", body="a=%FF",
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(status, 400)
    status, hdrs, body = server.request("GET", "/api/v1/demo/echo", headers={"Cookie": "a=\"b"})
    eq(status, 400)
    eq(json.loads(body)["error"]["code"], "bad_cookie")


def test_https_store_cookies():
    # Behind TLS the core's cookies are __Host- prefixed (Secure, Path=/, no Domain),
    # so that a sibling subdomain cannot plant a CSRF token or a flash message.
    s2 = st.Store({"plugins": ["demo", "demo_dep"], "https": True})
    os.makedirs(s2.path("themes/default/templates"), exist_ok=True)
    for f in glob.glob(os.path.join(st.SOURCE, "tests/plugins/demo/templates/*.mustache")):
        shutil.copy(f, s2.path("themes/default/templates/"))
    srv = st.Server(s2, workers=1)
    try:
        status, hdrs, body = srv.request("GET", "/demo/notes")
        eq(status, 200)
        cookies = hdrs["set-cookie-list"]
        csrf = [c for c in cookies if c.startswith("__Host-souk_csrf=")]
        check(csrf and "; Path=/;" in csrf[0] and csrf[0].endswith("; Secure"), cookies)
        check("Domain" not in csrf[0], csrf)
        check(not any(c.startswith("souk_csrf=") for c in cookies), cookies)
        token = csrf[0].split(";")[0].split("=", 1)[1]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        body = f"text=over+tls&_csrf={token}"
        # The token in an unprefixed cookie (what a subdomain could set) is not enough.
        status, _, _ = srv.request("POST", "/demo/notes", body=body,
                                   headers=dict(form, Cookie=f"souk_csrf={token}"))
        eq(status, 403)
        status, hdrs, _ = srv.request("POST", "/demo/notes", body=body,
                                      headers=dict(form, Cookie=f"__Host-souk_csrf={token}"))
        eq(status, 303)
        flash = [c for c in hdrs["set-cookie-list"] if c.startswith("__Host-souk_flash=")]
        check(flash and flash[0].endswith("; Secure") and "; Path=/;" in flash[0],
              hdrs["set-cookie-list"])
        value = flash[0].split(";")[0].split("=", 1)[1]
        _, _, page = srv.request("GET", "/demo/notes", headers={"Cookie": f"souk_flash={value}"})
        check(b"Note saved" not in page, "an unprefixed flash cookie is ignored")
        _, _, page = srv.request("GET", "/demo/notes", headers={"Cookie": f"__Host-souk_flash={value}"})
        check(b"Note saved" in page, "the flash message shows")
        status, hdrs, _ = srv.request("GET", "/api/v1/demo/echo")
        check(any(c.startswith("demo_seen=1") and c.endswith("; Secure") for c in hdrs["set-cookie-list"]),
              hdrs["set-cookie-list"])
    finally:
        srv.stop()
        s2.cleanup()


try:
    st.main(globals())
finally:
    server.stop()
    store.cleanup()
