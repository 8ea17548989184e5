"""souktest -- the harness of souk's black-box tests.

Each test file builds temporary stores with `souk init`, serves them with the real
`souk serve` on an ephemeral loopback port and talks to them over real sockets.
Environment (set by ctest): SOUK_BIN, SOUK_SOURCE_DIR, SOUK_BUILD_DIR,
SOUK_TEST_PLUGIN_DIR.

A test file defines functions named test_* and ends with `souktest.main(globals())`,
which runs them in order and prints "N passed, N failed".
"""
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

SOUK = os.environ.get("SOUK_BIN", "souk")
SOURCE = os.environ.get("SOUK_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PLUGIN_DIR = os.environ.get("SOUK_TEST_PLUGIN_DIR", "")
START_TIMEOUT = 30.0


def run(*args, env=None, check=None, input=None, timeout=120):
    """Run the souk binary; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([SOUK, *args], capture_output=True, text=True, env=e, input=input, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError(f"souk {' '.join(args)} exited {p.returncode}, expected {check}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        # A JSON string literal is a valid Lua one, as long as nothing printable is
        # written as \uXXXX (Lua wants \u{XXXX}): keep UTF-8 as it is.
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua_value(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"[{lua_value(k)}] = {lua_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


class Store:
    """A temporary store made by `souk init`, with a souk.lua written from a dict."""

    def __init__(self, config=None, demo=False):
        self.tmp = tempfile.mkdtemp(prefix="souk-test-")
        self.dir = os.path.join(self.tmp, "store")
        args = ["init", self.dir] + (["--demo"] if demo else [])
        run(*args, env=self.env(), check=0)
        if config is not None:
            self.configure(config)

    def env(self):
        return {"SOUK_PLUGIN_PATH": PLUGIN_DIR}

    def configure(self, config):
        base = {"dev": True, "locale": "en"}
        base.update(config)
        self.write("souk.lua", "return " + lua_value(base) + "\n")

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def write(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# What AddressSanitizer, LeakSanitizer and UBSan print when they find something.
SANITIZER_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer: detected)|"
                              r"runtime error: ")


class Server:
    """`souk serve` on 127.0.0.1 with an ephemeral port.  Logs go to a file that the
    test can read (self.log_text())."""

    def __init__(self, store, workers=2, env=None, expect_fail=False):
        self.store = store
        # A test that crashes a worker on purpose sets this: the sanitizer's
        # report of that crash is then expected in the log.
        self.crash_expected = False
        self.logpath = os.path.join(store.tmp, f"serve-{time.time_ns()}.log")
        self.logf = open(self.logpath, "w+")
        e = dict(os.environ)
        e.update(store.env())
        e.update(env or {})
        self.proc = subprocess.Popen([SOUK, "serve", store.dir, "--listen", "127.0.0.1:0",
                                      "--workers", str(workers)],
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=e,
                                     start_new_session=True)
        self.port = None
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            m = re.search(r"serving http://127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None and not expect_fail:
            self.kill()
            raise AssertionError("souk serve did not start:\n" + self.log_text())
        if self.port:
            self.wait_ready(workers)

    def wait_ready(self, workers, generation=None, timeout=START_TIMEOUT):
        """Wait until `workers` workers logged that they are ready."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(re.findall(r"worker \d+ ready", self.log_text())) >= workers:
                return
            time.sleep(0.05)
        raise AssertionError("workers not ready:\n" + self.log_text())

    def log_text(self):
        with open(self.logpath) as f:
            return f.read()

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(x) for x in out.stdout.split()]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("souk serve did not stop on SIGTERM:\n" + self.log_text())
        if not self.logf.closed:
            # In the sanitizer build a worker's report (a leak found at exit, a
            # use-after-free the client never saw) lands only in this log.
            text = self.log_text()
            self.logf.close()
            m = SANITIZER_REPORT.search(text)
            if m and not self.crash_expected:
                start = max(0, m.start() - 200)
                raise AssertionError("sanitizer report in the server log:\n" +
                                     text[start:start + 4000])
        return self.proc.returncode

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    # --- clients -----------------------------------------------------------

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on a fresh connection: (status, headers dict lower-cased, body bytes)."""
        c = self.conn(timeout)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        # http.client joins repeated headers poorly; keep Set-Cookie as a list.
        hdrs["set-cookie-list"] = r.headers.get_all("Set-Cookie") or []
        c.close()
        return r.status, hdrs, data

    def get_json(self, path, headers=None):
        h = {"Accept": "application/json"}
        h.update(headers or {})
        st, hd, body = self.request("GET", path, headers=h)
        return st, json.loads(body) if body else None

    def raw(self, data, timeout=5.0, read_until_close=True):
        """Send raw bytes; return everything read until the server closes or timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if data:
            s.sendall(data)
        out = b""
        s.settimeout(timeout)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if not read_until_close:
                    break
        except socket.timeout:
            pass
        s.close()
        return out


def parse_responses(data):
    """Split a byte stream into [(status, headers, body)] using Content-Length."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, rest[:n]))
        data = rest[n:]
    return out


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, msg=""):
    if actual != expected:
        raise AssertionError(f"{msg} expected {expected!r}, got {actual!r}")


def main(g):
    tests = [(n, f) for n, f in g.items() if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   {name} ({time.time() - t0:.2f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)
