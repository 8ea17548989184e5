#!/usr/bin/env bash
# bench/run.sh -- souk next to nginx, in the same run, on loopback.
#
#   bench/run.sh [BUILD_DIR]        (default: build, as made by `make build`)
#
# Serves one 2 KiB CSS file from nginx and from souk, plus two dynamic souk
# routes (a plugin's JSON list and /healthz) and, from a second store made by
# `souk init --demo`, the catalog's category page (HTML) and product list (JSON,
# 24 items priced by pricing.lua).  Drives each with the same wrk parameters and
# prints requests/s, p99 latency and the ratio to nginx's static figure.  nginx
# is the yardstick: absolute numbers depend on the machine, the ratio much less.
# Optionally times `souk import` of a generated CSV catalog (rows/s).
# bench/README.md explains how to read the result.
#
# Environment (all optional):
#   BENCH_DURATION     wrk duration per target, "10s" or "1m" (10s; at most 600 s)
#   BENCH_CONNECTIONS  open connections (64)
#   BENCH_THREADS      wrk threads (2)
#   BENCH_WARMUP       warm-up run before each target, 0 to skip (2s)
#   BENCH_WORKERS      souk workers = nginx worker_processes (nproc)
#   BENCH_NOTES        notes seeded through the demo plugin before measuring (20)
#   BENCH_CATALOG      1: also measure the catalog's demo store; 0: skip it (1)
#   BENCH_CATEGORY     category slug of the HTML target (the demo's largest)
#   BENCH_IMPORT_ROWS  also time `souk import` of a CSV of this many variant rows
#                      into a fresh store; 0 skips it (0; the reference is 100000)
#   BENCH_OUT          also write the JSON result to this file
#   BENCH_KEEP=1       keep the temporary directory (logs, store, nginx.conf)
#
# Output: progress on stderr; the table, then the same figures as one JSON
# document, on stdout.  Needs root only to install wrk/nginx when they are missing.
set -euo pipefail
export LC_ALL=C   # "12345.67" in awk and printf, whatever the locale

# ---------------------------------------------------------------- settings

# Every wait is bounded: a server that does not come up, a wrk that hangs or a
# server that will not stop ends the run with a message instead of blocking.
readonly START_TIMEOUT_S=30     # nginx/souk must answer within this
readonly STOP_TIMEOUT_S=15      # above souk's default shutdown deadline (10 s)
readonly WRK_GRACE_S=30         # wrk is killed after its duration plus this
readonly MAX_DURATION_S=600     # longest accepted BENCH_DURATION / BENCH_WARMUP
readonly PROBE_TIMEOUT_S=5      # one HTTP request made by this script
readonly IMPORT_TIMEOUT_S=600   # the whole `souk import` of BENCH_IMPORT_ROWS rows
readonly IMPORT_ROWS_MAX=1000000
readonly IMPORT_VARIANTS=4      # CSV rows (variants) per product
readonly POLL_S=0.1
readonly STATIC_RULES=64        # 64 rules of 32 bytes: a 2048-byte CSS file
readonly STATIC_PATH=/static/bench.css
readonly JSON_PATH=/api/v1/demo/notes
readonly HEALTH_PATH=/healthz
readonly CATALOG_PER_PAGE=24    # the product list target: one page of 24 cards
readonly CATALOG_JSON_PATH="/api/v1/products?per_page=$CATALOG_PER_PAGE"
readonly HOST=127.0.0.1         # loopback only: nothing here listens elsewhere

BUILD_DIR=${1:-build}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
WORKERS=${BENCH_WORKERS:-$(nproc)}
NOTES=${BENCH_NOTES:-20}
CATALOG=${BENCH_CATALOG:-1}
CATEGORY=${BENCH_CATEGORY:-}
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-0}

