"""bench/multicore.sh's body: wrk and genbench side by side, each client on
its own cores, against nginx (a 3-byte body and the mock's 753-byte JSON
model list, served as a file) and against `genbench mock` (which answers one
request at a time); then genbench's streaming client against the mock at
several concurrencies. Prints req/s, CPU per request (the client's user +
system time, from getrusage) and the ratio to wrk for each row.

Not a test: it prints figures. Env: see bench/multicore.sh.
"""
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time

GENBENCH = os.environ["GENBENCH"]
DURATION = int(os.environ.get("DURATION", "10"))
CONNS = int(os.environ.get("CONNECTIONS", "256"))
CORES = sorted(os.sched_getaffinity(0))
CLIENTS = [int(c) for c in os.environ.get("CLIENTS", "1" if len(CORES) <= 3 else "1 4 8").split()]
STREAMS = [int(s) for s in os.environ.get("STREAMS", "1 100 1000 2500").split()]
OUT = pathlib.Path(os.environ.get("OUT") or tempfile.mkdtemp(prefix="genbench-multicore-"))
HERE = pathlib.Path(__file__).resolve().parent


def cpus(cores):
    return ",".join(map(str, cores))


def split(c):
    """The last `c` cores for the client, the rest (at least one) for the server."""
    if c >= len(CORES):
        sys.exit(f"CLIENTS has {c}: this machine has {len(CORES)} cores, and the server needs one")
    return CORES[:-c], CORES[-c:]


def measured(cmd, cores, out):
    """Runs `cmd` pinned to `cores`, stdout into `out`: its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["taskset", "-c", cpus(cores), *cmd], stdout=open(out, "w"),
                   stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def wait_for(url):
    for _ in range(100):
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", url]).returncode == 0:
            return
        time.sleep(0.1)
    sys.exit(f"{url} did not answer")


def start_mock(cores, name):
    info = OUT / f"{name}.json"
    p = subprocess.Popen(["taskset", "-c", cpus(cores), GENBENCH, "mock", "--llm", "127.0.0.1:0",
                          "--search", "127.0.0.1:0", "--web", "127.0.0.1:0",
                          "--workers", str(len(cores))], stdout=open(info, "w"),
                         stderr=open(OUT / f"{name}.err", "w"))
    for _ in range(100):
        if info.stat().st_size:
            return p, json.loads(info.read_text().splitlines()[0])["llm"]
        time.sleep(0.1)
    sys.exit(f"genbench mock did not start (see {OUT}/{name}.err)")


def start_nginx(cores, body):
    port, d = free_port(), OUT / f"nginx-{len(cores)}"
    d.mkdir(exist_ok=True)
    # nginx's workers run as another user: they must reach the file.
    for p in (OUT, d):
        p.chmod(0o755)
    (d / "models.json").write_bytes(body)
    (d / "nginx.conf").write_text(f"""worker_processes {len(cores)};
daemon on;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port};
    location = /tiny {{ return 200 "ok\\n"; }}
    location = /json {{ default_type application/json; alias {d}/models.json; }}
  }}
}}
""")
    nginx = os.environ.get("NGINX", "/usr/sbin/nginx")
    subprocess.run(["taskset", "-c", cpus(cores), nginx, "-c", str(d / "nginx.conf"), "-p", str(d)], check=True)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/tiny")
    return d / "nginx.pid", url


def scenario(path, users):
    f = OUT / f"get-{path.strip('/').replace('/', '-')}-{users}.toml"
    f.write_text(f"""name = "multicore"
