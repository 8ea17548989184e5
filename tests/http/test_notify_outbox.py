"""Black-box tests of the notify plugin's outbox with the dev channel: messages
queued through the notify.v1 service (by the test plugin notifyprobe, exactly as
another plugin would), read back with `souk outbox`; a rolled-back request
queues nothing; refusals name the problem; settings.notify errors name the key;
outside dev mode a "dev" channel keeps its messages queued."""
import atexit
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import receivers as rc  # noqa: E402
import souktest as st  # noqa: E402

STORE = None
SERVER = None


def server():
    global STORE, SERVER
    if SERVER is None:
        STORE = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                          "locales": ["en", "ru"],
                          "settings": {"notify": {"poll_ms": 100}}})
        try:
            rc.write_probe_templates(STORE)
            SERVER = st.Server(STORE, workers=2)
        except BaseException:
            STORE.cleanup()
            raise
        atexit.register(stop_server)
    return SERVER


def stop_server():
    if SERVER is not None:
        SERVER.stop()
    if STORE is not None:
        STORE.cleanup()


def send(**fields):
    return rc.probe_send(server(), **fields)


def test_dev_channel_and_outbox_command():
    s = server()
    stc, a = send(channel="email", to="anna@example.com",
                  data={"subject": "Your code", "text": "The code is 123456."})
    st.eq(stc, 200, "email queued:")
    stc, b = send(channel="sms", to="+79991234567", locale="ru", data={"text": "Код 654321"})
    st.eq(stc, 200, "sms queued:")
    st.check(b["id"] > a["id"], "ids grow")

    # Dev mode: delivered means written down, at once.
    rows = {m["id"]: m for m in rc.outbox(STORE)}
    ea, sb = rows[a["id"]], rows[b["id"]]
    st.eq((ea["state"], ea["transport"], ea["channel"], ea["to"]),
          ("sent", "dev", "email", "anna@example.com"))
    st.eq((ea["subject"], ea["body"], ea["locale"], ea["message"]),
          ("Your code", "The code is 123456.", "en", "probe"))
    st.eq((sb["state"], sb["subject"], sb["body"], sb["locale"]),
          ("sent", None, "[ru] Код 654321", "ru"))

    # Text form: newest last, with the subject and the body.
    p = st.run("outbox", STORE.dir, env=STORE.env(), check=0)
    st.check(p.stdout.index(f"#{a['id']} ") < p.stdout.index(f"#{b['id']} "), "newest last")
    st.check("Subject: Your code\n\nThe code is 123456." in p.stdout, p.stdout)
    st.check(re.search(rf"#{b['id']}  \S+  sms  \+79991234567  sent \(dev\)", p.stdout),
             p.stdout)

    # --to and --last: what a test or a developer uses to read a code.
    p = st.run("outbox", STORE.dir, "--to", "+79991234567", "--last", env=STORE.env(), check=0)
    st.check("[ru] Код 654321" in p.stdout and "anna@" not in p.stdout, p.stdout)
    send(channel="sms", to="+79991234567", data={"text": "newer 111"})
    p = st.run("outbox", STORE.dir, "--to=+79991234567", "--last", env=STORE.env(), check=0)
    st.check("newer 111" in p.stdout and "654321" not in p.stdout, p.stdout)
    only = rc.outbox(STORE, "--to", "anna@example.com")
    st.check(only and all(m["to"] == "anna@example.com" for m in only), only)


def test_outbox_usage():
    server()
    p = st.run("outbox", STORE.dir, "--help", env=STORE.env(), check=0)
    st.check("usage: souk outbox DIR" in p.stdout and "--last" in p.stdout, p.stdout)
    p = st.run("outbox", STORE.dir, "--bogus", env=STORE.env(), check=2)
    st.check("unknown argument '--bogus'" in p.stderr and "usage:" in p.stderr, p.stderr)
    p = st.run("outbox", STORE.dir, "--to", env=STORE.env(), check=2)
    st.check("--to needs an address" in p.stderr, p.stderr)
    p = st.run("outbox", STORE.dir, "--to", "nobody@example.com", "--last", env=STORE.env(),
               check=1)
    st.check("no messages to nobody@example.com" in p.stderr, p.stderr)
    p = st.run("outbox", STORE.dir, "--to", "nobody@example.com", env=STORE.env(), check=0)
    st.eq(p.stdout, "", "an empty listing")