WORK=""
NGINX_PID=""
SOUK_PID=""
CATALOG_PID=""

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
esac
[ $# -le 1 ] || die "at most one argument (the build directory); see --help"

# ------------------------------------------------------------ validation

# duration_s VALUE NAME: seconds in a wrk duration ("10", "10s", "2m").
duration_s() {
    local v=$1 name=$2 n
    [[ $v =~ ^([0-9]+)(s|m)?$ ]] || die "$name='$v': expected seconds like 10s or minutes like 1m"
    n=$((10#${BASH_REMATCH[1]}))
    [ "${BASH_REMATCH[2]}" = m ] && n=$((n * 60))
    [ "$n" -le "$MAX_DURATION_S" ] || die "$name='$v': longer than ${MAX_DURATION_S}s"
    echo "$n"
}

positive_int() {
    [[ $1 =~ ^[1-9][0-9]{0,5}$ ]] || die "$2='$1': expected a positive integer"
}

DURATION_S=$(duration_s "$DURATION" BENCH_DURATION)
[ "$DURATION_S" -gt 0 ] || die "BENCH_DURATION must be at least 1s"
WARMUP_S=$(duration_s "$WARMUP" BENCH_WARMUP)
positive_int "$CONNECTIONS" BENCH_CONNECTIONS
positive_int "$THREADS" BENCH_THREADS
positive_int "$WORKERS" BENCH_WORKERS
[[ $NOTES =~ ^[0-9]{1,4}$ ]] || die "BENCH_NOTES='$NOTES': expected 0..9999"
[[ $CATALOG =~ ^[01]$ ]] || die "BENCH_CATALOG='$CATALOG': expected 1 or 0"
[ -z "$CATEGORY" ] || [[ $CATEGORY =~ ^[a-z0-9_-]{1,100}$ ]] ||
    die "BENCH_CATEGORY='$CATEGORY': expected a category slug (a-z, 0-9, '-', '_')"
if ! [[ $IMPORT_ROWS =~ ^[0-9]{1,7}$ ]] || [ "$((10#$IMPORT_ROWS))" -gt "$IMPORT_ROWS_MAX" ]; then
    die "BENCH_IMPORT_ROWS='$IMPORT_ROWS': expected 0..$IMPORT_ROWS_MAX"
fi
IMPORT_ROWS=$((10#$IMPORT_ROWS))   # "010" is ten, not octal eight
[ "$CONNECTIONS" -ge "$THREADS" ] ||
    die "BENCH_CONNECTIONS ($CONNECTIONS) must be at least BENCH_THREADS ($THREADS)"

# The build directory as given, else relative to the repository (so that the
# script also works when started from elsewhere).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -d "$BUILD_DIR" ] && [ -d "$REPO/$BUILD_DIR" ]; then
    BUILD_DIR=$REPO/$BUILD_DIR
fi
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) ||
    die "build directory '${1:-build}' not found: run 'make build' first"
SOUK=$BUILD_DIR/core/souk
PLUGIN_DIR=$BUILD_DIR/tests/plugins
CATALOG_PLUGIN_DIR=$BUILD_DIR/plugins
[ -x "$SOUK" ] || die "$SOUK not found: run 'make build' first"
[ -f "$PLUGIN_DIR/demo.so" ] || die "$PLUGIN_DIR/demo.so not found: the test plugins are built with the tests (SOUK_TESTS=ON)"
if [ "$CATALOG" = 1 ] || [ "$IMPORT_ROWS" -gt 0 ]; then
    [ -f "$CATALOG_PLUGIN_DIR/catalog.so" ] ||
        die "$CATALOG_PLUGIN_DIR/catalog.so not found: the catalog plugin did not build (BENCH_CATALOG=0 skips it)"
fi

# ---------------------------------------------------------- dependencies

find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    find_nginx >/dev/null || missing+=(nginx-light)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root to install them, or: apt-get install ${missing[*]}"
    say "installing ${missing[*]}"
    # Try the cached lists first; refresh them only when that fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
        { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; } ||
        die "apt-get install ${missing[*]} failed"
}
ensure_tools
NGINX=$(find_nginx)

# ---------------------------------------------------------------- cleanup

# stop_proc PID NAME: SIGTERM the master only (it stops its own workers, as both
# nginx and souk do on SIGTERM), wait, then SIGKILL whatever is left in the
# process group it leads (it was started with setsid, so its workers are in it).
stop_proc() {
    local pid=$1 name=$2 group="" i
    [ -n "$pid" ] || return 0
    [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && group=-$pid
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep "$POLL_S"
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name did not stop within ${STOP_TIMEOUT_S}s; killing it"
    fi
    # Workers that outlived their master are still in the group.
    if [ -n "$group" ]; then kill -KILL -- "$group" 2>/dev/null || true; fi
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_proc "$SOUK_PID" souk
    stop_proc "$CATALOG_PID" "souk (catalog)"
    stop_proc "$NGINX_PID" nginx
    if [ -n "$WORK" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            say "kept $WORK"
        else
            rm -rf -- "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/souk-bench.XXXXXX")
chmod 755 "$WORK"

# ------------------------------------------------------------ HTTP probes

# python3 speaks HTTP for the few requests this script makes itself (proxies
# from the environment are ignored: everything here is on loopback).
#   probe URL             -> "STATUS BYTES SHA256 CONTENT-TYPE" ("000 0 - -" when
#                            nothing answers; "-" for a missing Content-Type)
#   seed URL COUNT        -> POSTs COUNT JSON notes; fails on the first non-2xx
#   top_category URL      -> "SLUG COUNT": from /api/v1/categories, the category
#                            whose page lists the most products
#   listing URL           -> "ITEMS PRICED TOTAL" of a catalog list (JSON): cards
#                            on the page, those with an integer price, all pages
pyhttp() {
    python3 - "$PROBE_TIMEOUT_S" "$@" <<'PY'
import hashlib, json, sys, urllib.error, urllib.request
timeout, cmd, url = float(sys.argv[1]), sys.argv[2], sys.argv[3]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def fetch(req):
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def get_json(url):
    status, body = fetch(urllib.request.Request(url, headers={"Accept": "application/json"}))
    if status != 200:
        sys.exit("GET %s -> %d: %s" % (url, status, body[:300].decode("utf-8", "replace")))
    return json.loads(body)

if cmd == "probe":
    try:
        req = urllib.request.Request(url, headers={"Accept": "*/*"})
        with opener.open(req, timeout=timeout) as r:
            status, body, ctype = r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        status, body, ctype = e.code, e.read(), e.headers.get("Content-Type")
    except Exception:
        status, body, ctype = 0, b"", None
    print("%03d" % status, len(body), hashlib.sha256(body).hexdigest() if status else "-",
          ctype or "-")
elif cmd == "top_category":
    best, todo = None, list(get_json(url)["categories"])
    while todo:
        c = todo.pop(0)
        if best is None or c["count"] > best["count"]:
            best = c
        todo.extend(c.get("children") or [])
    if best is None:
        sys.exit("GET %s: the store has no category" % url)
    print(best["slug"], best["count"])
elif cmd == "listing":
    doc = get_json(url)
    items = doc.get("items") or []
    priced = sum(1 for i in items if type((i.get("price") or {}).get("amount")) is int)
    print(len(items), priced, doc.get("total", 0))
elif cmd == "seed":
    for i in range(int(sys.argv[4])):
        note = {"text": "Note %d, seeded so that the list route has rows to serve." % (i + 1)}
        req = urllib.request.Request(url, data=json.dumps(note).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        status, body = fetch(req)
        if not 200 <= status < 300:
            sys.exit("POST %s -> %d: %s" % (url, status, body[:300].decode("utf-8", "replace")))
PY
}

# wait_http URL PID NAME LOG: until URL answers 200, while PID lives.
wait_http() {
    local url=$1 pid=$2 name=$3 log=$4 i status
    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start-up (log above)"; }
        status=$(pyhttp probe "$url" | cut -d' ' -f1)
        [ "$status" = 200 ] && return 0
        sleep "$POLL_S"
    done
    cat "$log" >&2
    die "$name did not answer 200 on $url within ${START_TIMEOUT_S}s (last status $status)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --------------------------------------------------------------- the file

# 64 rules of exactly 32 bytes each: the same 2048 bytes for both servers.
make_css() {
    local i
    for ((i = 0; i < STATIC_RULES; i++)); do
        printf '.r%02d{margin:%02dpx;color:#%06x}\n' "$i" "$i" $((i * 0x040404))
    done
}
make_css >"$WORK/bench.css"
STATIC_BYTES=$(stat -c %s "$WORK/bench.css")
STATIC_SHA=$(sha256sum "$WORK/bench.css" | cut -d' ' -f1)

# ------------------------------------------------------------------ nginx

# A private nginx: its own prefix, pid, logs and temp directories under $WORK,
# nothing from /etc/nginx.  Tuned the way a static-file server usually is
# (sendfile, keep-alive, no access log); keep-alive limits equal souk's defaults
# (5 s idle, 1000 requests per connection) so neither side gets longer connections.
nginx_temp_paths() {
    local built m
    built=$("$NGINX" -V 2>&1)
    echo "    client_body_temp_path $WORK/nginx/tmp/body;"
    for m in proxy fastcgi uwsgi scgi; do
        case $built in
            *"--without-http_${m}_module"*) ;;
            *) echo "    ${m}_temp_path $WORK/nginx/tmp/$m;" ;;
        esac
    done
}

start_nginx() {
    local port=$1 dir=$WORK/nginx user_line=""
    mkdir -p "$dir/html/static" "$dir/logs" "$dir/tmp"
    cp "$WORK/bench.css" "$dir/html$STATIC_PATH"
    # Workers run as the invoking user (as souk's do), so they can read $WORK.
    [ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
    cat >"$dir/nginx.conf" <<EOF
# Generated by bench/run.sh for one run; removed with the run's directory.
$user_line
daemon off;
master_process on;
worker_processes $WORKERS;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 5s;
    keepalive_requests 1000;
    server_tokens off;
    types { text/css css; }
    default_type application/octet-stream;
$(nginx_temp_paths)

    server {
        listen $HOST:$port;
        root $dir/html;
    }
}
EOF
    "$NGINX" -t -q -p "$dir/" -e "$dir/logs/error.log" -c "$dir/nginx.conf" ||
        die "nginx rejected $dir/nginx.conf (see above)"
    setsid "$NGINX" -p "$dir/" -e "$dir/logs/error.log" -c "$dir/nginx.conf" \
        >"$dir/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    wait_http "http://$HOST:$port$STATIC_PATH" "$NGINX_PID" nginx "$dir/logs/error.log"
}

# ------------------------------------------------------------------- souk

# A fresh store with only the test plugin `demo`, production mode, the bench
# file in its theme's static directory.  log_level "warn" keeps the access log
# off, as it is for nginx.
make_store() {
    local store=$WORK/store
    SOUK_PLUGIN_PATH=$PLUGIN_DIR "$SOUK" init "$store" >"$WORK/init.log" 2>&1 ||
        { cat "$WORK/init.log" >&2; die "souk init failed (log above)"; }
    cat >"$store/souk.lua" <<EOF
-- Written by bench/run.sh for one run.
return { plugins = {"demo"}, dev = false, workers = $WORKERS, log_level = "warn" }
EOF
    mkdir -p "$store/themes/default/static"
    cp "$WORK/bench.css" "$store/themes/default$STATIC_PATH"
}

# The catalog's demonstration store (`souk init --demo`: 2,000-odd products,
# priced by the pricing.lua it ships), configured like the first store: only its
# plugin, production mode, the same workers, no access log.
make_catalog_store() {
    local store=$WORK/catalog
    SOUK_PLUGIN_PATH=$CATALOG_PLUGIN_DIR "$SOUK" init "$store" --demo >"$WORK/catalog-init.log" 2>&1 ||
        { cat "$WORK/catalog-init.log" >&2; die "souk init --demo failed (log above)"; }
    cat >"$store/souk.lua" <<EOF
-- Written by bench/run.sh for one run.
return { plugins = {"catalog"}, dev = false, workers = $WORKERS, log_level = "warn",
         locale = "ru", locales = {"ru", "en"} }
EOF
}

# start_souk NAME STORE PLUGIN_PATH PID_VAR PORT_VAR: serve STORE.  Its pid goes
# to the variable named PID_VAR at once (so that cleanup stops it whatever
# happens next), its port to PORT_VAR.  Port 0: the kernel picks a free port and
# the master names it in the line "souk: serving http://127.0.0.1:PORT (N
# workers)", printed on stdout once every worker is ready.
start_souk() {
    local name=$1 store=$2 plugin_path=$3 pid_var=$4 port_var=$5
    local log=$WORK/$name.log line="" i pid
    SOUK_PLUGIN_PATH=$plugin_path setsid "$SOUK" serve "$store" \
        --listen "$HOST:0" --workers "$WORKERS" >"$log" 2>&1 &
    pid=$!
    printf -v "$pid_var" '%s' "$pid"
    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        line=$(grep -m1 -o "serving http://$HOST:[0-9]*" "$log" || true)
        [ -n "$line" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name: souk serve exited during start-up (log above)"; }
        sleep "$POLL_S"
    done
    [ -n "$line" ] || { cat "$log" >&2; die "$name: souk serve printed no 'serving http://' line within ${START_TIMEOUT_S}s"; }
    printf -v "$port_var" '%s' "${line##*:}"
    wait_http "http://$HOST:${line##*:}$HEALTH_PATH" "$pid" "$name" "$log"
}

# ---------------------------------------------------------------- import

# make_import_csv FILE ROWS: a catalog CSV in the native format (docs/catalog.md,
# section 3) of ROWS variant rows, IMPORT_VARIANTS per product, as a merchant's
# export would be: both languages, HTML descriptions, brands, category paths
# (created by the import), attributes, options, prices, stock (0 for some).  The
# same file every time: nothing random.
make_import_csv() {
    python3 - "$1" "$2" "$IMPORT_VARIANTS" <<'PY'
import csv, sys
path, rows, per_product = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ROOTS = [("home", "Дом", "Home"), ("kitchen", "Кухня", "Kitchen"),
         ("sport", "Спорт", "Sport"), ("garden", "Сад", "Garden")]
LEAVES = [("basic", "Базовое", "Basics"), ("pro", "Профессиональное", "Professional"),
          ("kids", "Детское", "For children")]
NOUNS = [("Чайник", "kettle"), ("Лампа", "lamp"), ("Рюкзак", "backpack"),
         ("Плед", "throw"), ("Кружка", "mug"), ("Коврик", "mat"), ("Сковорода", "pan"),
         ("Фонарь", "torch"), ("Термос", "flask"), ("Полотенце", "towel")]
ADJECTIVES = [("стальной", "steel"), ("лёгкий", "light"), ("складной", "folding"),
              ("большой", "large"), ("дорожный", "travel"), ("детский", "kids'")]
BRANDS = ["Teplo", "Luma", "Nord", "Stekloff", "Altai", "Kuzina", "Tempo", "Lenok",
          "Bork", "Polaris", "Redmond", "Scarlett"]
SIZES = ["S", "M", "L", "XL", "XXL", "3XL"]
COLOURS = ["black", "white", "grey", "blue"]
HEADER = ["slug", "category", "category_ru", "category_en", "brand", "title_ru",
          "title_en", "description_ru", "description_en", "status", "attributes",
          "sku", "options", "price", "currency", "stock"]
with open(path, "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(HEADER)
    for row in range(rows):
        p, v = divmod(row, per_product)
        slug = "bench-%07d" % p
        product = [slug] + [""] * 10      # the product's columns: on its first row only
        if v == 0:
            root, leaf = ROOTS[p % len(ROOTS)], LEAVES[(p // len(ROOTS)) % len(LEAVES)]
            noun, adj = NOUNS[p % len(NOUNS)], ADJECTIVES[(p // len(NOUNS)) % len(ADJECTIVES)]
            years = 1 + p % 3
            product = [
                slug, "%s/%s-%s" % (root[0], root[0], leaf[0]),
                "%s > %s" % (root[1], leaf[1]), "%s > %s" % (root[2], leaf[2]),
                BRANDS[p % len(BRANDS)],
                "%s %s №%d" % (noun[0], adj[0], p), "%s %s no. %d" % (adj[1].capitalize(), noun[1], p),
                "<p>%s %s: надёжный и удобный, <b>гарантия %d г.</b></p>"
                "<ul><li>Цвета: чёрный, белый, серый, синий</li></ul>" % (noun[0], adj[0], years),
                "<p>A %s %s, reliable and handy, <b>%d-year warranty</b>.</p>"
                "<ul><li>Colours: black, white, grey, blue</li></ul>" % (adj[1], noun[1], years),
                "active", "material=%s; weight_g=%d" % (adj[1], 100 + p % 900),
            ]
        out.writerow(product + [
            "BN-%07d-%d" % (p, v),
            "size=%s; colour=%s" % (SIZES[v % len(SIZES)], COLOURS[v % len(COLOURS)]),
            "%d.%02d" % (199 + (p * 37 + v * 10) % 9800, (p * 13) % 100),
            "RUB",
            (p * 7 + v * 3) % 11,             # 0 for about one variant in eleven
        ])
PY
}

# time_import: a fresh store (the catalog only), a CSV of IMPORT_ROWS rows, and
# the wall time of `souk import` -- process start, parsing, the writes, the
# search index, the commit.  Sets IMPORT_S, IMPORT_RATE and IMPORT_PRODUCTS.
time_import() {
    local store=$WORK/import-store csv=$WORK/import.csv log=$WORK/import.log t0 t1 summary
    say "generating a catalog CSV of $IMPORT_ROWS rows"
    make_import_csv "$csv" "$IMPORT_ROWS" || die "could not write $csv"
    SOUK_PLUGIN_PATH=$CATALOG_PLUGIN_DIR "$SOUK" init "$store" >"$WORK/import-init.log" 2>&1 ||
        { cat "$WORK/import-init.log" >&2; die "souk init of the import store failed (log above)"; }
    cat >"$store/souk.lua" <<EOF
-- Written by bench/run.sh for one run.
return { plugins = {"catalog"}, dev = false, log_level = "warn" }
EOF
    say "timing souk import of $IMPORT_ROWS rows ($(du -h "$csv" | cut -f1)B)"
    t0=$EPOCHREALTIME
    SOUK_PLUGIN_PATH=$CATALOG_PLUGIN_DIR timeout "$IMPORT_TIMEOUT_S" \
        "$SOUK" import "$store" "$csv" >"$log" 2>"$log.err" ||
        { tail -n 20 "$log.err" "$log" >&2; die "souk import failed or took over ${IMPORT_TIMEOUT_S}s (output above)"; }
    t1=$EPOCHREALTIME
    # "imported P products, V variants (...), E errors in ...": every row must be in.
    summary=$(grep -m1 '^imported ' "$log" || true)
    [[ $summary =~ ^imported\ ([0-9]+)\ products,\ ([0-9]+)\ variants.*\ ([0-9]+)\ errors ]] ||
        { cat "$log" >&2; die "souk import printed no summary line (output above)"; }
    if [ "${BASH_REMATCH[2]}" != "$IMPORT_ROWS" ] || [ "${BASH_REMATCH[3]}" != 0 ]; then
        tail -n 20 "$log.err" >&2
        die "souk import did not take every row: $summary"
    fi
    IMPORT_PRODUCTS=${BASH_REMATCH[1]}
    IMPORT_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    IMPORT_RATE=$(awk -v n="$IMPORT_ROWS" -v s="$IMPORT_S" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    say "imported $IMPORT_ROWS rows ($IMPORT_PRODUCTS products) in ${IMPORT_S}s: $IMPORT_RATE rows/s"
}

# ---------------------------------------------------------------- checks

# Before measuring, each target must answer 200 (and the file must be the file,
# a page must be a page): a fast 404 is not a result.
#   check_target NAME URL [SHA256 of the body] [media type of the Content-Type]
check_target() {
    local name=$1 url=$2 want_sha=${3:-} want_type=${4:-} status bytes sha ctype media
    read -r status bytes sha ctype < <(pyhttp probe "$url")
    [ "$status" = 200 ] || die "$name: GET $url answered $status, expected 200"
    if [ -n "$want_sha" ] && [ "$sha" != "$want_sha" ]; then
        die "$name: GET $url returned $bytes bytes that differ from the $STATIC_BYTES-byte bench file"
    fi
    media=${ctype%%;*}
    if [ -n "$want_type" ] && [ "${media,,}" != "$want_type" ]; then
        die "$name: GET $url answered Content-Type '$ctype', expected $want_type"
    fi
}

# ------------------------------------------------------------------- wrk

# to_ms VALUE UNIT: wrk prints times as us, ms, s, m or h.
to_ms() {
    awk -v v="$1" -v u="$2" 'BEGIN {
        f["us"] = 0.001; f["ms"] = 1; f["s"] = 1000; f["m"] = 60000; f["h"] = 3600000
        if (!(u in f)) exit 1
        printf "%.3f", v * f[u] }'
}

# parse_wrk FILE -> "RPS P99_MS REQUESTS NON2XX SOCKET_ERRORS", or fails.
parse_wrk() {
    awk '
        /^Requests\/sec:/ { rps = $2 }
        /^[ \t]*99%[ \t]/ {
            if (match($2, /^[0-9.]+/)) { p99 = substr($2, 1, RLENGTH); unit = substr($2, RLENGTH + 1) }
        }
        / requests in / { total = $1 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ {
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { sub(/,/, "", $i); errs += $i }
        }
        END {
            if (rps == "" || p99 == "" || unit == "" || total == "") exit 1
            printf "%s %s %s %s %d %d\n", rps, p99, unit, total, non2xx + 0, errs + 0
        }' "$1"
}

# bench_target ID URL: warm-up, then the measured run; sets R_* for the caller.
bench_target() {
    local id=$1 url=$2 out=$WORK/wrk-$1.txt fields p99 unit
    local wrk_args=(-t"$THREADS" -c"$CONNECTIONS")
    if [ "$WARMUP_S" -gt 0 ]; then
        say "warming up $id ($WARMUP)"
        timeout --foreground $((WARMUP_S + WRK_GRACE_S)) wrk "${wrk_args[@]}" -d"$WARMUP_S"s "$url" >/dev/null ||
            die "wrk warm-up of $url failed"
    fi
    say "measuring $id: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url"
    timeout --foreground $((DURATION_S + WRK_GRACE_S)) wrk "${wrk_args[@]}" -d"$DURATION_S"s --latency "$url" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk against $url failed (output above)"; }
    fields=$(parse_wrk "$out") || { cat "$out" >&2; die "could not read requests/s and the 99% latency from wrk's output (above)"; }
    read -r R_RPS p99 unit R_TOTAL R_NON2XX R_ERRORS <<<"$fields"
    R_P99=$(to_ms "$p99" "$unit") || die "wrk printed the 99% latency in an unknown unit: '$p99$unit'"
    if [ "$R_NON2XX" -gt 0 ] || [ "$R_ERRORS" -gt 0 ]; then
        say "warning: $id: $R_NON2XX non-2xx responses and $R_ERRORS socket errors out of $R_TOTAL requests"
    fi
}

# ------------------------------------------------------------------- run

# The import first, while nothing else runs: its figure is for an idle machine.
IMPORT_S="" IMPORT_RATE="" IMPORT_PRODUCTS=""
[ "$IMPORT_ROWS" -eq 0 ] || time_import

NGINX_PORT=$(free_port)
SOUK_PORT=""
CATALOG_PORT=""
start_nginx "$NGINX_PORT"
make_store
start_souk souk "$WORK/store" "$PLUGIN_DIR" SOUK_PID SOUK_PORT
if [ "$CATALOG" = 1 ]; then
    say "creating the catalog's demo store (souk init --demo)"
    make_catalog_store
    start_souk catalog "$WORK/catalog" "$CATALOG_PLUGIN_DIR" CATALOG_PID CATALOG_PORT
fi
say "nginx on $HOST:$NGINX_PORT, souk on $HOST:$SOUK_PORT${CATALOG_PORT:+ and $HOST:$CATALOG_PORT (catalog)}, $WORKERS worker(s) each, $(nproc) CPU(s)"

NGINX_URL=http://$HOST:$NGINX_PORT
SOUK_URL=http://$HOST:$SOUK_PORT
if [ "$NOTES" -gt 0 ]; then
    say "seeding $NOTES notes through POST $JSON_PATH"
    pyhttp seed "$SOUK_URL$JSON_PATH" "$NOTES" || die "seeding notes through $SOUK_URL$JSON_PATH failed"
fi

# The catalog: the category page of the demo's largest category (or
# BENCH_CATEGORY), and one page of the product list, whose 24 cards must all be
# priced (by the store's pricing.lua) for the row to mean anything.
CATALOG_PRODUCTS=0 CATEGORY_PRODUCTS=0
if [ "$CATALOG" = 1 ]; then
    CATALOG_URL=http://$HOST:$CATALOG_PORT
    if [ -z "$CATEGORY" ]; then
        read -r CATEGORY CATEGORY_PRODUCTS < <(pyhttp top_category "$CATALOG_URL/api/v1/categories") ||
            die "could not read the demo store's categories"
        [ -n "$CATEGORY" ] || die "could not read the demo store's categories"
    fi
    read -r items priced CATALOG_PRODUCTS < <(pyhttp listing "$CATALOG_URL$CATALOG_JSON_PATH") ||
        die "could not read the demo store's product list"
    if [ "$items" != "$CATALOG_PER_PAGE" ] || [ "$priced" != "$items" ]; then
        die "GET $CATALOG_JSON_PATH: $items cards, $priced of them priced; expected $CATALOG_PER_PAGE priced cards"
    fi
    read -r items priced CATEGORY_PRODUCTS < <(pyhttp listing "$CATALOG_URL/api/v1/products?category=$CATEGORY") ||
        die "could not read the products of category '$CATEGORY'"
    say "demo store: $CATALOG_PRODUCTS products; category page /c/$CATEGORY lists $CATEGORY_PRODUCTS"
fi

# id | label | server | path | expected sha256 of the body (static files only)
#    | expected media type (empty: not checked)
TARGETS=(
    "nginx_static|nginx static|$NGINX_URL|$STATIC_PATH|$STATIC_SHA|text/css"
    "souk_static|souk static|$SOUK_URL|$STATIC_PATH|$STATIC_SHA|text/css"
    "souk_json|souk plugin JSON|$SOUK_URL|$JSON_PATH||application/json"
    "souk_healthz|souk /healthz|$SOUK_URL|$HEALTH_PATH||"
)
if [ "$CATALOG" = 1 ]; then
    TARGETS+=(
        "catalog_html|catalog page HTML|$CATALOG_URL|/c/$CATEGORY||text/html"
        "catalog_json|catalog list JSON|$CATALOG_URL|$CATALOG_JSON_PATH||application/json"
    )
fi
for t in "${TARGETS[@]}"; do
    IFS='|' read -r id label server path sha type <<<"$t"
    check_target "$label" "$server$path" "$sha" "$type"
done

declare -a ROWS=()
BASE_RPS=""
for t in "${TARGETS[@]}"; do
    IFS='|' read -r id label server path sha type <<<"$t"
    bench_target "$id" "$server$path"
    [ -n "$BASE_RPS" ] || BASE_RPS=$R_RPS
    ratio=$(awk -v a="$R_RPS" -v b="$BASE_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    ROWS+=("$id|$label|$path|$R_RPS|$R_P99|$ratio|$R_TOTAL|$R_NON2XX|$R_ERRORS")
done

# ---------------------------------------------------------------- report

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}

print_table() {
    local r id label path rps p99 ratio total non2xx errs
    printf '%-18s %12s %10s %8s %10s\n' target "requests/s" "p99 ms" ratio "non-2xx"
    for r in "${ROWS[@]}"; do
        IFS='|' read -r id label path rps p99 ratio total non2xx errs <<<"$r"
        printf '%-18s %12.0f %10.2f %8s %10s\n' "$label" "$rps" "$p99" "$ratio" $((non2xx + errs))
    done
    printf '(wrk -t%s -c%s -d%s, %s souk/nginx workers, %s CPUs; ratio = requests/s / nginx static)\n' \
        "$THREADS" "$CONNECTIONS" "$DURATION" "$WORKERS" "$(nproc)"
    if [ "$CATALOG" = 1 ]; then
        printf '(catalog: the demo store, %s products; /c/%s lists %s; the list: %s cards priced by pricing.lua)\n' \
            "$CATALOG_PRODUCTS" "$CATEGORY" "$CATEGORY_PRODUCTS" "$CATALOG_PER_PAGE"
    fi
    if [ "$IMPORT_ROWS" -gt 0 ]; then
        printf 'import: %s rows (%s products) in %s s: %s rows/s\n' \
            "$IMPORT_ROWS" "$IMPORT_PRODUCTS" "$IMPORT_S" "$IMPORT_RATE"
    fi
}

print_json() {
    local r id label path rps p99 ratio total non2xx errs sep=""
    printf '{\n'
    printf '  "date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
    printf '  "cpus": %d,\n  "workers": %d,\n' "$(nproc)" "$WORKERS"
    printf '  "wrk": {"threads": %d, "connections": %d, "duration_s": %d, "warmup_s": %d, "version": %s},\n' \
        "$THREADS" "$CONNECTIONS" "$DURATION_S" "$WARMUP_S" "$(json_str "$(wrk -v 2>&1 | head -n1 || true)")"
    printf '  "nginx": %s,\n' "$(json_str "$("$NGINX" -v 2>&1 | head -n1)")"
    printf '  "souk": %s,\n' "$(json_str "$("$SOUK" version 2>/dev/null | head -n1 || true)")"
    printf '  "static_bytes": %d,\n  "notes": %d,\n' "$STATIC_BYTES" "$NOTES"
    if [ "$CATALOG" = 1 ]; then
        printf '  "catalog": {"products": %d, "category": %s, "category_products": %d, "per_page": %d},\n' \
            "$CATALOG_PRODUCTS" "$(json_str "$CATEGORY")" "$CATEGORY_PRODUCTS" "$CATALOG_PER_PAGE"
    else
        printf '  "catalog": null,\n'
    fi
    if [ "$IMPORT_ROWS" -gt 0 ]; then
        printf '  "import": {"rows": %d, "products": %d, "seconds": %s, "rows_per_sec": %s},\n' \
            "$IMPORT_ROWS" "$IMPORT_PRODUCTS" "$IMPORT_S" "$IMPORT_RATE"
    else
        printf '  "import": null,\n'
    fi
    printf '  "results": [\n'
    for r in "${ROWS[@]}"; do
        IFS='|' read -r id label path rps p99 ratio total non2xx errs <<<"$r"
        printf '%s    {"id": %s, "target": %s, "path": %s, "requests_per_sec": %s, "p99_ms": %s, "ratio": %s, "requests": %d, "non_2xx": %d, "socket_errors": %d}' \
            "$sep" "$(json_str "$id")" "$(json_str "$label")" "$(json_str "$path")" \
            "$rps" "$p99" "$ratio" "$total" "$non2xx" "$errs"
        sep=$',\n'
    done
    printf '\n  ]\n}\n'
}

# The file first: it is complete even when stdout is cut short (| head).
RESULT_JSON=$(print_json)
if [ -n "${BENCH_OUT:-}" ]; then
    printf '%s\n' "$RESULT_JSON" >"$BENCH_OUT" || die "cannot write BENCH_OUT=$BENCH_OUT"
fi
print_table
echo
printf '%s\n' "$RESULT_JSON"
