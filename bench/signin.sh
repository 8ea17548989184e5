#!/usr/bin/env bash
# bench/signin.sh -- sign-in throughput: one-time codes issued per second and
# codes verified per second, through the JSON API of a real `souk serve`, with
# /healthz of the same server in the same run as the reference.
#
#   bench/signin.sh [BUILD_DIR]        (default: build, as made by `make build`)
#
# Each issued code is a write transaction (challenge row, rate counters, the
# outbox message) and each verification another (the challenge used up, the
# attempt counted); both are fsync-bound (synchronous=FULL) on most disks.  The
# store's per-IP limits are raised for the run, since wrk sends everything from
# one address; every other rule (codes per number, resend interval, tries) holds.
#
# Environment: BENCH_DURATION (10s), BENCH_CONNECTIONS (16), BENCH_THREADS (2),
# BENCH_WORKERS (nproc), BENCH_KEEP=1 keeps the temporary directory.
set -euo pipefail
export LC_ALL=C

readonly HOST=127.0.0.1
readonly START_TIMEOUT_S=30
readonly WRK_GRACE_S=30

BUILD_DIR=${1:-build}
DURATION_S=${BENCH_DURATION:-10s}
DURATION_S=${DURATION_S%s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-$(nproc)}
SOUK=$BUILD_DIR/core/souk

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ "$DURATION_S" =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION: expected whole seconds such as 10s"
[ -x "$SOUK" ] || die "$SOUK not found: build first (make build) or pass the build directory"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"

WORK=$(mktemp -d /tmp/souk-bench-signin.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM -- "-$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [ "${BENCH_KEEP:-0}" = 1 ] && say "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

STORE=$WORK/store
"$SOUK" init "$STORE" >/dev/null
cat >"$STORE/souk.lua" <<LUA
return {
  dev = true, locale = "en", locales = { "en", "ru" },
  plugins = { "notify", "auth" },
  settings = { auth = { codes_per_ip = 1000000, checks_per_ip = 1000000 } },
}
LUA

setsid "$SOUK" serve "$STORE" --listen "$HOST:0" --workers "$WORKERS" >"$WORK/serve.log" 2>&1 &
PID=$!
PORT=""
for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
    PORT=$(grep -m1 -o "serving http://$HOST:[0-9]*" "$WORK/serve.log" | sed 's/.*://' || true)
    [ -n "$PORT" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "souk serve exited"; }
    sleep 0.1
done
[ -n "$PORT" ] || die "souk serve did not start (see $WORK/serve.log)"
sleep 0.5 # every worker ready
URL=http://$HOST:$PORT

# Issue: every request a new number (thread number and a counter), so that the
# per-number limits never refuse one.
cat >"$WORK/issue.lua" <<'LUA'
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local n = 0
function request()
  n = n + 1
  local body = string.format('{"phone":"+7900%d%06d"}', id, n)
  return wrk.format("POST", "/api/v1/auth/code", { ["Content-Type"] = "application/json" }, body)
end
LUA

# Verify: the challenges and codes issued above, each used once; thread k takes
# every THREADS-th line from line k.
cat >"$WORK/verify.lua" <<LUA
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local pairs_ = {}
function init(args)
  local i = 0
  for line in io.lines("$WORK/pairs.txt") do
    if i % $THREADS == id then pairs_[#pairs_ + 1] = line end
    i = i + 1
  end
end
local n = 0
function request()
  n = n + 1
  local line = pairs_[n] or pairs_[#pairs_]
  local c, code = line:match("(%S+) (%S+)")
  local body = string.format('{"challenge":"%s","code":"%s"}', c, code)
  return wrk.format("POST", "/api/v1/auth/verify", { ["Content-Type"] = "application/json" }, body)
end
LUA

run_wrk() { # NAME SECONDS ARGS...: prints "rps total non2xx"
    local name=$1 secs=$2
    shift 2
    timeout --foreground $((secs + WRK_GRACE_S)) wrk -t"$THREADS" -c"$CONNECTIONS" \
        -d"$secs"s "$@" >"$WORK/wrk-$name.txt" 2>&1 || { cat "$WORK/wrk-$name.txt" >&2; die "wrk $name failed"; }
    awk '/^Requests\/sec:/ { r = $2 } / requests in / { t = $1 } /Non-2xx/ { e = $NF }
         END { printf "%s %d %d\n", r, t, e + 0 }' "$WORK/wrk-$name.txt"
}

say "reference: GET /healthz"
read -r REF_RPS _ _ < <(run_wrk healthz "$DURATION_S" "$URL/healthz")
say "issuing codes for ${DURATION_S}s"
read -r ISSUE_RPS ISSUE_N ISSUE_BAD < <(run_wrk issue "$DURATION_S" -s "$WORK/issue.lua" "$URL")

python3 - "$STORE/data/souk.db" "$WORK/pairs.txt" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
codes = {}
for to, body in db.execute("SELECT recipient, body FROM notify_outbox"):
    m = re.search(r"\b(\d{6})\b", body)
    if m:
        codes[to] = m.group(1)
with open(sys.argv[2], "w") as out:
    for pid, dest in db.execute("SELECT public_id, destination FROM auth_challenge "
                                "WHERE used_at IS NULL ORDER BY id"):
        if dest in codes:
            out.write(f"{pid} {codes[dest]}\n")
PY
PAIRS=$(wc -l <"$WORK/pairs.txt")
[ "$PAIRS" -gt 0 ] || die "no codes found in the outbox"
# A third of the time, so that the codes issued above last (verifying is not
# much faster than issuing); if they still run out, the figure is a lower bound.
VERIFY_S=$(((DURATION_S + 2) / 3))
say "verifying codes for ${VERIFY_S}s ($PAIRS codes available)"
read -r VERIFY_RPS VERIFY_N VERIFY_BAD < <(run_wrk verify "$VERIFY_S" -s "$WORK/verify.lua" "$URL")
VERIFY_OK=$((VERIFY_N - VERIFY_BAD))
[ "$VERIFY_N" -le "$PAIRS" ] || say "note: the codes ran out; the verify figure (good ones only) is a lower bound"
VERIFY_GOOD_RPS=$(awk -v n="$VERIFY_OK" -v d="$VERIFY_S" 'BEGIN { printf "%.0f", n / d }')

printf '%-36s %12s %10s\n' target "req/s" "vs healthz"
printf '%-36s %12.0f %10.2f\n' "GET /healthz (reference)" "$REF_RPS" 1
printf '%-36s %12.0f %10.3f\n' "codes issued (POST auth/code)" "$ISSUE_RPS" "$(awk -v a="$ISSUE_RPS" -v b="$REF_RPS" 'BEGIN{print a/b}')"
printf '%-36s %12.0f %10.3f\n' "codes verified (POST auth/verify)" "$VERIFY_GOOD_RPS" "$(awk -v a="$VERIFY_GOOD_RPS" -v b="$REF_RPS" 'BEGIN{print a/b}')"
[ "$ISSUE_BAD" -eq 0 ] || say "warning: $ISSUE_BAD of $ISSUE_N code requests were refused"
