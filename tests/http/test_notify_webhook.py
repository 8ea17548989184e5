"""Black-box tests of SMS delivery through the HTTP webhook: a real HTTP receiver
on loopback (tests/http/receivers.py) gets JSON POSTs signed with HMAC-SHA256
(verified here with Python's hmac); a 500 is retried with back-off; a gateway
that keeps failing ends with the message failed; a rolled-back request sends
nothing; two workers never send one message twice; and a gateway that hangs
never holds up a request."""
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import receivers as rc  # noqa: E402
import souktest as st  # noqa: E402

SECRET = "wh-secret-" + os.urandom(8).hex()
ENV = {"SOUK_TEST_WEBHOOK_SECRET": SECRET}
RETRY_BASE_MS = 200
MAX_ATTEMPTS = 4
TIMEOUT_MS = 4000

STORE = None
SERVER = None
GATEWAY = None


def server():
    global STORE, SERVER, GATEWAY
    if SERVER is None:
        GATEWAY = rc.HttpReceiver()
        STORE, SERVER = rc.probe_server(
            {"sms": "webhook", "poll_ms": 200, "lease_ms": 6000,
             "retry_base_ms": RETRY_BASE_MS, "retry_max_ms": 800,
             "max_attempts": MAX_ATTEMPTS,
             "webhook": {"url": GATEWAY.url, "secret": "env:SOUK_TEST_WEBHOOK_SECRET",
                         "sender": "SoukShop", "timeout_ms": TIMEOUT_MS}},
            ENV, lambda: GATEWAY.stop())
    return SERVER


def requests_for(phone):
    return [r for r in GATEWAY.received() if json.loads(r["body"])["to"] == phone]


def wait_requests(phone, n, timeout=15):
    return rc.wait_until(lambda: len(requests_for(phone)) >= n and requests_for(phone),
                         timeout, f"{n} request(s) for {phone}")


def wait_state(row_id, state, timeout=15):
    return rc.wait_until(
        lambda: [r for r in rc.outbox_rows(STORE, "id = ?", (row_id,)) if r["state"] == state],
        timeout, f"message #{row_id} {state}")[0]


def test_webhook_delivery_is_signed():
    s = server()
    t0 = time.time()
    stc, body = rc.probe_send(s, channel="sms", to="+79991110001",
                              data={"text": "Код 123456 — \"вход\""})
    st.eq(stc, 200)
    req = wait_requests("+79991110001", 1)[0]
    h = req["headers"]
    st.eq(req["path"], "/sms")
    st.eq(h["content-type"], "application/json")
    payload = json.loads(req["body"])
    st.eq(payload, {"id": body["id"], "to": "+79991110001", "text": "Код 123456 — \"вход\"",
                    "sender": "SoukShop"})
    st.eq(h["idempotency-key"], str(body["id"]))
    ts = int(h["x-souk-timestamp"])
    st.check(abs(ts - t0) < 300, f"timestamp {ts} vs now {t0}")
    expect = hmac.new(SECRET.encode(), str(ts).encode() + b"." + req["body"],
                      hashlib.sha256).hexdigest()
    st.check(hmac.compare_digest(h["x-souk-signature"], "sha256=" + expect),
             f"signature {h['x-souk-signature']} != sha256={expect}")
    # The signature covers the body: another body does not verify.
    other = hmac.new(SECRET.encode(), str(ts).encode() + b"." + req["body"] + b" ",
                     hashlib.sha256).hexdigest()
    st.check(h["x-souk-signature"] != "sha256=" + other)
    row = wait_state(body["id"], "sent")
    st.eq((row["transport"], row["attempts"], row["last_error"]), ("webhook", 1, None))


def test_500_is_retried_with_back_off():
    s = server()
    GATEWAY.answer(500)
    stc, body = rc.probe_send(s, channel="sms", to="+79991110002", data={"text": "retry me"})
    st.eq(stc, 200)
    reqs = wait_requests("+79991110002", 2)
    st.eq(reqs[0]["body"], reqs[1]["body"], "the same message both times:")
    st.eq(reqs[0]["headers"]["idempotency-key"], reqs[1]["headers"]["idempotency-key"])
    gap = reqs[1]["time"] - reqs[0]["time"]
    st.check(gap >= RETRY_BASE_MS / 1000 * 0.9, f"retried after {gap:.3f}s, before the back-off")
    row = wait_state(body["id"], "sent")
    st.eq(row["attempts"], 2)
    time.sleep(0.5)
    st.eq(len(requests_for("+79991110002")), 2, "no third request:")


