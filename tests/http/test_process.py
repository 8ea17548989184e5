"""The master/worker process model: crash restart, reload without dropping requests,
graceful shutdown, start-up failures."""
import os
import re
import signal
import socket
import subprocess
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
        server.crash_expected = True
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


def test_workers_zero_is_one_per_core():
    store = st.Store({"plugins": [], "workers": 3})
    server = st.Server(store, workers=0)  # --workers 0 overrides souk.lua's 3
    try:
        want = min(len(os.sched_getaffinity(0)), 256)
        m = re.search(r"serving http://\S+ \((\d+) workers?\)", server.log_text())
        check(m, server.log_text())
        eq(int(m.group(1)), want, "workers")
        server.wait_ready(want)
        eq(len(server.worker_pids()), want, "worker processes")
    finally:
        server.stop()
        store.cleanup()


def test_restart_backoff_grows_and_children_are_reaped():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=1)
    try:
        pid = server.worker_pids()[0]
        for _ in range(3):
            os.kill(pid, signal.SIGKILL)
            pid = wait_replaced(server, pid, 1)[0]  # the dead one is reaped, not a zombie
        # A worker that keeps dying is restarted later each time (no fork storm).
        delays = [int(d) for d in re.findall(r"restarting in (\d+) ms", server.log_text())]
        eq(delays, [100, 200, 400], "back-off")
        for child in server.worker_pids():
            with open(f"/proc/{child}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            check(state != "Z", f"zombie {child}")
        status, _ = server.get_json("/healthz")
        eq(status, 200)
    finally:
        server.stop()
        store.cleanup()


def fd_targets(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return out


def check_worker_fds(server):
    """A worker holds fds 0-2 (stdio), 3 (the listening socket, shared with the master)
    and 4 (its end of its control pipe); everything else it opened itself: no pipe or
    socket of the master's or of another worker's leaked into it."""
    master = set(fd_targets(server.proc.pid).values())
    owned = {}
    for w in server.worker_pids():
        fds = fd_targets(w)
        check(fds.get(3, "").startswith("socket:") and fds[3] in master,
              f"worker {w}: fd 3 {fds.get(3)} is not the master's listening socket")
        mine = set()
        for fd, target in fds.items():
            if fd <= 3:
                continue
            check("souk-metrics" not in target, f"worker {w}: fd {fd} {target} (mapped, then closed)")
            if target.startswith(("socket:", "pipe:")):
                check(target not in master, f"worker {w}: fd {fd} {target} is the master's")
                mine.add(target)
        for other, theirs in owned.items():
            eq(mine & theirs, set(), f"workers {w} and {other} share")
        owned[w] = mine
        sockets = sorted(fd for fd, t in fds.items() if t.startswith("socket:"))
        eq(sockets, [3, 4], f"worker {w}: sockets (listening, control)")


def test_workers_inherit_only_their_descriptors():
    store = st.Store({"plugins": []})
    server = st.Server(store, workers=2)
    try:
        check_worker_fds(server)
        # A new generation is spawned while the old one's pipes are open.
        old = set(server.worker_pids())
        server.signal(signal.SIGHUP)
        deadline = time.time() + 15
        while time.time() < deadline and (set(server.worker_pids()) & old or
                                          len(server.worker_pids()) != 2):
            time.sleep(0.05)
        eq(set(server.worker_pids()) & old, set(), "old workers gone")
        check_worker_fds(server)
    finally:
        server.stop()
        store.cleanup()


def test_sighup_during_startup_reloads_after_it():
    store = st.Store({"plugins": ["demo"], "settings": {"demo": {"init_delay_ms": 1500}}})
    # The harness's Server waits for the start; here the signal must land during it.
    server = st.Server.__new__(st.Server)
    server.store = store
    server.logpath = os.path.join(store.tmp, "serve-startup.log")
    server.logf = open(server.logpath, "w+")
    env = dict(os.environ)
    env.update(store.env())
    server.proc = subprocess.Popen([st.SOUK, "serve", store.dir, "--listen", "127.0.0.1:0",
                                    "--workers", "1"], stdout=server.logf,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not server.worker_pids():
            time.sleep(0.01)
        check(server.worker_pids(), "no worker started:\n" + server.log_text())
        check("serving" not in server.log_text(), "started too fast for this test")
        server.signal(signal.SIGHUP)  # worker 1 is still in the plugin's slow init
        deadline = time.time() + 30
        while time.time() < deadline and "draining generation 1" not in server.log_text():
            check(server.proc.poll() is None, "the master exited:\n" + server.log_text())
            time.sleep(0.05)
        text = server.log_text()
        check("another start is in progress; reloading after it" in text, text)
        check(text.index("souk: serving") < text.index("reload: starting generation 2"), text)
        check("reload: generation 2 ready; draining generation 1" in text, text)
        server.port = int(re.search(r"serving http://127\.0\.0\.1:(\d+)", text).group(1))
        status, _ = server.get_json("/healthz")
        eq(status, 200)
        eq(server.stop(), 0)
    finally:
        if server.proc.poll() is None:
            server.kill()
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


def test_reload_applies_new_config_and_templates():
    store = st.Store({"plugins": ["demo"], "settings": {"demo": {"greeting": "v1"}}})
    store.write("themes/default/templates/home.mustache", "home v1\n")
    server = st.Server(store, workers=1)
    try:
        _, info = server.get_json("/api/v1/demo/info")
        eq(info.get("greeting"), "v1")
        _, _, body = server.request("GET", "/")
        eq(body, b"home v1\n")
        store.configure({"plugins": ["demo"], "settings": {"demo": {"greeting": "v2"}}})
        store.write("themes/default/templates/home.mustache", "home v2\n")
        old = set(server.worker_pids())
        server.signal(signal.SIGHUP)
        # Until the old worker has exited it may still take a connection.
        deadline = time.time() + 15
        while time.time() < deadline and (set(server.worker_pids()) & old or
                                          not server.worker_pids()):
            time.sleep(0.05)
        check("draining generation 1" in server.log_text(), server.log_text())
        _, info = server.get_json("/api/v1/demo/info")
        eq(info.get("greeting"), "v2", "settings after SIGHUP")
        _, _, body = server.request("GET", "/")
        eq(body, b"home v2\n", "template after SIGHUP")
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


def test_worker_that_never_gets_ready_is_killed():
    store = st.Store({"plugins": ["demo"], "settings": {"demo": {"init_delay_ms": 30000}},
                      "limits": {"startup_timeout_ms": 1000}})
    server = st.Server(store, workers=1, expect_fail=True)
    rc = server.proc.wait(20)
    eq(rc, 1)
    check(re.search(r"was not ready after 1000 ms", server.log_text()), server.log_text())
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