kind = "custom"
description = "{users} users, no think time, GET {path}."
[load]
model = "closed"
think_time = "0s"
stages = "{users},1ms;{users},{DURATION}s"
timeout = "10s"
[request]
method = "GET"
path = "{path}"
""")
    return f


def row(name, c, url, path):
    """One target on `c` client cores: wrk, then genbench."""
    _, client = split(c)
    subprocess.run(["taskset", "-c", cpus(client), "wrk", f"-t{c}", f"-c{CONNS}", "-d1s", url + path],
                   stdout=subprocess.DEVNULL, check=False)
    tag = re.sub(r"[^A-Za-z0-9]+", "-", f"{name}-{c}")
    wrk_cpu = measured(["wrk", f"-t{c}", f"-c{CONNS}", f"-d{DURATION}s", url + path], client, OUT / f"{tag}.wrk")
    text = (OUT / f"{tag}.wrk").read_text()
    wrk_n = int(re.search(r"(\d+) requests in", text).group(1))
    wrk_s = float(re.search(r"requests in ([\d.]+)s", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if bad:
        sys.exit(f"{name}: wrk had {bad.group(1)} error responses ({OUT}/{tag}.wrk)")
    res = OUT / f"{tag}.genbench"
    gb_cpu = measured([GENBENCH, "run", str(scenario(path, CONNS)), "--target", url, "--profile", "off",
                       "--out", str(res)], client, OUT / f"{tag}.out")
    r = json.loads((res / "results.json").read_text())
    gb_n, gb_failed = r["requests"]["total"], r["requests"]["failed"]
    w, g = wrk_cpu / wrk_n * 1e6, gb_cpu / gb_n * 1e6
    print(f"{name:<22} {c:>3} {wrk_n / wrk_s:>11.0f} {w:>8.2f} {r['throughput_rps']:>11.0f} {g:>8.2f}"
          f" {g / w:>6.2f}x {gb_failed:>6}", flush=True)


def requests_part(models_body):
    print(f"client CPU per request, {CONNS} connections, {DURATION} s each; cores {cpus(CORES)}")
    print(f"{'target':<22} {'C':>3} {'wrk req/s':>11} {'us/req':>8} {'gb req/s':>11} {'us/req':>8}"
          f" {'gb/wrk':>7} {'failed':>6}")
    for c in CLIENTS:
        server, _ = split(c)
        pid, url = start_nginx(server, models_body)
        mock, llm = start_mock(server, f"mock-{c}")
        try:
            row("nginx 3 B", c, url, "/tiny")
            row(f"nginx {len(models_body)} B json", c, url, "/json")
            row(f"mock x{len(server)} /v1/models", c, llm, "/v1/models")
        finally:
            subprocess.run(["kill", pid.read_text().strip()], check=False)
            mock.kill()
            mock.wait()


def streams_part():
    c = CLIENTS[-1]
    server, client = split(c)
    mock, llm = start_mock(server, "mock-streams")
    print(f"\nstreaming: genbench on {c} core(s), the mock on {len(server)}; gpt-4o-mini's pace, 100 tokens,"
          f" {DURATION} s per level")
    print(f"{'streams':>8} {'TPOT p50':>9} {'ITL p50':>9} {'ITL p99':>9} {'client CPU':>11} {'limited':>8}")
    try:
        for n in STREAMS:
            res = OUT / f"streams-{n}"
            cpu = measured([GENBENCH, "run", str(HERE / "streams.toml"), "--target", llm, "--users", str(n),
                            "--duration", f"{DURATION}s", "--profile", "off", "--out", str(res)],
                           client, OUT / f"streams-{n}.out")
            r = json.loads((res / "results.json").read_text())
            m = r.get("llm") or {}
            q = lambda k, p: (m.get(k) or {}).get(p)
            limited = "yes" if r.get("generator_limited") else "no"
            print(f"{n:>8} {q('tpot_ms', 'p50') or 0:>9.2f} {q('itl_ms', 'p50') or 0:>9.2f}"
                  f" {q('itl_ms', 'p99') or 0:>9.2f} {cpu / r['duration_s']:>8.2f}/{c} {limited:>8}", flush=True)
    finally:
        mock.kill()
        mock.wait()


def main():
    mock, llm = start_mock(CORES[:1], "mock-body")
    try:
        body = subprocess.run(["curl", "-sf", llm + "/v1/models"], capture_output=True, check=True).stdout
    finally:
        mock.kill()
        mock.wait()
    print(f"bench/multicore.sh in {OUT}: {len(CORES)} cores, genbench {GENBENCH}", file=sys.stderr)
    requests_part(body)
    streams_part()


if __name__ == "__main__":
    main()
