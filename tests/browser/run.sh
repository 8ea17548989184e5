#!/usr/bin/env bash
# tests/browser/run.sh [TEST.mjs] -- the shop's pages in headless Chromium.
#
# Installs what is missing (Debian's chromium with apt-get when run as root;
# playwright-core from package-lock.json into tests/browser/node_modules), makes
# a demo store with `souk init --demo`, serves it on an ephemeral loopback port,
# runs TEST.mjs (default catalog.test.mjs; auth.test.mjs is the other) on a
# phone-sized and a desktop-sized viewport and stops the server.  Prints
# "N passed, N failed"; exits non-zero on any failure.  The test script gets
# SOUK_STORE (the store directory) and SOUK_BIN as well, for `souk outbox`.
#
# Environment:
#   SOUK_BIN        the souk binary (default: souk on PATH)
#   SOUK_BUILD_DIR  the build directory; screenshots go to
#                   $SOUK_BUILD_DIR/browser-screenshots (-auth for auth.test.mjs)
#                   (default: two levels above SOUK_BIN, i.e. build/ for
#                   build/core/souk)
#   CHROMIUM        the browser (default /usr/bin/chromium)
#   ONLY            run only the tests whose name contains this text
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TEST=${1:-catalog.test.mjs}
SOUK_BIN=${SOUK_BIN:-souk}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NODE_MAJOR_MIN=18                # playwright-core's "engines" (Debian 12 ships node 18)
START_TIMEOUT_S=30

if [ -z "${SOUK_BUILD_DIR:-}" ]; then
    if [[ "$SOUK_BIN" == */* ]]; then
        SOUK_BUILD_DIR=$(cd "$(dirname "$SOUK_BIN")/.." && pwd)
    else
        SOUK_BUILD_DIR=$PWD
    fi
fi
SHOTS="$SOUK_BUILD_DIR/browser-screenshots"
[ "$TEST" = catalog.test.mjs ] || SHOTS="$SHOTS-${TEST%%.*}"
[ -f "$HERE/$TEST" ] || { echo "browser tests: no test script $HERE/$TEST" >&2; echo "0 passed, 1 failed"; exit 1; }

say() { echo "browser tests: $*" >&2; }
give_up() { say "$*"; echo "0 passed, 1 failed"; exit 1; }

apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        give_up "$1 is missing; install the Debian package(s): $*"
    fi
    say "installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ---------------------------------------------------------------- tools

[ -x "$CHROMIUM" ] || apt_install chromium
[ -x "$CHROMIUM" ] || give_up "no browser at $CHROMIUM"
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge "$NODE_MAJOR_MIN" ] ||
    give_up "node $node_major is too old: playwright-core needs node $NODE_MAJOR_MIN or newer"
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ] ||
   [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    say "installing playwright-core (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        give_up "npm ci failed in $HERE"
fi
command -v "$SOUK_BIN" >/dev/null || [ -x "$SOUK_BIN" ] || give_up "no souk binary at $SOUK_BIN"

# ---------------------------------------------------------------- store

WORK=$(mktemp -d "${TMPDIR:-/tmp}/souk-browser-XXXXXX")
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

t0=$(date +%s%N)
if ! "$SOUK_BIN" init "$WORK/store" --demo >"$WORK/init.log" 2>&1; then
    cat "$WORK/init.log" >&2
    give_up "souk init --demo failed"
fi
say "demo store made in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# ---------------------------------------------------------------- server

"$SOUK_BIN" serve "$WORK/store" --listen 127.0.0.1:0 --workers 2 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
URL=
for _ in $(seq $((START_TIMEOUT_S * 10))); do
    URL=$(grep -o 'serving http://[0-9.]*:[0-9]*' "$WORK/serve.log" | head -n 1 | cut -d' ' -f2 || true)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$URL" ]; then
    cat "$WORK/serve.log" >&2
    give_up "souk serve did not start"
fi
say "serving $URL; screenshots in $SHOTS"

# ---------------------------------------------------------------- tests

rm -rf "$SHOTS"
rc=0
SOUK_URL=$URL SCREENSHOT_DIR=$SHOTS CHROMIUM=$CHROMIUM SOUK_STORE="$WORK/store" SOUK_BIN="$SOUK_BIN" \
    node "$HERE/$TEST" |
    tee "$WORK/test.log" || rc=$?
if [ "$rc" != 0 ]; then
    say "server log (last lines other than the access log):"
    grep -v 'kind=access' "$WORK/serve.log" | tail -n 20 >&2 || true
    tail -n 1 "$WORK/test.log" # the summary stays the last line
fi
exit "$rc"