def test_rolled_back_request_queues_nothing():
    server()
    before = len(rc.outbox_rows(STORE))
    stc, body = send(channel="email", to="rollback@example.com", fail_after=True,
                     data={"subject": "never", "text": "never sent"})
    st.eq(stc, 422, "the request failed after queuing:")
    st.eq(body["error"]["code"], "failed_after")
    st.eq(len(rc.outbox_rows(STORE)), before, "rows after the rollback:")
    st.eq(rc.outbox(STORE, "--to", "rollback@example.com"), [])


def test_refusals_name_the_problem():
    server()
    cases = [
        ({"channel": "fax", "to": "anna@example.com"}, "unknown channel"),
        ({"channel": "email", "to": "not-an-address"}, "'@'"),
        ({"channel": "email", "to": "a@example.com\r\nBcc: x@example.com"}, "address"),
        ({"channel": "sms", "to": "8 999 123-45-67"}, "E.164"),
        ({"channel": "sms", "to": "+79991234567", "message": "nope"},
         "message.nope.sms.en"),
        ({"channel": "sms", "to": "+79991234567", "message": "nope", "locale": "ru"},
         "message.nope.sms.ru"),
        ({"channel": "email", "to": "a@example.com", "message": "probe_nosubject",
          "data": {"text": "x"}}, "message.probe_nosubject.email.en: the first line"),
        ({"channel": "email", "to": "a@example.com", "message": "../etc"}, "message name"),
        ({"channel": "email", "to": "a@example.com", "unsubscribe_url": "javascript:x",
          "data": {"subject": "s", "text": "t"}}, "http"),
    ]
    before = len(rc.outbox_rows(STORE))
    for fields, needle in cases:
        stc, body = send(**fields)
        st.eq(stc, 422, f"{fields}:")
        st.check(needle in body["error"]["message"], f"{fields}: {body}")
    st.eq(len(rc.outbox_rows(STORE)), before, "nothing queued by refusals:")


def test_locale_falls_back_to_the_default():
    server()
    stc, body = send(channel="sms", to="+79990000001", message="probe_enonly", locale="ru",
                     data={"text": "hi"})
    st.eq(stc, 200)
    row = rc.outbox_rows(STORE, "id = ?", (body["id"],))[0]
    st.eq((row["locale"], row["body"]), ("en", "only en: hi"))


def test_dedupe_key_queues_once():
    server()
    first = send(channel="sms", to="+79990000002", dedupe_key="alert:42:7", data={"text": "a"})
    again = send(channel="sms", to="+79990000002", dedupe_key="alert:42:7", data={"text": "b"})
    st.eq((first[0], again[0]), (200, 200))
    st.eq(again[1]["id"], first[1]["id"], "the same row:")
    rows = rc.outbox_rows(STORE, "recipient = ?", ("+79990000002",))
    st.eq([r["body"] for r in rows], ["a"])


def test_queue_from_a_job():
    server()
    stc, body = send(channel="sms", to="+79990000003", via="job", data={"text": "from a job"})
    st.eq((stc, body["via"]), (200, "job"))
    rows = rc.wait_until(lambda: rc.outbox_rows(STORE, "recipient = ?", ("+79990000003",)),
                         10, "the job's message")
    st.eq((rows[0]["body"], rows[0]["state"]), ("from a job", "sent"))


def check_config(settings, needle, env=None):
    store = st.Store({"plugins": ["notify"], "settings": {"notify": settings}})
    try:
        e = store.env()
        e.update(env or {})
        p = st.run("check", store.dir, env=e)
        st.check(p.returncode != 0, f"{settings}: souk check passed")
        st.check(needle in p.stderr + p.stdout, f"{settings}: {p.stderr}{p.stdout}")
    finally:
        store.cleanup()