def test_gateway_that_keeps_failing_fails_the_message():
    s = server()
    GATEWAY.answer(*([503] * MAX_ATTEMPTS))
    stc, body = rc.probe_send(s, channel="sms", to="+79991110003", data={"text": "doomed"})
    st.eq(stc, 200)
    row = wait_state(body["id"], "failed", timeout=20)
    st.eq(row["attempts"], MAX_ATTEMPTS)
    st.check("HTTP 503" in row["last_error"], row["last_error"])
    st.eq(len(requests_for("+79991110003")), MAX_ATTEMPTS, "requests:")
    times = [r["time"] for r in requests_for("+79991110003")]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # The back-off doubles: 200, 400, then 800 ms (retry_max_ms).  Only lower
    # bounds: a busy machine may add to a wait, never shorten one.
    base = RETRY_BASE_MS / 1000
    st.check(gaps[0] >= base * 0.9 and gaps[1] >= 2 * base * 0.9 and gaps[2] >= 4 * base * 0.9,
             f"gaps {gaps}")
    st.check(f"message #{body['id']} (sms) failed after {MAX_ATTEMPTS} attempts" in
             s.log_text(), "the failure is logged")


def test_rolled_back_request_sends_nothing():
    s = server()
    stc, _ = rc.probe_send(s, channel="sms", to="+79991110004", fail_after=True,
                           data={"text": "rolled back"})
    st.eq(stc, 422)
    stc, marker = rc.probe_send(s, channel="sms", to="+79991110004", data={"text": "marker"})
    st.eq(stc, 200)
    reqs = wait_requests("+79991110004", 1)
    time.sleep(0.6)  # three polls: a leaked message would have gone by now
    texts = [json.loads(r["body"])["text"] for r in requests_for("+79991110004")]
    st.eq(texts, ["marker"])
    st.eq([r["body"] for r in rc.outbox_rows(STORE, "recipient = ?", ("+79991110004",))],
          ["marker"])


def test_two_workers_never_send_twice():
    s = server()
    n = 40
    ids = []
    lock = threading.Lock()

    def one(i):
        stc, body = rc.probe_send(s, channel="sms", to="+79991120%03d" % i,
                                  data={"text": f"burst {i}"})
        with lock:
            ids.append((stc, body.get("id")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st.check(all(stc == 200 for stc, _ in ids), ids)
    burst = lambda: [r for r in GATEWAY.received()  # noqa: E731
                     if json.loads(r["body"])["text"].startswith("burst ")]
    rc.wait_until(lambda: len(burst()) >= n, 20, f"{n} burst requests")
    time.sleep(1.0)  # several polls of both workers
    keys = [r["headers"]["idempotency-key"] for r in burst()]
    st.eq(len(keys), n, "requests:")
    st.eq(sorted(keys), sorted(str(i) for _, i in ids), "one request per message:")
    rows = rc.outbox_rows(STORE, "body LIKE 'burst %'")
    st.check(all(r["state"] == "sent" and r["attempts"] == 1 for r in rows),
             [(r["id"], r["state"], r["attempts"]) for r in rows if r["attempts"] != 1])
    # The log names the worker (pid) that sent each message: exactly once each.
    senders = {}
    for line in s.log_text().splitlines():
        m = re.search(r"pid=(\d+) .*message #(\d+) \(sms\) sent by webhook", line)
        if m and int(m.group(2)) in [i for _, i in ids]:
            senders.setdefault(int(m.group(2)), []).append(m.group(1))
    st.eq(sorted(senders), sorted(i for _, i in ids), "logged sends:")
    st.check(all(len(p) == 1 for p in senders.values()), senders)
    print(f"     sent by workers: { {p: sum(1 for v in senders.values() if v[0] == p) for p in set(v[0] for v in senders.values())} }")


def test_hanging_gateway_never_blocks_a_request():
    # One worker: the same process that holds the hanging transfer must serve.
    global SERVER
    server()
    SERVER.stop()
    SERVER = st.Server(STORE, workers=1, env=ENV)
    GATEWAY.hang()
    try:
        stc, body = rc.probe_send(SERVER, channel="sms", to="+79991110005",
                                  data={"text": "hangs"})
        st.eq(stc, 200)
        wait_requests("+79991110005", 1)  # in flight now, and not answered
        slowest = 0.0
        for i in range(10):
            t0 = time.time()
            stc, _, _ = SERVER.request("GET", "/api/v1/notifyprobe/ping")
            slowest = max(slowest, time.time() - t0)
            st.eq(stc, 200)
            t0 = time.time()
            stc, _ = rc.probe_send(SERVER, channel="sms", to="+79991110006",
                                   data={"text": f"while hanging {i}"})
            slowest = max(slowest, time.time() - t0)
            st.eq(stc, 200)
        # A loop blocked by the transfer would hold a request for TIMEOUT_MS.
        st.check(slowest < 1.5, f"a request took {slowest:.3f}s while the gateway hung")
        row = rc.outbox_rows(STORE, "id = ?", (body["id"],))[0]
        st.eq(row["state"], "sending", "still in flight:")
    finally:
        GATEWAY.hang(False)
    # Released without an answer: the transfer fails, and the retry delivers.
    row = wait_state(body["id"], "sent", timeout=TIMEOUT_MS / 1000 + 10)
    st.check(row["attempts"] >= 2, row)
    rc.wait_until(lambda: all(r["state"] == "sent" for r in
                              rc.outbox_rows(STORE, "recipient = ?", ("+79991110006",))),
                  15, "the messages queued while hanging")


st.main(globals())
