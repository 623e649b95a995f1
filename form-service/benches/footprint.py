#!/usr/bin/env python3
"""Footprint of the form service (issue 14 points 7-8): binary size, start-up time, memory
at idle and after a burst of durable posts, and the posts per second the burst reached.
Not a test: it prints figures. Run from the repository root after a release build:

    cargo build --release -p form-service
    python3 form-service/benches/footprint.py              # 20 clients, 20 s burst
    CLIENTS=40 SECONDS=30 python3 form-service/benches/footprint.py
    BIN=/path/to/form-service python3 form-service/benches/footprint.py

Each post is a real consultation request: validated, stored in SQLite (synchronous=FULL),
its staff email queued in the same commit, then written by the outbox as an .eml file.
The clients are Python threads on the same machine, so posts/s is a floor, not a ceiling
(form-service/benches/run.sh measures throughput with wrk).
"""
import json, os, shutil, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("BIN", os.path.join(ROOT, "target/release/form-service"))
FIXTURE = os.path.join(ROOT, "form-service/tests/fixtures/site")
CLIENTS = int(os.environ.get("CLIENTS", "20"))
SECONDS = float(os.environ.get("SECONDS", "20"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data else 0


def health(port):
    return request(port, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")


def post(port, i):
    body = json.dumps({"name": f"Load {i}", "email": f"load{i}@example.com",
                       "contact_method": "email", "service": "laser-hair-removal",
                       "consent": "yes", "website": ""}).encode()
    head = (f"POST /forms/consultation HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return request(port, head.encode() + body)


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def folder_bytes(root):
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:  # an .eml being renamed as we look
                pass
    return total


def site_without_rate_limit(work):
    """The fixture site with the per-address limit off: every client here is 127.0.0.1."""
    with open(os.path.join(FIXTURE, "site.yaml")) as f:
        yaml = f.read()
    yaml = yaml.replace("rate_limit: {per_minute: 6000, burst: 1000}", "rate_limit: {per_minute: 0, burst: 1}")
    assert "per_minute: 0" in yaml, "the fixture's rate_limit line moved"
    with open(os.path.join(work, "site.yaml"), "w") as f:
        f.write(yaml)
    os.symlink(os.path.join(FIXTURE, "content"), os.path.join(work, "content"))
    return os.path.join(work, "site.yaml")


def main():
    work = tempfile.mkdtemp(prefix="fs-footprint-")
    data = os.path.join(work, "data")
    config = site_without_rate_limit(work)
    port = free_port()
    size = os.path.getsize(BIN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [BIN, "serve", "--config", config, "--data-dir", data,
         "--site-dir", os.path.join(FIXTURE, "dist"), "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"})
    try:
        while True:
            try:
                if health(port) == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - started > 20:
                sys.exit("the service did not start")
            time.sleep(0.001)
        startup = time.perf_counter() - started
        time.sleep(2)  # let it settle: this is the idle figure, not a synchronisation
        idle = rss_kb(proc.pid, "VmRSS")

        count, errors, stop = [0], [0], time.perf_counter() + SECONDS
        lock = threading.Lock()

        def client(n):
            i = n * 10_000_000
            while time.perf_counter() < stop:
                i += 1
                ok = post(port, i) == 201
                with lock:
                    if ok:
                        count[0] += 1
                    else:
                        errors[0] += 1

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        burst_rss, peak = rss_kb(proc.pid, "VmRSS"), rss_kb(proc.pid, "VmHWM")
        rate = count[0] / elapsed
        print(f"binary:            {size / 1e6:.1f} MB ({BIN})")
        print(f"start-up:          {startup * 1000:.0f} ms (spawn to first /health answer, empty data folder)")
        print(f"idle RSS:          {idle / 1024:.1f} MiB")
        print(f"after the burst:   {burst_rss / 1024:.1f} MiB RSS, peak {peak / 1024:.1f} MiB")
        print(f"burst:             {count[0]} posts acknowledged in {elapsed:.1f} s by {CLIENTS} clients"
              f" = {rate:.0f} posts/s ({errors[0]} other answers)")
        print(f"                   = {rate * 86400 / 1e6:.1f} million posts/day at that rate")
        size_now = folder_bytes(data)
        print(f"data folder:       {size_now / 1e6:.1f} MB ({size_now / max(count[0], 1) / 1024:.1f} KB per post,"
              f" database and .eml files)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
