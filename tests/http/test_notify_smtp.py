"""Black-box tests of email delivery through SMTP: the store's workers send to a
real SMTP server on loopback (tests/http/receivers.py) over STARTTLS, verified
against a certificate made for the test by openssl, with AUTH PLAIN or LOGIN and
a password taken from the environment.  The message must be proper RFC 5322:
headers, the subject encoded (RFC 2047), quoted-printable body, dot handling,
List-Unsubscribe.  A server that is down is retried with back-off until it is
up; a temporary 451 is retried too.  A server that takes a message and then
never answers its final "." holds one of the worker's SMTP slots (libuv's thread
pool), never the worker: requests go on being answered, other email goes out,
the stuck attempt fails at smtp.timeout_ms and is retried; and a worker that
stops meanwhile exits at once, leaving the message to its lease."""
import email.utils
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import receivers as rc  # noqa: E402
import souktest as st  # noqa: E402

USERS = {"shop": "s3cret-" + os.urandom(4).hex()}
FROM_NAME = "Лавка «Souk»"
# (Secrets and this non-ASCII name come through the environment: "env:NAME".)
ENV = {"SOUK_TEST_SMTP_PASSWORD": USERS["shop"], "SOUK_TEST_FROM_NAME": FROM_NAME}
RETRY_BASE_MS = 300

CERTS = tempfile.mkdtemp(prefix="souk-notify-certs-")
CERT, KEY = rc.make_cert(CERTS)
PORT = rc.free_port()

STORE = None
SERVER = None
MAIL = None


def start_mail(**kw):
    global MAIL
    MAIL = rc.SmtpServer(port=PORT, cert=CERT, key=KEY, users=USERS, **kw)
    return MAIL


def server():
    global STORE, SERVER
    if SERVER is None:
        start_mail()
        # MAIL is read at exit: a test may have replaced the receiver meanwhile.
        STORE, SERVER = rc.probe_server(
            {"email": "smtp", "poll_ms": 200, "lease_ms": 10000,
             "retry_base_ms": RETRY_BASE_MS, "retry_max_ms": 2000,
             "smtp": {"url": f"smtp://127.0.0.1:{PORT}", "starttls": "required",
                      "username": "shop", "password": "env:SOUK_TEST_SMTP_PASSWORD",
                      "from": "shop@example.com", "from_name": "env:SOUK_TEST_FROM_NAME",
                      "ca_file": CERT, "timeout_ms": 5000}},
            ENV, lambda: MAIL.stop(), locales=["en", "ru"])
    return SERVER


def mail_to(address):
    return [m for m in MAIL.received() if m.rcpts == [address]]


def wait_mail(address, n=1, timeout=15):
    return rc.wait_until(lambda: len(mail_to(address)) >= n and mail_to(address), timeout,
                         f"{n} message(s) to {address}")


def wait_state(row_id, state, timeout=15):
    return rc.wait_until(
        lambda: [r for r in rc.outbox_rows(STORE, "id = ?", (row_id,)) if r["state"] == state],
        timeout, f"message #{row_id} {state}")[0]


def test_smtp_delivery_over_starttls_with_auth():
    s = server()
    subject = "Ваш код для входа — 123456"
    text = "Здравствуйте!\n.a line that starts with a dot\n..and two\nКод: 123456 = ok\n" \
        + "long " * 40
    stc, body = rc.probe_send(s, channel="email", to="anna@example.com",
                              unsubscribe_url="https://shop.example/unsubscribe?t=abc123",
                              data={"subject": subject, "text": text})
    st.eq(stc, 200)
    m = wait_mail("anna@example.com")[0]
    st.eq((m.tls, m.user, m.mechanism), (True, "shop", "PLAIN"), "session:")
    st.eq(m.mail_from, "shop@example.com")
    raw = m.data.decode("ascii")  # everything on the wire is 7-bit
    head = raw.split("\r\n\r\n", 1)[0]
    st.check("\n" not in raw.replace("\r\n", ""), "CRLF line ends only")
    st.check(all(len(line) <= 998 for line in raw.split("\r\n")), "line length")
    st.check("Subject: =?UTF-8?B?" in head, head)
    msg = m.parsed()
    st.eq(str(msg["Subject"]), subject)
    name, addr = email.utils.parseaddr(str(msg["From"]))
    st.eq((name, addr), (FROM_NAME, "shop@example.com"))
    st.eq(str(msg["To"]), "anna@example.com")
    st.check(email.utils.parsedate_to_datetime(str(msg["Date"])) is not None, msg["Date"])
    st.check(str(msg["Message-ID"]).startswith("<") and
             str(msg["Message-ID"]).endswith("@example.com>"), msg["Message-ID"])
    st.eq(str(msg["MIME-Version"]), "1.0")
    st.eq(msg.get_content_type(), "text/plain")
    st.eq(msg.get_content_charset(), "utf-8")
    st.eq(str(msg["Content-Transfer-Encoding"]), "quoted-printable")
    st.eq(str(msg["List-Unsubscribe"]), "<https://shop.example/unsubscribe?t=abc123>")
    st.eq(str(msg["List-Unsubscribe-Post"]), "List-Unsubscribe=One-Click")
    st.eq(msg.get_content().replace("\r\n", "\n"), text.rstrip() + "\n")
    row = wait_state(body["id"], "sent")
    st.eq((row["transport"], row["attempts"]), ("smtp", 1))


