"""HTTP behaviour of `souk serve` with a store that has no plugins: core routes,
static files, limits, timeouts, keep-alive, pipelining, malformed requests."""
import gzip
import json
import os
import socket
import time

import souktest as st
from souktest import check, eq

LIMITS = {"header_size": 4096, "url_size": 1024, "max_headers": 20, "body_size": 2048,
          "header_timeout_ms": 600, "body_timeout_ms": 600, "keepalive_timeout_ms": 800,
          "requests_per_connection": 5}

store = st.Store({"plugins": [], "limits": LIMITS})
# A static file larger than any socket buffer, and a text file that gzip applies to.
BIG = os.urandom(300 * 1024)
os.makedirs(store.path("themes/default/static"), exist_ok=True)
with open(store.path("themes/default/static/big.bin"), "wb") as f:
    f.write(BIG)
store.write("themes/default/static/app.css", "body { color: #123; }\n" * 200)
store.write("media/catalog/pic.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>\n")
server = st.Server(store, workers=2)


def test_healthz():
    status, body = server.get_json("/healthz")
    eq(status, 200)
    eq(body, {"status": "ok"})


def test_home_page_is_html_and_json():
    status, hdrs, body = server.request("GET", "/")
    eq(status, 200)
    check(hdrs["content-type"].startswith("text/html"), hdrs["content-type"])
    check(b"<html" in body and b"</html>" in body, body[:200])
    check("date" in hdrs and "content-length" in hdrs)
    eq(int(hdrs["content-length"]), len(body))
    status, view = server.get_json("/")
    eq(status, 200)
    eq(view["pages"], [])


def test_security_headers_on_pages():
    _, hdrs, _ = server.request("GET", "/")
    eq(hdrs["x-content-type-options"], "nosniff")
    check("frame-ancestors 'none'" in hdrs["content-security-policy"])
    cookies = " ".join(hdrs["set-cookie-list"])
    check("souk_csrf=" in cookies and "HttpOnly" in cookies and "SameSite=Lax" in cookies, cookies)


def test_not_found_json_and_page():
    status, body = server.get_json("/nope")
    eq(status, 404)
    eq(body["error"]["code"], "not_found")
    status, hdrs, page = server.request("GET", "/nope")
    eq(status, 404)
    check(hdrs["content-type"].startswith("text/html"))
    check(b"</html>" in page)
    status, hdrs, body = server.request("GET", "/api/v1/nope")
    eq(status, 404)
    check(hdrs["content-type"].startswith("application/json"))


def test_metrics():
    server.request("GET", "/healthz")
    status, hdrs, body = server.request("GET", "/metrics")
    eq(status, 200)
    text = body.decode()
    check(hdrs["content-type"].startswith("text/plain"))
    check('souk_http_requests_total{route="/healthz",method="GET",status="200"}' in text, text[:2000])
    check("souk_http_request_duration_seconds_bucket" in text)
    check("souk_worker_restarts_total" in text)


def test_static_etag_304_and_gzip():
    status, hdrs, body = server.request("GET", "/static/app.css", headers={"Accept-Encoding": "gzip"})
    eq(status, 200)
    check(hdrs["content-type"].startswith("text/css"))
    eq(hdrs.get("content-encoding"), "gzip")
    eq(gzip.decompress(body), ("body { color: #123; }\n" * 200).encode())
    etag = hdrs["etag"]
    status, hdrs2, body2 = server.request("GET", "/static/app.css", headers={"If-None-Match": etag})
    eq(status, 304)
    eq(body2, b"")
    status, hdrs3, body3 = server.request("GET", "/static/app.css")
    check("content-encoding" not in hdrs3)
    eq(len(body3), len("body { color: #123; }\n") * 200)


def test_static_theme_file_and_store_override():
    status, hdrs, body = server.request("GET", "/static/souk.css")
    eq(status, 200)
    check(len(body) > 100)


def test_static_large_file_sendfile():
    status, hdrs, body = server.request("GET", "/static/big.bin")
    eq(status, 200)
    eq(len(body), len(BIG))
    check(body == BIG, "file body differs")