def test_settings_errors_name_the_key():
    check_config({"bogus": 1}, "settings.notify.bogus: unknown setting")
    check_config({"poll_ms": "fast"}, "settings.notify.poll_ms: expected a whole number")
    # (the log escapes quotes: match around them)
    check_config({"email": "pigeon"}, "settings.notify.email: expected \\\"dev\\\" or")
    check_config({"sms": "smtp"}, "settings.notify.sms: expected \\\"dev\\\" or")
    check_config({"email": "smtp", "smtp": {"from": "shop@example.com"}},
                 "settings.notify.smtp.url: required")
    check_config({"smtp": {"url": "http://mail.example.com"}}, "settings.notify.smtp.url")
    check_config({"smtp": {"starttls": "maybe"}}, "settings.notify.smtp.starttls")
    check_config({"smtp": {"timeout": 5}}, "settings.notify.smtp.timeout: unknown setting")
    check_config({"webhook": {"url": "ftp://x"}}, "settings.notify.webhook.url")
    check_config({"sms": "webhook", "webhook": {"url": "http://127.0.0.1:9/"}},
                 "settings.notify.webhook.secret: required")
    check_config({"webhook": {"secret": "env:SOUK_TEST_NOT_SET_ANYWHERE"}},
                 "settings.notify.webhook.secret: the environment variable "
                 "SOUK_TEST_NOT_SET_ANYWHERE is not set")
    check_config({"sms": "webhook", "lease_ms": 5000,
                  "webhook": {"url": "http://127.0.0.1:9/", "secret": "x",
                              "timeout_ms": 5000}},
                 "settings.notify.lease_ms: must be greater than webhook.timeout_ms")
    check_config({"email": "smtp", "lease_ms": 6000,
                  "smtp": {"url": "smtp://127.0.0.1:9", "from": "shop@example.com",
                           "timeout_ms": 5000}},
                 "settings.notify.lease_ms: must be greater than smtp.timeout_ms + 1000")
    check_config({"smtp_parallel": 0}, "settings.notify.smtp_parallel: expected a whole number")
    check_config({"smtp_parallel": 65}, "settings.notify.smtp_parallel: expected a whole number")
    check_config({"smtp": {"ca_file": "/nonexistent/ca.pem"}}, "settings.notify.smtp.ca_file")
    check_config({"webhook": 3}, "settings.notify.webhook: expected a table")


def test_secret_from_the_environment_is_accepted():
    store = st.Store({"plugins": ["notify"], "settings": {"notify": {
        "sms": "webhook", "webhook": {"url": "http://127.0.0.1:9/",
                                      "secret": "env:SOUK_TEST_WEBHOOK_SECRET"}}}})
    try:
        e = store.env()
        e["SOUK_TEST_WEBHOOK_SECRET"] = "from-the-environment"
        p = st.run("check", store.dir, env=e)
        st.eq(p.returncode, 0, p.stderr)
    finally:
        store.cleanup()


def test_dev_channel_outside_dev_mode_keeps_messages():
    store = st.Store({"plugins": ["notify", "notifyprobe"], "dev": False,
                      "settings": {"notify": {"poll_ms": 50}}})
    srv = None
    try:
        rc.write_probe_templates(store)
        srv = st.Server(store, workers=1)
        log = srv.log_text()
        st.check("channel email is" in log and "channel sms is" in log and
                 "outside dev mode: its messages stay queued" in log, log)
        stc, body = rc.probe_send(srv, channel="sms", to="+79990000004", data={"text": "wait"})
        st.eq(stc, 200)
        time.sleep(0.3)  # several polls: none may deliver or drop it
        row = rc.outbox_rows(store, "id = ?", (body["id"],))[0]
        st.eq((row["state"], row["attempts"], row["transport"]), ("queued", 0, None))
    finally:
        if srv:
            srv.stop()
        store.cleanup()


st.main(globals())