def test_plain_ascii_message_is_7bit_without_unsubscribe():
    s = server()
    stc, _ = rc.probe_send(s, channel="email", to="bob@example.com", locale="en",
                           data={"subject": "Order shipped", "text": "Your order is on its way."})
    st.eq(stc, 200)
    msg = wait_mail("bob@example.com")[0].parsed()
    st.eq(str(msg["Subject"]), "Order shipped")
    st.eq(str(msg["Content-Transfer-Encoding"]), "7bit")
    st.check(msg["List-Unsubscribe"] is None, "no List-Unsubscribe without a URL")
    st.eq(msg.get_content().replace("\r\n", "\n"), "Your order is on its way.\n")


def test_auth_login():
    global MAIL
    s = server()
    MAIL.stop()
    start_mail(mechanisms=("LOGIN",))
    stc, _ = rc.probe_send(s, channel="email", to="carol@example.com",
                           data={"subject": "login", "text": "by LOGIN"})
    st.eq(stc, 200)
    m = wait_mail("carol@example.com")[0]
    st.eq((m.tls, m.user, m.mechanism), (True, "shop", "LOGIN"))


def test_server_down_is_retried_until_up():
    global MAIL
    s = server()
    MAIL.stop()
    stc, body = rc.probe_send(s, channel="email", to="dora@example.com",
                              data={"subject": "patience", "text": "delivered late"})
    st.eq(stc, 200)
    # Two failed attempts while the server is down, each pushing the next
    # attempt further away (back-off), none lost.
    rows = []

    def failed_twice():
        r = rc.outbox_rows(STORE, "id = ?", (body["id"],))[0]
        if r["state"] == "queued" and r["attempts"] >= 2:
            return r
        if r["attempts"] == 1 and r["state"] == "queued" and not rows:
            rows.append(r)
        return None

    row = rc.wait_until(failed_twice, 15, "two failed attempts")
    st.check(row["last_error"], row)
    if rows:
        first_wait = rows[0]["next_attempt_at"] - rows[0]["created_at"]
        st.check(first_wait >= RETRY_BASE_MS * 0.9, f"first back-off {first_wait} ms")
    start_mail()
    m = wait_mail("dora@example.com", timeout=20)[0]
    st.eq(str(m.parsed()["Subject"]), "patience")
    row = wait_state(body["id"], "sent")
    st.check(row["attempts"] >= 3, row)
    time.sleep(0.5)
    st.eq(len(mail_to("dora@example.com")), 1, "delivered once:")


def test_temporary_failure_is_retried():
    s = server()
    MAIL.fail_data(2)
    stc, body = rc.probe_send(s, channel="email", to="erin@example.com",
                              data={"subject": "451", "text": "after two refusals"})
    st.eq(stc, 200)
    wait_mail("erin@example.com", timeout=20)
    row = wait_state(body["id"], "sent")
    st.eq(row["attempts"], 3)


def test_smtps_implicit_tls():
    server()
    tls_mail = rc.SmtpServer(cert=CERT, key=KEY, users=USERS, implicit_tls=True)
    store = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                      "settings": {"notify": {
                          "email": "smtp", "poll_ms": 100,
                          "smtp": {"url": f"smtps://127.0.0.1:{tls_mail.port}",
                                   "username": "shop", "password": "env:SOUK_TEST_SMTP_PASSWORD",
                                   "from": "shop@example.com", "ca_file": CERT,
                                   "timeout_ms": 5000}}}})
    srv = None
    try:
        rc.write_probe_templates(store)
        srv = st.Server(store, workers=1, env=ENV)
        stc, _ = rc.probe_send(srv, channel="email", to="gina@example.com",
                               data={"subject": "over smtps", "text": "TLS from the start"})
        st.eq(stc, 200)
        m = tls_mail.wait_for(1)[0]
        st.eq((m.tls, m.user, m.rcpts), (True, "shop", ["gina@example.com"]))
        st.check(not any(c.upper().startswith("STARTTLS") for c in tls_mail.commands),
                 tls_mail.commands)
        st.eq(str(m.parsed()["Subject"]), "over smtps")
    finally:
        if srv:
            srv.stop()
        tls_mail.stop()
        store.cleanup()


