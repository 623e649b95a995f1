#!/usr/bin/env python3
"""Registration answers for new and known addresses: same answer, same time?

Issue 8 asks that `POST /forms/membership` answers the same whether or not the address
is registered, by content and by timing. This starts the release build on the test
fixture (rate limit high), registers new addresses and already-known ones in turn, and
prints each group's median and p90 time and their ratio. Not a test: figures.

    cargo build --release -p form-service
    python3 form-service/benches/registration_timing.py [N]   # N pairs, default 200
    python3 form-service/benches/registration_timing.py [N] --link   # POST /members/link instead
    BIN=/path/to/form-service python3 form-service/benches/registration_timing.py
"""
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
fixture = os.path.join(repo, "form-service", "tests", "fixtures", "site")
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
binary = os.environ.get("BIN", os.path.join(target, "release", "form-service"))
args = [a for a in sys.argv[1:] if not a.startswith("--")]
pairs = int(args[0]) if args else 200
# Issue 13: "email me a link" must take the same time for any address, too.
link_mode = "--link" in sys.argv

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]

with tempfile.TemporaryDirectory() as data:
    server = subprocess.Popen(
        [binary, "serve", "--config", os.path.join(fixture, "site.yaml"), "--data-dir", data,
         "--site-dir", os.path.join(fixture, "dist"), "--listen", f"127.0.0.1:{port}"],
        stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)

        def post(path, body):
            c = http.client.HTTPConnection("127.0.0.1", port)
            t = time.perf_counter()
            c.request("POST", path, body, {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": "https://www.themedicalspa.example"})
            r = c.getresponse()
            r.read()
            took = time.perf_counter() - t
            c.close()
            return (r.status, r.getheader("Location")), took

        def register(email):
            return post("/forms/membership", f"name=T&email={email}&referral=&consent=yes&website=")

        def ask_link(email):
            return post("/members/link", f"email={email}")

        # Each known address is asked for once more: under the per-address email limit,
        # so its answer really sends a link.
        known = [f"known{i}@example.com" for i in range(pairs)]
        for e in known:
            register(e)
        random.shuffle(known)
        times = {"new": [], "known": []}
        answers = set()
        timed = ask_link if link_mode else register
        for i in range(pairs):
            a, t = timed(f"new{i}@example.com")
            times["new"].append(t)
            answers.add(a)
            a, t = timed(known[i])
            times["known"].append(t)
            answers.add(a)
        med = {}
        for k, v in times.items():
            v.sort()
            med[k] = statistics.median(v)
            print(f"{k:5} addresses: {len(v)} posts, median {med[k] * 1000:.2f} ms, "
                  f"p90 {v[int(len(v) * 0.9)] * 1000:.2f} ms")
        print(f"known/new median ratio: {med['known'] / med['new']:.2f}")
        print(f"distinct answers: {len(answers)} {sorted(answers)}")
    finally:
        server.terminate()
        server.wait()
