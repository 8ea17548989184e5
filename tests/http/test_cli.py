"""The souk command line: exit codes, --help everywhere, init, check, migrate,
template render, script test."""
import json
import os
import re
import signal
import stat
import subprocess
import tempfile
import time

import souktest as st
from souktest import check, eq

COMMANDS = [["init"], ["serve"], ["check"], ["migrate"], ["plugins"], ["script", "test"],
            ["template", "render"]]


def test_version():
    p = st.run("version", check=0)
    check(p.stdout.startswith("souk "), p.stdout)
    check("ABI 1" in p.stdout)
    p = st.run("version", "--help", check=0)
    check(p.stdout.startswith("usage: souk version"), p.stdout)


def test_help_and_usage_exit_codes():
    p = st.run("--help", check=0)
    for c in COMMANDS:
        check(c[0] in p.stdout, c)
    eq(st.run().returncode, 2)
    for c in COMMANDS:
        p = st.run(*c, "--help")
        eq(p.returncode, 0, f"{c} --help")
        check("usage" in p.stdout.lower(), f"{c}: {p.stdout}")
        p = st.run(*c)
        eq(p.returncode, 2, f"{c} without arguments")
        check("usage" in p.stderr.lower(), f"{c}: {p.stderr}")


def test_serve_options():
    # --help wins wherever it stands, even after an option in error.
    p = st.run("serve", "/nonexistent", "--workers", "0", "--help", check=0)
    check("--workers N" in p.stdout, p.stdout)
    p = st.run("serve", "/nonexistent", "--bogus", "--help", check=0)
    for bad in ("-1", "257", "x", ""):
        p = st.run("serve", "/nonexistent", "--workers", bad)
        eq(p.returncode, 2, f"--workers {bad!r}: {p.stderr}")
        check("--workers: expected a number from 0 (one per core) to 256" in p.stderr, p.stderr)
    # 0 is accepted (one worker per core): the failure is then the missing store.
    p = st.run("serve", "/nonexistent", "--workers", "0")
    eq(p.returncode, 1, p.stderr)
    check("store directory" in p.stderr, p.stderr)