def test_wrong_password_is_not_delivered():
    store = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                      "settings": {"notify": {
                          "email": "smtp", "poll_ms": 100, "retry_base_ms": 100,
                          "max_attempts": 2,
                          "smtp": {"url": f"smtp://127.0.0.1:{PORT}", "username": "shop",
                                   "password": "wrong", "from": "shop@example.com",
                                   "ca_file": CERT, "timeout_ms": 5000}}}})
    srv = None
    try:
        server()
        rc.write_probe_templates(store)
        srv = st.Server(store, workers=1)
        stc, body = rc.probe_send(srv, channel="email", to="frank@example.com",
                                  data={"subject": "x", "text": "y"})
        st.eq(stc, 200)
        row = rc.wait_until(lambda: [r for r in rc.outbox_rows(store, "id = ?", (body["id"],))
                                     if r["state"] == "failed"], 15, "failed")[0]
        st.eq(row["attempts"], 2)
        st.check(row["last_error"], row)
        st.eq(mail_to("frank@example.com"), [])
        st.check(MAIL.counts.get("auth_failures", 0) >= 2, MAIL.counts)
    finally:
        if srv:
            srv.stop()
        store.cleanup()


def test_starttls_required_never_sends_in_clear():
    plain = rc.SmtpServer(users=USERS)  # no certificate: no STARTTLS offered
    store = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                      "settings": {"notify": {
                          "email": "smtp", "poll_ms": 100, "max_attempts": 1,
                          "smtp": {"url": f"smtp://127.0.0.1:{plain.port}",
                                   "username": "shop", "password": "env:SOUK_TEST_SMTP_PASSWORD",
                                   "from": "shop@example.com", "timeout_ms": 5000}}}})
    srv = None
    try:
        rc.write_probe_templates(store)
        srv = st.Server(store, workers=1, env=ENV)
        stc, body = rc.probe_send(srv, channel="email", to="hank@example.com",
                                  data={"subject": "secret", "text": "not in clear"})
        st.eq(stc, 200)
        row = rc.wait_until(lambda: [r for r in rc.outbox_rows(store, "id = ?", (body["id"],))
                                     if r["state"] == "failed"], 15, "failed")[0]
        st.check(row["last_error"], row)
        st.eq(plain.received(), [])
        st.check(not any(c.upper().startswith(("AUTH", "MAIL")) for c in plain.commands),
                 plain.commands)
    finally:
        if srv:
            srv.stop()
        plain.stop()
        store.cleanup()


# --- a server that stalls after the upload -------------------------------------

STALL_TIMEOUT_MS = 4000


def stall_store(port, **notify):
    """A store sending to a plain SMTP server (no TLS, no AUTH) on port."""
    settings = {"email": "smtp", "poll_ms": 200, "lease_ms": STALL_TIMEOUT_MS + 2000,
                "retry_base_ms": RETRY_BASE_MS, "retry_max_ms": 1000,
                "smtp": {"url": f"smtp://127.0.0.1:{port}", "starttls": "none",
                         "from": "shop@example.com", "timeout_ms": STALL_TIMEOUT_MS}}
    settings.update(notify)
    store = st.Store({"plugins": ["notify", "notifyprobe"], "locale": "en",
                      "settings": {"notify": settings}})
    rc.write_probe_templates(store)
    return store


def row_of(store, row_id):
    return rc.outbox_rows(store, "id = ?", (row_id,))[0]


def wait_mail_on(mail, address, timeout=10):
    def arrived():
        got = [m for m in mail.received() if m.rcpts == [address]]
        return got or None
    return rc.wait_until(arrived, timeout, f"a message to {address}")


