#!/usr/bin/env bash
# Benchmark (issue 3 point 11): durable submissions per second and p99 latency at 64
# connections, against the same build's /health in the same run. Not a test: it
# prints figures. Needs wrk (apt-get install wrk) and python3.
#
#   form-service/benches/run.sh            # 10 s per run
#   DURATION=30s CONNECTIONS=64 form-service/benches/run.sh
#   RUST_LOG=warn form-service/benches/run.sh   # without the per-request info log
#   RUST_LOG=warn,form_service::store=trace BENCH_LOG=/tmp/svc.log form-service/benches/run.sh
#       # keeps the log: one line per committed batch with its size and timings
#   BIN=/path/to/older/form-service form-service/benches/run.sh   # another build, unbuilt
#
# Figures (2-core VM shared with wrk and other agents' builds, load 4-5; alternating runs
# of `BIN=... form-service/benches/run.sh`, RUST_LOG at its default, info):
#   971e79f (first writer):   health 56-80k req/s; submissions 2.4-3.3k req/s, p99 59-77 ms
#   8de404f (rewind writer):  health 45-79k req/s; submissions 4.9-8.7k req/s, p99 32-136 ms
#   b24b668 (this writer):    health 70-91k req/s; submissions 9.0-10.0k req/s, p99 30 ms
# Service CPU per request, from /proc during an 8 s wrk run: /health 14 us; a post 178 us
# before b24b668, 148 us after (writer 43 -> 31 us, checkpoints 9 -> 7 us, the rest is
# the handler and the .eml outbox on tokio's threads).
#
# Target (issue 3 point 11: a third of /health, p99 under 15 ms) NOT met, and not
# reachable on this machine, for two reasons that each suffice:
# 1. CPU. /health runs at 70-91k req/s, so a third is 23-30k posts/s. Two cores, with
#    wrk's ~13 us per request, leave at most 2 s / (148 + 13) us = 12.4k posts/s. A post
#    costs ten times /health because it does ten times the work: validation, the staff
#    email rendered with lettre, a SQLite transaction with WAL pages written and synced,
#    and an .eml file created, fsynced and renamed. That file alone is ~27% of the
#    service's CPU in `perf` (ext4 here runs without a journal: inode allocation scans
#    recently deleted inodes, ~10%; fsync writes the inode synchronously, ~13%; rename
#    ~4%), and during a run the outbox writes only ~30% of the emails (21k of 72k after
#    8 s; the rest within 5 s after), so the steady-state cost per post is higher still.
# 2. The disk, when it is slow. fsync on this VM's disk takes 3.9 ms at the median (a
#    probe of fdatasync after 16 KB writes: 0.2 ms at best, 12 ms at worst, whatever the
#    size). A request is answered only after a commit that started after it arrived, so
#    with 64 connections Little's law caps the rate at 64 / 3.9 ms = 16.4k req/s at that
#    median even with zero CPU per request; 23-30k req/s needs a mean latency of 2.1-2.8
#    ms. (Commits averaged 1.7 ms in the traced run below and 4.6 ms in an earlier one.)
#    The p99 of 30 ms is CPU queueing, not commits: commits took 1.7 ms on average (p99
#    5 ms), and the rest of a request's 7.4 ms mean is waiting for a core.
#    With the .eml files out of the way (SMTP_URL=smtp://127.0.0.1:9 SMTP_ALLOW_PLAIN=1: each
#    email is tried once against a closed port and waits a minute), posts run at 9.0-10.4k
#    req/s with the same p99 of 28 ms: the request path itself is what the cores run out on.
#    b24b668 also made each batch wait (up to a quarter of the last commit, 2 ms at most)
#    for as many jobs as the last commit answered, so that busy clients would share one
#    commit instead of alternating between two. It made no measurable difference while
#    the cores are the limit (three alternating runs each: 8.3-9.8k req/s without it,
#    8.9-9.6k with; p99 26-29 ms both), so it was taken out again.
# Measured with the trace log below (RUST_LOG=warn,form_service::store=trace): batches of
# 28 jobs on average, up to 64; a commit every 3 ms.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
threads="${THREADS:-2}"
port="${PORT:-3917}"
target="${CARGO_TARGET_DIR:-$repo/target}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

if [ -n "${BIN:-}" ]; then
  bin="$BIN"
else
  cargo build --release -q -p form-service --manifest-path "$repo/Cargo.toml"
  bin="$target/release/form-service"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "${BENCH_LOG:-}" ]; then cp "$work/service.log" "$BENCH_LOG"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The fixture site, with the per-address limit off: every request comes from 127.0.0.1.
cp -r "$repo/form-service/tests/fixtures/site" "$work/site"
sed -i 's/rate_limit: {per_minute: 6000, burst: 1000}/rate_limit: {per_minute: 0, burst: 1}/' "$work/site/site.yaml"
grep -q 'per_minute: 0' "$work/site/site.yaml"

RUST_LOG="${RUST_LOG:-info}" "$bin" serve --config "$work/site/site.yaml" --data-dir "$work/data" \
  --site-dir "$work/site/dist" --listen "127.0.0.1:$port" 2>"$work/service.log" &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

run() { wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@"; }

echo "== GET /health ($connections connections, $duration)"
run "http://127.0.0.1:$port/health" | tee "$work/health.txt"
echo
echo "== POST /forms/consultation, each answered after its commit ($connections connections, $duration)"
run -s "$here/submit.lua" "http://127.0.0.1:$port/forms/consultation" | tee "$work/submit.txt"

stored=$(python3 - "$work/data/forms.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select count(*) from submissions").fetchone()[0]
sent = db.execute("select count(*) from outbox where status = 'sent'").fetchone()[0]
print(f"{rows} (emails written so far: {sent})")
PY
)

python3 - "$work/health.txt" "$work/submit.txt" "$stored" <<'PY'
import re, sys
def figures(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, p99, int(errors.group(1)) if errors else 0
h, s = figures(sys.argv[1]), figures(sys.argv[2])
print()
print(f"health:      {h[0]:10.0f} req/s   p99 {h[1]:7.2f} ms")
print(f"submissions: {s[0]:10.0f} req/s   p99 {s[1]:7.2f} ms   non-2xx: {s[2]}   rows stored: {sys.argv[3]}")
print(f"ratio:       {s[0] / h[0]:.2f} of /health (target >= 0.33), p99 target < 15 ms")
PY
