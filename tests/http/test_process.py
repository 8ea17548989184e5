"""The master/worker process model: crash restart, reload without dropping requests,
graceful shutdown, start-up failures."""
import os
import re
import signal
import socket
import threading
import time

import souktest as st
from souktest import check, eq


def hammer(server, stop, results):
    """Keep sending requests on fresh connections until stop is set."""
    while not stop.is_set():
        try:
            status, _, _ = server.request("GET", "/healthz", timeout=10)
            results.append(status)
        except Exception as e:  # a refused or reset connection is a failure
            results.append(repr(e))


def wait_replaced(server, pid, count):
    deadline = time.time() + 10
    while time.time() < deadline:
        now = server.worker_pids()
        if len(now) == count and pid not in now:
            return now
        time.sleep(0.05)
    raise AssertionError(f"worker {pid} was not replaced:\n" + server.log_text())


def test_worker_crash_is_restarted():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=2)
    try:
        pids = server.worker_pids()
        eq(len(pids), 2, "worker count")
        # A killed worker (the OOM killer, an operator) ...
        os.kill(pids[0], signal.SIGKILL)
        now = wait_replaced(server, pids[0], 2)
        check(pids[1] in now, "the other worker kept running")
        check(re.search(r"killed by signal SIGKILL; restarting in \d+ ms", server.log_text()),
              server.log_text())
        # ... and a crashing one (a plugin bug).  Under AddressSanitizer the crash is
        # reported by the sanitizer, which then exits with a status instead.
        os.kill(now[0], signal.SIGSEGV)
        wait_replaced(server, now[0], 2)
        check(re.search(r"(killed by signal SIGSEGV|exited with status \d+); restarting",
                        server.log_text()), server.log_text())
        status, _ = server.get_json("/healthz")
        eq(status, 200)
        _, _, body = server.request("GET", "/metrics")
        m = re.search(rb"souk_worker_restarts_total (\d+)", body)
        check(m and int(m.group(1)) >= 2, body[-400:])
    finally:
        server.stop()
        store.cleanup()


def test_reload_drops_no_request():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=2)
    try:
        old = set(server.worker_pids())
        stop = threading.Event()
        results = []
        threads = [threading.Thread(target=hammer, args=(server, stop, results)) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        server.signal(signal.SIGHUP)
        deadline = time.time() + 15
        while time.time() < deadline and "draining generation 1" not in server.log_text():
            time.sleep(0.05)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()
        check("draining generation 1" in server.log_text(), server.log_text())
        bad = [r for r in results if r != 200]
        check(len(results) > 50, f"only {len(results)} requests")
        eq(bad, [], "failed requests during reload")
        deadline = time.time() + 10
        while time.time() < deadline and set(server.worker_pids()) & old:
            time.sleep(0.05)
        new = set(server.worker_pids())
        eq(len(new), 2)
        eq(new & old, set(), "old workers gone")
    finally:
        server.stop()
        store.cleanup()


def test_reload_keeps_request_in_flight():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=1)
    try:
        # A request whose body is still arriving is in flight on an old worker.
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\n\r\n{")
        time.sleep(0.2)
        server.signal(signal.SIGHUP)
        deadline = time.time() + 15
        while time.time() < deadline and "draining generation 1" not in server.log_text():
            time.sleep(0.05)
        s.sendall(b"}")
        data = s.recv(4096)
        s.close()
        check(data.startswith(b"HTTP/1.1 404"), data[:80])  # answered, not cut off
    finally:
        server.stop()
        store.cleanup()


def test_failed_reload_keeps_serving():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=1)
    try:
        store.write("souk.lua", "return { plugins = { 'no_such_plugin' } }\n")
        server.signal(signal.SIGHUP)
        deadline = time.time() + 15
        while time.time() < deadline and "reload failed" not in server.log_text():
            time.sleep(0.05)
        check("reload failed" in server.log_text(), server.log_text())
        check("no_such_plugin" in server.log_text())
        status, _ = server.get_json("/healthz")
        eq(status, 200)
    finally:
        server.stop()
        store.cleanup()


def test_graceful_shutdown():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=2)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 2\r\n\r\n{")
    time.sleep(0.2)
    server.signal(signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(b"}")
    data = s.recv(4096)
    s.close()
    check(data.startswith(b"HTTP/1.1 404"), data[:80])
    eq(server.proc.wait(20), 0)
    check("shutdown complete" in server.log_text())
    store.cleanup()


def test_startup_failure_is_one_line():
    store = st.Store({"plugins": ["no_such_plugin"]})
    server = st.Server(store, workers=1, expect_fail=True)
    rc = server.proc.wait(20)
    eq(rc, 1)
    text = server.log_text()
    check("plugin 'no_such_plugin'" in text and "not found" in text, text)
    store.cleanup()


def test_dev_mode_refuses_public_address():
    store = st.Store({"plugins": [], "dev": True})
    p = st.run("serve", store.dir, "--listen", "0.0.0.0:0", env=store.env(), timeout=20)
    eq(p.returncode, 1)
    check("dev" in (p.stderr + p.stdout), p.stderr)
    store.cleanup()


st.main(globals())
