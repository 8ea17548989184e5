"""receivers -- loopback receivers for the notify tests, written with Python's
standard library only.

SmtpServer is a real (small) SMTP server: EHLO/HELO, STARTTLS with a certificate
made at test time by the `openssl` command, AUTH PLAIN and LOGIN, MAIL/RCPT/DATA
with dot-unstuffing, RSET, NOOP, QUIT.  Every accepted message is recorded with
its envelope and what the session proved (TLS, the user that authenticated).
It can also stall: take a message's DATA whole and then never answer its final
"." (a server that hangs after the upload), until the client gives up.

HttpReceiver records every POST (path, headers, body) and answers with the
statuses it is told to (200 by default), or holds requests without answering
until released ("hang"), to stand for a gateway that does not respond.

Both listen on 127.0.0.1; port 0 picks a free port, and free_port() finds one
in advance for a receiver that must start later than the store that uses it.
"""
import atexit
import base64
import email
import email.policy
import http.server
import os
import socket
import socketserver
import ssl
import subprocess
import threading
import time

LINE_MAX = 4096        # a command line; DATA lines may be up to 998 + CRLF
WAIT_STEP = 0.02


def free_port():
    """A loopback port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 (and localhost), made with the
    openssl command: returns (cert_path, key_path).  The certificate is its own
    CA, so a client given it as ca_file verifies the server."""
    cert = os.path.join(directory, "smtp-cert.pem")
    key = os.path.join(directory, "smtp-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def wait_until(predicate, timeout, what="condition"):
    """Poll predicate() until it is true; AssertionError naming what after timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(WAIT_STEP)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SmtpMessage:
    def __init__(self, mail_from, rcpts, data, tls, user, mechanism, helo):
        self.mail_from = mail_from   # the address inside MAIL FROM:<...>
        self.rcpts = rcpts           # addresses of RCPT TO
        self.data = data             # the message, dot-unstuffed, CRLF line ends
        self.tls = tls               # STARTTLS was done before MAIL
        self.user = user             # the authenticated user, or None
        self.mechanism = mechanism   # "PLAIN" / "LOGIN" / None
        self.helo = helo

    def parsed(self):
        """The message as an email.message.EmailMessage (headers decoded)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _SmtpSession(socketserver.BaseRequestHandler):
    def setup(self):
        self.conn = self.request
        self.conn.settimeout(30)
        self.buf = b""
        self.tls = False
        self.user = None
        self.mechanism = None
        self.helo = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts = []

    def send(self, line):
        self.conn.sendall(line.encode() + b"\r\n")

    def readline(self, limit=LINE_MAX):
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                return None
            try:
                chunk = self.conn.recv(65536)
            except (OSError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def handle(self):
        srv = self.server.owner
        srv._count("connections")
        srv._open(self)
        if srv.implicit_tls:  # smtps: TLS from the first byte
            try:
                self.conn = srv.ssl_ctx.wrap_socket(self.conn, server_side=True)
            except (OSError, ssl.SSLError):
                return
            self.tls = True
        self.send("220 127.0.0.1 ESMTP souk-test")
        while True:
            line = self.readline()
            if line is None:
                return
            text = line.decode("utf-8", "replace")
            srv._log(text if not text.upper().startswith("AUTH") else text.split(" ")[0] + " ...")
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            handler = getattr(self, "cmd_" + verb, None)
            if handler is None:
                self.send("502 5.5.2 command not recognised")
                continue
            if handler(arg) is False:
                return

    # --- commands -----------------------------------------------------------

    def cmd_EHLO(self, arg):
        srv = self.server.owner
        self.helo = arg
        self.reset()
        lines = ["127.0.0.1 hello " + arg, "8BITMIME", "SIZE 10485760"]
        if srv.ssl_ctx and not self.tls:
            lines.append("STARTTLS")
        if srv.users and (self.tls or not srv.require_tls):
            lines.append("AUTH " + " ".join(srv.mechanisms))
        for i, l in enumerate(lines):
            self.send(("250 " if i == len(lines) - 1 else "250-") + l)

    def cmd_HELO(self, arg):
        self.helo = arg
        self.reset()
        self.send("250 127.0.0.1")

    def cmd_STARTTLS(self, arg):
        srv = self.server.owner
        if not srv.ssl_ctx or self.tls:
            self.send("454 4.7.0 TLS not available")
            return
        self.send("220 2.0.0 ready to start TLS")
        try:
            self.conn = srv.ssl_ctx.wrap_socket(self.conn, server_side=True)
        except (OSError, ssl.SSLError):
            return False
        self.buf = b""
        self.tls = True
        self.helo = None
        self.reset()

    def _credentials_ok(self, user, password, mechanism):
        srv = self.server.owner
        if srv.users.get(user) == password:
            self.user = user
            self.mechanism = mechanism
            self.send("235 2.7.0 authentication succeeded")
        else:
            srv._count("auth_failures")
            self.send("535 5.7.8 authentication credentials invalid")

    def _b64_line(self, prompt):
        self.send("334 " + prompt)
        line = self.readline()
        if line is None:
            return None
        try:
            return base64.b64decode(line, validate=True)
        except ValueError:
            return None

    def cmd_AUTH(self, arg):
        srv = self.server.owner
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        if not srv.users or (srv.require_tls and not self.tls):
            self.send("530 5.7.0 must issue a STARTTLS command first")
            return
        if self.user:
            self.send("503 5.5.1 already authenticated")
            return
        if mech not in srv.mechanisms:
            self.send("504 5.5.4 mechanism not supported")
            return
        if mech == "PLAIN":
            raw = base64.b64decode(initial) if initial and initial != "=" else self._b64_line("")
            if raw is None or raw.count(b"\0") != 2:
                self.send("501 5.5.2 malformed PLAIN response")
                return
            _, user, password = raw.split(b"\0")
            self._credentials_ok(user.decode(), password.decode(), "PLAIN")
        else:
            user = base64.b64decode(initial) if initial else self._b64_line("VXNlcm5hbWU6")
            password = self._b64_line("UGFzc3dvcmQ6") if user is not None else None
            if user is None or password is None:
                self.send("501 5.5.2 malformed LOGIN response")
                return
            self._credentials_ok(user.decode(), password.decode(), "LOGIN")

    def _path(self, arg, keyword):
        if not arg.upper().startswith(keyword):
            return None
        rest = arg[len(keyword):].strip()
        if not rest.startswith("<") or ">" not in rest:
            return None
        return rest[1:rest.index(">")]

    def cmd_MAIL(self, arg):
        srv = self.server.owner
        if srv.require_tls and not self.tls:
            self.send("530 5.7.0 must issue a STARTTLS command first")
            return
        if srv.users and srv.require_auth and not self.user:
            self.send("530 5.7.0 authentication required")
            return
        path = self._path(arg, "FROM:")
        if path is None:
            self.send("501 5.5.4 syntax: MAIL FROM:<address>")
            return
        self.reset()
        self.mail_from = path
        self.send("250 2.1.0 ok")

    def cmd_RCPT(self, arg):
        if self.mail_from is None:
            self.send("503 5.5.1 need MAIL first")
            return
        path = self._path(arg, "TO:")
        if path is None:
            self.send("501 5.5.4 syntax: RCPT TO:<address>")
            return
        self.rcpts.append(path)
        self.send("250 2.1.5 ok")

    def cmd_DATA(self, arg):
        srv = self.server.owner
        if self.mail_from is None or not self.rcpts:
            self.send("503 5.5.1 need MAIL and RCPT first")
            return
        if srv._take_data_failure():
            self.send("451 4.3.0 temporary failure, try again later")
            self.reset()
            return
        self.send("354 end data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            line = self.readline(limit=LINE_MAX * 16)
            if line is None:
                return False
            if line == b".":
                break
            if line.startswith(b"."):
                line = line[1:]          # dot-unstuffing (RFC 5321 4.5.2)
            lines.append(line)
        data = b"\r\n".join(lines) + b"\r\n"
        msg = SmtpMessage(self.mail_from, list(self.rcpts), data, self.tls, self.user,
                          self.mechanism, self.helo)
        if srv._take_stall():
            # Never answer the "." (nor anything after it): the message is not
            # accepted, and the session lasts until the client hangs up.
            srv._stalled(msg)
            while self.readline() is not None:
                pass
            srv._count("stalls_ended")
            return False
        srv._record(msg)
        self.reset()
        self.send("250 2.0.0 ok: queued")

    def cmd_RSET(self, arg):
        self.reset()
        self.send("250 2.0.0 ok")

    def cmd_NOOP(self, arg):
        self.send("250 2.0.0 ok")

    def cmd_QUIT(self, arg):
        self.server.owner._count("quits")
        self.send("221 2.0.0 bye")
        return False


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class SmtpServer:
    """An SMTP server on 127.0.0.1:port.  users: {name: password} (AUTH is offered
    and required when set); mechanisms: the AUTH mechanisms offered; cert/key:
    enable STARTTLS; require_tls: refuse AUTH and MAIL before STARTTLS;
    implicit_tls: TLS from the start instead of STARTTLS (smtps://)."""

    def __init__(self, port=0, cert=None, key=None, users=None, mechanisms=("PLAIN", "LOGIN"),
                 require_tls=True, require_auth=True, implicit_tls=False):
        self.ssl_ctx = None
        if cert:
            self.ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_ctx.load_cert_chain(cert, key)
        self.users = dict(users or {})
        self.mechanisms = tuple(m.upper() for m in mechanisms)
        self.require_tls = require_tls and self.ssl_ctx is not None
        self.require_auth = require_auth
        self.implicit_tls = implicit_tls and self.ssl_ctx is not None
        self.messages = []
        self.commands = []
        self.counts = {}
        self.data_failures = 0
        self.stalls = 0
        self.stalled_messages = []
        self.sessions = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", port), _SmtpSession)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _record(self, msg):
        with self.lock:
            self.messages.append(msg)

    def _open(self, session):
        with self.lock:
            self.sessions.append(session)

    def _log(self, line):
        with self.lock:
            self.commands.append(line)

    def _count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def _take_data_failure(self):
        with self.lock:
            if self.data_failures > 0:
                self.data_failures -= 1
                return True
            return False

    def _take_stall(self):
        with self.lock:
            if self.stalls > 0:
                self.stalls -= 1
                return True
            return False

    def _stalled(self, msg):
        with self.lock:
            self.stalled_messages.append(msg)

    def stall_data(self, n):
        """Take the next n messages whole but never answer their final "." (they
        are not accepted: see stalled(), and counts["stalls_ended"] once the
        client gave up and closed the session)."""
        with self.lock:
            self.stalls = n

    def stalled(self):
        """The messages whose final "." went unanswered."""
        with self.lock:
            return list(self.stalled_messages)

    def fail_data(self, n):
        """Answer the next n DATA commands with 451 (a temporary failure)."""
        with self.lock:
            self.data_failures = n

    def received(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, n, timeout=15):
        """Wait until at least n messages arrived; returns them all."""
        wait_until(lambda: len(self.received()) >= n, timeout, f"{n} SMTP message(s)")
        return self.received()

    def stop(self):
        """Stop listening and cut every open session (a server that went away:
        clients must not keep talking to it over a cached connection)."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            sessions, self.sessions = self.sessions, []
        for session in sessions:
            try:
                session.conn.shutdown(socket.SHUT_RDWR)  # the TLS socket after STARTTLS
            except (OSError, ValueError):
                pass


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        owner = self.server.owner
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        status, hang = owner._arrived(self.path, self.headers, body)
        if hang:
            owner.released.wait(owner.hang_limit)
            return                       # no answer at all: the client times out
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass


class _HttpServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class HttpReceiver:
    """Records every POST; answers the statuses queued by answer() in order,
    then 200; while hang() is on, holds requests without any answer."""

    def __init__(self, port=0, hang_limit=60):
        self.requests = []
        self.statuses = []
        self.hanging = False
        self.hang_limit = hang_limit
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.server = _HttpServer(("127.0.0.1", port), _HttpHandler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _arrived(self, path, headers, body):
        with self.lock:
            self.requests.append({"path": path, "time": time.time(), "body": body,
                                  "headers": {k.lower(): v for k, v in headers.items()}})
            if self.hanging:
                return 0, True
            return (self.statuses.pop(0) if self.statuses else 200), False

    def answer(self, *statuses):
        """Answer the next requests with these statuses (then 200 again)."""
        with self.lock:
            self.statuses.extend(statuses)

    def hang(self, on=True):
        with self.lock:
            self.hanging = on
            if on:
                self.released.clear()
        if not on:
            self.released.set()

    def received(self):
        with self.lock:
            return list(self.requests)

    def wait_for(self, n, timeout=15):
        wait_until(lambda: len(self.received()) >= n, timeout, f"{n} webhook request(s)")
        return self.received()

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


# --- helpers shared by the notify tests (tests/http/test_notify_*.py) -------------

# Message templates of the test plugin notifyprobe, written into the store's own
# theme directory: the text comes from the request, so a test knows exactly what
# must arrive.  probe_enonly exists in English only (the locale fallback);
# probe_nosubject is a broken email template.
PROBE_TEMPLATES = {
    "message.probe.email.en": "Subject: {{{subject}}}\n\n{{{text}}}\n",
    "message.probe.email.ru": "Subject: [ru] {{{subject}}}\n\n[ru] {{{text}}}\n",
    "message.probe.sms.en": "{{{text}}}\n",
    "message.probe.sms.ru": "[ru] {{{text}}}\n",
    "message.probe_enonly.sms.en": "only en: {{{text}}}\n",
    "message.probe_nosubject.email.en": "{{{text}}}\n",
}


def write_probe_templates(store):
    for name, text in PROBE_TEMPLATES.items():
        store.write(f"themes/default/templates/{name}.mustache", text)


def probe_server(notify_settings, env, stop_receivers, locales=None):
    """A store with notify and the notifyprobe plugin (its templates written), served
    by two workers: (store, server).  At exit the server stops, then
    stop_receivers() runs, then the store is removed; a failed start cleans up the
    same way before raising."""
    import souktest as st
    config = {"plugins": ["notify", "notifyprobe"], "locale": "en",
              "settings": {"notify": notify_settings}}
    if locales:
        config["locales"] = locales
    store = st.Store(config)
    try:
        write_probe_templates(store)
        server = st.Server(store, workers=2, env=env)
    except BaseException:
        stop_receivers()
        store.cleanup()
        raise

    def stop():
        server.stop()
        stop_receivers()
        store.cleanup()
    atexit.register(stop)
    return store, server


def probe_send(server, timeout=10, **fields):
    """POST /api/v1/notifyprobe/send; returns (status, JSON body)."""
    import json
    fields.setdefault("message", "probe")
    st, _, body = server.request("POST", "/api/v1/notifyprobe/send", fields, timeout=timeout)
    return st, json.loads(body)


def outbox(store, *args, env=None):
    """`souk outbox DIR --json ...` as a list of dicts."""
    import json
    import souktest
    e = store.env()
    e.update(env or {})
    p = souktest.run("outbox", store.dir, "--json", *args, env=e)
    if p.returncode not in (0, 1):
        raise AssertionError(f"souk outbox exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def outbox_rows(store, where="1", params=()):
    """Rows of notify_outbox straight from the database (dicts), by id."""
    import sqlite3
    db = sqlite3.connect(store.path("data/souk.db"), timeout=10)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(
            f"SELECT * FROM notify_outbox WHERE {where} ORDER BY id", params)]
    finally:
        db.close()