def test_media_files():
    status, hdrs, body = server.request("GET", "/media/catalog/pic.svg")
    eq(status, 200)
    check(hdrs["content-type"].startswith("image/svg+xml"), hdrs["content-type"])
    check("etag" in hdrs)
    check("sandbox" in hdrs["content-security-policy"], "media never runs script")
    status, _, _ = server.request("GET", "/media/catalog/none.svg")
    eq(status, 404)
    status, _, body = server.request("GET", "/media/../souk.lua")
    check(status in (400, 404), status)
    check(b"return" not in body)


def test_path_traversal():
    secret = store.path("souk.lua")
    for path in ["/static/../souk.lua", "/static/%2e%2e/souk.lua", "/static/%2e%2e%2fsouk.lua",
                 "/static/..%2f..%2fsouk.lua", "/static/%252e%252e/souk.lua", "/static/..%5csouk.lua",
                 "/static/....//souk.lua", "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                 "/static//etc/passwd"]:
        resp = server.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        check(resp.startswith(b"HTTP/1.1 4"), f"{path}: {resp[:80]!r}")
        check(b"return" not in resp and b"root:" not in resp, f"{path} leaked a file")


def test_head():
    status, hdrs, body = server.request("HEAD", "/")
    eq(status, 200)
    eq(body, b"")
    check(int(hdrs["content-length"]) > 0)


def test_method_not_allowed_on_static():
    status, hdrs, _ = server.request("POST", "/static/souk.css", body="x",
                                     headers={"Content-Type": "text/plain"})
    eq(status, 405)
    check("GET" in hdrs["allow"])


def test_keep_alive_and_pipelining():
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    data = server.raw(req * 3 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    resps = st.parse_responses(data)
    eq(len(resps), 4)
    for status, hdrs, body in resps:
        eq(status, 200)
        eq(json.loads(body), {"status": "ok"})
    eq(resps[0][1]["connection"].lower(), "keep-alive")
    eq(resps[3][1]["connection"].lower(), "close")


def test_requests_per_connection_limit():
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    resps = st.parse_responses(server.raw(req * 7))
    eq(len(resps), 5)  # requests_per_connection = 5, then the server closes
    eq(resps[4][1]["connection"].lower(), "close")


def test_http10_closes():
    data = server.raw(b"GET /healthz HTTP/1.0\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"), data[:40])


def test_header_too_large_431():
    data = server.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 431"), data[:60])


def test_too_many_headers_431():
    hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(25))
    data = server.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
    check(data.startswith(b"HTTP/1.1 431"), data[:60])


