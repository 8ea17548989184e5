"""Delivery after a crash: messages queued by a server that is then killed with
SIGKILL are delivered, exactly as queued, by the next server on the same store.

Two moments of death: (1) before delivery -- the gateway is not listening yet,
so the messages wait for their retry in the outbox; (2) in the middle of a
send -- the gateway holds the request without answering, so the row is
'sending' under the dead worker's lease; when the lease expires a new worker
sends it again (at least once: the gateway sees the same Idempotency-Key
twice)."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import receivers as rc  # noqa: E402
import souktest as st  # noqa: E402

SECRET = "crash-secret"
LEASE_MS = 1500
TIMEOUT_MS = 1000


def make_store(port):
    store = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                      "settings": {"notify": {
                          "sms": "webhook", "poll_ms": 100, "lease_ms": LEASE_MS,
                          "retry_base_ms": 300, "retry_max_ms": 600,
                          "webhook": {"url": f"http://127.0.0.1:{port}/sms", "secret": SECRET,
                                      "sender": "Souk", "timeout_ms": TIMEOUT_MS}}}})
    rc.write_probe_templates(store)
    return store


def sigkill(server):
    """Kill the master and its workers at once, as a power cut would."""
    pids = server.worker_pids()
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.logf.close()
    def dead(pid):  # gone, or a zombie waiting for init to reap it
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except FileNotFoundError:
            return True

    rc.wait_until(lambda: all(dead(p) for p in pids), 5, "the workers to die")


def test_queued_messages_survive_a_kill():
    port = rc.free_port()
    store = make_store(port)
    gateway = None
    srv = st.Server(store, workers=2)
    try:
        sent = {}
        for i in range(3):
            text = f"queued before the crash {i} — код {100000 + i}"
            stc, body = rc.probe_send(srv, channel="sms", to=f"+7999222000{i}",
                                      data={"text": text})
            st.eq(stc, 200)
            sent[body["id"]] = (f"+7999222000{i}", text)
        # Nobody listens: every message fails its first attempt and waits.
        rc.wait_until(lambda: all(r["attempts"] >= 1 and r["state"] == "queued"
                                  for r in rc.outbox_rows(store)), 10, "a failed attempt each")
        sigkill(srv)
        srv = None
        rows = rc.outbox_rows(store)
        st.eq(sorted(r["id"] for r in rows), sorted(sent), "rows after the kill:")
        st.check(all(r["state"] in ("queued", "sending") for r in rows), rows)

        gateway = rc.HttpReceiver(port=port)
        srv = st.Server(store, workers=2)
        reqs = gateway.wait_for(3, timeout=15)
        got = {}
        for r in reqs:
            payload = json.loads(r["body"])
            got.setdefault(payload["id"], []).append((payload["to"], payload["text"]))
            st.eq(r["headers"]["idempotency-key"], str(payload["id"]))
        st.eq(sorted(got), sorted(sent), "delivered ids:")
        for i, (to, text) in sent.items():
            st.eq(got[i][0], (to, text), f"message #{i}:")
        rc.wait_until(lambda: all(r["state"] == "sent" for r in rc.outbox_rows(store)), 10,
                      "all sent")
        time.sleep(0.5)
        st.eq(len(gateway.received()), 3, "each delivered once:")
    finally:
        if srv:
            srv.kill()
        if gateway:
            gateway.stop()
        store.cleanup()


def test_message_in_flight_is_sent_again_after_a_kill():
    gateway = rc.HttpReceiver()
    store = make_store(gateway.port)
    srv = st.Server(store, workers=1)
    try:
        gateway.hang()
        text = "in flight when the server died"
        stc, body = rc.probe_send(srv, channel="sms", to="+79992220100", data={"text": text})
        st.eq(stc, 200)
        gateway.wait_for(1)  # the request is on the wire, unanswered
        row = rc.outbox_rows(store, "id = ?", (body["id"],))[0]
        st.eq(row["state"], "sending", "claimed under a lease:")
        sigkill(srv)
        srv = None
        gateway.hang(False)  # the next server finds a gateway that answers

        row = rc.outbox_rows(store, "id = ?", (body["id"],))[0]
        st.eq(row["state"], "sending", "the dead worker's lease is still there:")
        killed_at = time.time()
        srv = st.Server(store, workers=2)
        reqs = gateway.wait_for(2, timeout=15)
        # Not before the lease ran out (it outlives the request timeout), then
        # the same message again, with the same idempotency key.
        st.check(reqs[1]["time"] - killed_at >= 0,
                 "resent after the restart")
        st.check(reqs[1]["time"] - reqs[0]["time"] >= LEASE_MS / 1000 * 0.9,
                 f"resent {reqs[1]['time'] - reqs[0]['time']:.2f}s after the first try, "
                 f"before the lease ({LEASE_MS} ms) expired")
        st.eq(reqs[1]["body"], reqs[0]["body"], "the same body:")
        st.eq(reqs[1]["headers"]["idempotency-key"], reqs[0]["headers"]["idempotency-key"])
        st.eq(json.loads(reqs[1]["body"])["text"], text)
        row = rc.wait_until(lambda: [r for r in rc.outbox_rows(store, "id = ?", (body["id"],))
                                     if r["state"] == "sent"], 10, "sent")[0]
        st.eq(row["attempts"], 2)
        time.sleep(0.5)
        st.eq(len(gateway.received()), 2, "no third request:")
    finally:
        gateway.stop()
        if srv:
            srv.kill()
        store.cleanup()


def test_graceful_stop_gives_the_lease_back():
    gateway = rc.HttpReceiver()
    store = make_store(gateway.port)
    srv = st.Server(store, workers=1)
    try:
        gateway.hang()
        stc, body = rc.probe_send(srv, channel="sms", to="+79992220200",
                                  data={"text": "stopped politely"})
        st.eq(stc, 200)
        gateway.wait_for(1)
        st.eq(srv.stop(), 0, "souk serve exit status:")
        srv = None
        row = rc.outbox_rows(store, "id = ?", (body["id"],))[0]
        st.eq((row["state"], row["lease_until"], row["attempts"]), ("queued", None, 0),
              "given back, the cut attempt not counted:")
        gateway.hang(False)
        srv = st.Server(store, workers=1)
        rc.wait_until(lambda: [r for r in rc.outbox_rows(store, "id = ?", (body["id"],))
                               if r["state"] == "sent"], 10, "sent after the restart")
    finally:
        gateway.stop()
        if srv:
            srv.kill()
        store.cleanup()


st.main(globals())