def test_stalled_server_never_blocks_the_worker():
    # One worker: the process whose send is stuck must be the one that serves.
    mail = rc.SmtpServer()
    store = stall_store(mail.port)
    srv = None
    try:
        srv = st.Server(store, workers=1)
        mail.stall_data(1)
        stc, body = rc.probe_send(srv, channel="email", to="ivan@example.com",
                                  data={"subject": "stuck", "text": "the first try stalls"})
        st.eq(stc, 200)
        rc.wait_until(mail.stalled, 10, "the upload whose final dot goes unanswered")
        stall_began = time.time()
        slowest = 0.0
        for _ in range(20):
            t0 = time.time()
            stc, _, _ = srv.request("GET", "/api/v1/notifyprobe/ping",
                                    timeout=STALL_TIMEOUT_MS / 1000 + 5)
            slowest = max(slowest, time.time() - t0)
            st.eq(stc, 200)
        st.check(slowest < 0.5, f"a request took {slowest:.3f}s while the SMTP server stalled")
        # Other email goes out meanwhile, through the second SMTP slot.
        stc, _ = rc.probe_send(srv, channel="email", to="jana@example.com",
                               data={"subject": "alongside", "text": "not held up"})
        st.eq(stc, 200)
        wait_mail_on(mail, "jana@example.com")
        # All of that happened while the first send was still stuck.
        st.eq(mail.counts.get("stalls_ended", 0), 0, "the stall still lasts:")
        row = row_of(store, body["id"])
        st.eq((row["state"], row["attempts"]), ("sending", 1))
        # At smtp.timeout_ms the attempt fails; the retry finds the server well.
        rc.wait_until(lambda: mail.counts.get("stalls_ended", 0) == 1,
                      STALL_TIMEOUT_MS / 1000 + 10, "the stuck send to give up")
        stalled_for = time.time() - stall_began
        st.check(stalled_for > STALL_TIMEOUT_MS / 2000, f"the stall lasted {stalled_for:.1f}s")
        m = wait_mail_on(mail, "ivan@example.com", timeout=15)[0]
        st.eq(str(m.parsed()["Subject"]), "stuck")
        row = rc.wait_until(lambda: row_of(store, body["id"])["state"] == "sent" and
                            row_of(store, body["id"]), 15, "the retry recorded")
        st.eq((row["transport"], row["attempts"]), ("smtp", 2))
        time.sleep(0.3)
        st.eq(len([x for x in mail.received() if x.rcpts == ["ivan@example.com"]]), 1,
              "delivered once:")
    finally:
        if srv:
            srv.stop()
        mail.stop()
        store.cleanup()


def test_smtp_parallel_bounds_the_sends_in_flight():
    # One slot: a second message waits while the first is stuck, then goes.
    mail = rc.SmtpServer()
    store = stall_store(mail.port, smtp_parallel=1)
    srv = None
    try:
        srv = st.Server(store, workers=1)
        mail.stall_data(1)
        stc, first = rc.probe_send(srv, channel="email", to="kira@example.com",
                                   data={"subject": "first", "text": "stalls"})
        st.eq(stc, 200)
        rc.wait_until(mail.stalled, 10, "the stalled upload")
        stc, second = rc.probe_send(srv, channel="email", to="lev@example.com",
                                    data={"subject": "second", "text": "waits its turn"})
        st.eq(stc, 200)
        stc, _, _ = srv.request("GET", "/api/v1/notifyprobe/ping", timeout=2)
        st.eq(stc, 200)
        time.sleep(1.0)  # ample for a free slot to send it
        st.eq(mail.counts.get("stalls_ended", 0), 0, "the stall still lasts:")
        st.eq(mail.received(), [], "nothing sent beside the stuck message:")
        st.eq(row_of(store, second["id"])["state"], "queued", "the second waits:")
        wait_mail_on(mail, "lev@example.com", timeout=STALL_TIMEOUT_MS / 1000 + 10)
        wait_mail_on(mail, "kira@example.com", timeout=15)
    finally:
        if srv:
            srv.stop()
        mail.stop()
        store.cleanup()


def test_worker_stopping_during_a_stalled_send():
    # The stuck send is cut, the worker exits without waiting for smtp.timeout_ms,
    # and the message keeps its lease until it expires; the next server sends it.
    timeout_ms, lease_ms = 8000, 9100
    mail = rc.SmtpServer()
    store = stall_store(mail.port, lease_ms=lease_ms,
                        smtp={"url": f"smtp://127.0.0.1:{mail.port}", "starttls": "none",
                              "from": "shop@example.com", "timeout_ms": timeout_ms})
    srv = None
    try:
        srv = st.Server(store, workers=1)
        mail.stall_data(1)
        stc, body = rc.probe_send(srv, channel="email", to="mila@example.com",
                                  data={"subject": "cut", "text": "sent by the next server"})
        st.eq(stc, 200)
        rc.wait_until(mail.stalled, 10, "the stalled upload")
        t0 = time.time()
        st.eq(srv.stop(), 0)
        took = time.time() - t0
        st.check(took < timeout_ms / 2000, f"stopping took {took:.1f}s")
        srv = None
        row = row_of(store, body["id"])
        st.eq((row["state"], row["attempts"]), ("sending", 1), "left to its lease:")
        st.check(row["lease_until"] is not None, row)
        srv = st.Server(store, workers=1)
        m = wait_mail_on(mail, "mila@example.com", timeout=lease_ms / 1000 + 10)[0]
        st.eq(str(m.parsed()["Subject"]), "cut")
        row = rc.wait_until(lambda: row_of(store, body["id"])["state"] == "sent" and
                            row_of(store, body["id"]), 15, "the second attempt recorded")
        st.eq(row["attempts"], 2)
    finally:
        if srv:
            srv.stop()
        mail.stop()
        store.cleanup()


st.main(globals())