def test_uri_too_long_414():
    data = server.raw(b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 414"), data[:60])


def test_body_too_large_413():
    data = server.raw(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 413"), data[:60])
    chunk = b"400\r\n" + b"a" * 0x400 + b"\r\n"
    data = server.raw(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 413"), data[:60])


def test_malformed_requests_400():
    for bad in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                b"GET /\x00 HTTP/1.1\r\n\r\n", b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\nHost: x\n\n"]:
        data = server.raw(bad)
        check(data.startswith(b"HTTP/1.1 400"), f"{bad!r}: {data[:60]!r}")
        check(b'"error"' in data)


def test_bad_query_and_json_400():
    status, hdrs, body = server.request("GET", "/?q=%zz")
    eq(status, 400)


def test_slow_headers_408():
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
    t0 = time.time()
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    elapsed = time.time() - t0
    s.close()
    check(data.startswith(b"HTTP/1.1 408"), data[:60])
    check(elapsed < 4, f"cut off after {elapsed:.1f}s")


def test_slow_body_408():
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    check(data.startswith(b"HTTP/1.1 408"), data[:60])


def test_keepalive_idle_close():
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = s.recv(4096)
    check(first.startswith(b"HTTP/1.1 200"))
    t0 = time.time()
    rest = s.recv(4096)  # the server closes the idle connection
    eq(rest, b"")
    check(time.time() - t0 < 4)
    s.close()


def test_expect_continue():
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    check(first.startswith(b"HTTP/1.1 100"), first)
    s.close()


def test_locale_negotiation():
    _, _, en = server.request("GET", "/nope", headers={"Accept-Language": "en-US,en;q=0.9"})
    _, _, ru = server.request("GET", "/nope", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    check(b'lang="en"' in en, en[:300])
    check(b'lang="ru"' in ru, ru[:300])
    status, hdrs, body = server.request("GET", "/?lang=ru")
    check(b'lang="ru"' in body)
    check(any("souk_lang=ru" in c for c in hdrs["set-cookie-list"]))


def test_core_errors_in_the_shoppers_language():
    _, _, ru = server.request("GET", "/nope", headers={"Accept-Language": "ru"})
    check("Такой страницы нет".encode() in ru, ru[-800:])
    status, body = server.get_json("/nope", headers={"Accept-Language": "ru"})
    check(body["error"]["message"].startswith("nothing here"), "the API keeps the English text")


def test_access_log_line():
    server.request("GET", "/healthz?probe=accesslog")
    time.sleep(0.2)
    lines = [l for l in server.log_text().splitlines() if "kind=access" in l and "/healthz" in l]
    check(lines, "no access log line")
    l = lines[-1]
    for key in ("id=", "status=200", "bytes=", "ms=", "method=GET"):
        check(key in l, f"{key} missing in {l}")


def test_request_smuggling_shapes_400():
    # Each of these is read one way here and may be read another way by a proxy in
    # front: refused, and the connection closed.
    for bad in [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",  # obs-fold
                b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
                b"POST /x HTTP/1.1\r\nHost: x\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                b"POST /x HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n"]:
        data = server.raw(bad + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        resps = st.parse_responses(data)
        eq(len(resps), 1, bad)
        status, hdrs, body = resps[0]
        check(status in (400, 501), f"{bad!r}: {data[:80]!r}")
        eq(hdrs["connection"], "close", bad)
        check(json.loads(body)["error"]["message"], bad)


def test_file_errors_are_json():
    status, hdrs, body = server.request("GET", "/static/missing.css")
    eq(status, 404)
    check(hdrs["content-type"].startswith("application/json"), hdrs["content-type"])
    eq(json.loads(body)["error"]["code"], "not_found")
    for method in ("POST", "DELETE", "PUT"):
        status, hdrs, body = server.request(method, "/static/souk.css", body="{}",
                                            headers={"Content-Type": "application/json"})
        eq(status, 405, method)
        eq(hdrs["allow"], "GET, HEAD")
        eq(json.loads(body)["error"]["code"], "method_not_allowed")


def test_static_headers_and_head():
    status, hdrs, body = server.request("GET", "/static/app.css", headers={"Accept-Encoding": "gzip"})
    eq(hdrs["x-content-type-options"], "nosniff")
    eq(hdrs["vary"], "Accept-Encoding")
    status, hhdrs, hbody = server.request("HEAD", "/static/app.css", headers={"Accept-Encoding": "gzip"})
    eq(status, 200)
    eq(hbody, b"")
    eq(hhdrs["content-length"], hdrs["content-length"])  # the GET's, gzip included
    eq(hhdrs.get("content-encoding"), "gzip")
    eq(hhdrs["etag"], hdrs["etag"])
    status, hhdrs, hbody = server.request("HEAD", "/static/big.bin")
    eq(status, 200)
    eq(int(hhdrs["content-length"]), len(BIG))
    check("content-encoding" not in hhdrs, "a binary file is never compressed")
    status, ghdrs, _ = server.request("GET", "/static/big.bin", headers={"Accept-Encoding": "gzip"})
    check("content-encoding" not in ghdrs, "a binary file is never compressed")
    # 304: validators, no body, no Content-Length of its own.
    status, h304, b304 = server.request("GET", "/static/app.css",
                                        headers={"If-None-Match": 'W/"x", ' + hdrs["etag"]})
    eq(status, 304)
    eq(b304, b"")
    eq(h304["etag"], hdrs["etag"])
    check("content-type" not in h304 and "content-length" not in h304, h304)
    status, _, _ = server.request("GET", "/static/app.css", headers={"If-None-Match": 'W/"other"'})
    eq(status, 200)
    status, _, _ = server.request("GET", "/static/app.css",
                                  headers={"If-Modified-Since": hdrs["last-modified"]})
    eq(status, 304)
    # If-None-Match wins over If-Modified-Since.
    status, _, _ = server.request("GET", "/static/app.css",
                                  headers={"If-Modified-Since": hdrs["last-modified"],
                                           "If-None-Match": 'W/"other"'})
    eq(status, 200)


try:
    st.main(globals())
finally:
    server.stop()
    store.cleanup()