def test_dev_mode_serves_only_on_loopback():
    # Dev mode keeps one-time codes in the outbox and reads the clock file: never
    # on a public address unless the merchant says so in souk.lua.
    store = st.Store({"plugins": [], "dev": True})
    try:
        p = st.run("serve", store.dir, "--listen", "0.0.0.0:0", "--workers", "1", timeout=30)
        eq(p.returncode, 1, p.stdout + p.stderr)
        check("dev mode is on and 0.0.0.0 is not a loopback address" in p.stdout + p.stderr,
              p.stdout + p.stderr)
        store.configure({"plugins": [], "dev": True, "force_public": True})
        srv = st.Server(store, workers=1)  # loopback, as every test server
        srv.stop()
        p = subprocess.Popen([st.SOUK, "serve", store.dir, "--listen", "0.0.0.0:0", "--workers",
                              "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, **store.env()), start_new_session=True)
        try:
            line = ""
            deadline = time.time() + 30
            while time.time() < deadline and "serving http://" not in line:
                line = p.stdout.readline()
                if not line and p.poll() is not None:
                    break
            check("serving http://0.0.0.0:" in line, f"force_public: not serving ({line!r})")
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
    finally:
        store.cleanup()


def test_unknown_command():
    p = st.run("frobnicate")
    eq(p.returncode, 2)
    check("unknown command" in p.stderr, p.stderr)


def test_plugin_command_exit_codes():
    store = st.Store({"plugins": ["demo"]})
    try:
        p = st.run("demo-count", store.dir, env=store.env(), check=0)
        eq(p.stdout.strip(), "0")
        p = st.run("demo-count", store.dir, "extra", env=store.env())
        eq(p.returncode, 2, p.stderr)
        # A command that returns SOUK_ERR failed: exit 1, not "unknown command" (2).
        p = st.run("demo-count", store.dir, "--fail", env=store.env())
        eq(p.returncode, 1, p.stderr)
        check("unknown command" not in p.stderr, p.stderr)
        p = st.run("no-such-command", store.dir, env=store.env())
        eq(p.returncode, 2)
        check("unknown command 'no-such-command'" in p.stderr, p.stderr)
    finally:
        store.cleanup()


def test_init_creates_store():
    store = st.Store()
    try:
        for d in ("souk.lua", "scripts", "data/souk.db", "keys/store.key", "themes", "plugins"):
            check(os.path.exists(store.path(d)), d)
        mode = stat.S_IMODE(os.stat(store.path("keys/store.key")).st_mode)
        eq(mode, 0o600, "key file mode")
        p = st.run("init", store.dir)
        eq(p.returncode, 1)
        check("already exists" in p.stderr)
    finally:
        store.cleanup()


def test_check_ok_and_config_errors():
    store = st.Store({"plugins": []})
    try:
        p = st.run("check", store.dir, env=store.env(), check=0)
        check("config" in p.stdout and "theme" in p.stdout, p.stdout)
        store.write("souk.lua", "return { listen = '127.0.0.1:8080', limts = {} }\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("limts" in p.stderr, p.stderr)
        store.write("souk.lua", "return { workers = 'many' }\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("workers" in p.stderr, p.stderr)
        store.write("souk.lua", "return {\n  workers = ,\n}\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("souk.lua:2" in p.stderr, p.stderr)
        store.write("souk.lua", "os.execute('touch /tmp/pwned')\nreturn {}\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("souk.lua:1" in p.stderr, p.stderr)
    finally:
        store.cleanup()


def test_check_reports_bad_template():
    store = st.Store({"plugins": []})
    try:
        store.write("themes/default/templates/home.mustache", "{{#open}}\nnever closed\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("home.mustache:" in p.stderr, p.stderr)
    finally:
        store.cleanup()


def test_env_override():
    store = st.Store({"plugins": []})
    try:
        p = st.run("check", store.dir, env={**store.env(), "SOUK_WORKERS": "x"})
        eq(p.returncode, 1)
        check("SOUK_WORKERS" in p.stderr, p.stderr)
    finally:
        store.cleanup()


def test_template_render():
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "page.mustache"), "w") as f:
        f.write("{{<layout}}{{$body}}Hi {{name}}!{{/body}}{{/layout}}")
    with open(os.path.join(d, "layout.mustache"), "w") as f:
        f.write("<main>{{$body}}default{{/body}}</main>")
    with open(os.path.join(d, "data.json"), "w") as f:
        json.dump({"name": "<Ann>"}, f)
    p = st.run("template", "render", os.path.join(d, "page.mustache"), "--data",
               os.path.join(d, "data.json"), check=0)
    eq(p.stdout.strip(), "<main>Hi &lt;Ann&gt;!</main>")
    with open(os.path.join(d, "bad.mustache"), "w") as f:
        f.write("line one\n{{#x}}\n")
    p = st.run("template", "render", os.path.join(d, "bad.mustache"), "--data",
               os.path.join(d, "data.json"))
    eq(p.returncode, 1)
    check("bad.mustache:2" in p.stderr, p.stderr)


def test_script_test_reports():
    store = st.Store({"plugins": []})
    try:
        store.write("scripts/greet.lua", "local M = {}\nfunction M.hello(who) return 'hi ' .. who.name end\nreturn M\n")
        store.write("scripts/greet_test.lua", "return {\n  ['says hi'] = function() expect_eq(M.hello({name='a'}), 'hi a') end,\n"
                    "  ['is wrong'] = function() expect_eq(M.hello({name='b'}), 'bye b') end,\n}\n")
        # (The store also holds the example scripts `souk init` copies, with their tests.)
        p = st.run("script", "test", store.dir)
        eq(p.returncode, 1, p.stdout + p.stderr)
        check(re.search(r"^\d+ passed, 1 failed$", p.stdout, re.M), p.stdout)
        check("ok   greet: says hi\n" in p.stdout, p.stdout)
        check("FAIL greet: is wrong: greet_test.lua:3: expected \"bye b\", got \"hi b\"\n" in p.stdout,
              p.stdout)
        store.write("scripts/greet_test.lua", "return {\n  ['says hi'] = function() expect_eq(M.hello({name='a'}), 'hi a') end,\n}\n")
        p = st.run("script", "test", store.dir, check=0)
        check(re.search(r"^\d+ passed, 0 failed$", p.stdout, re.M), p.stdout)
        # A script that fails its tests stops start-up (check) with its name.
        store.write("scripts/greet_test.lua", "return { ['x'] = function() expect(false, 'nope') end }\n")
        p = st.run("check", store.dir, env=store.env())
        eq(p.returncode, 1)
        check("greet" in p.stderr, p.stderr)
    finally:
        store.cleanup()


st.main(globals())
