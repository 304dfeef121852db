"""`genbench record` in front of a service genbench did not write: a client
talks to the FastAPI example through the proxy, with credentials; the trace
holds every request but none of the credentials, and replaying it sends
the service the same requests."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import BIN

SECRETS = ("Bearer staging-secret", "session=abc123", "key-0042")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, topic):
    body = json.dumps({"topic": topic, "target_length": 120}).encode()
    req = urllib.request.Request(url + "/api/v1/generate-article", data=body, method="POST")
    req.add_header("content-type", "application/json")
    req.add_header("authorization", SECRETS[0])
    req.add_header("cookie", SECRETS[1])
    req.add_header("x-api-key", SECRETS[2])
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        return body.decode()


def record(service_url, trace, topics):
    """Sends `topics` through `genbench record`; the bodies sent."""
    port = free_port()
    proxy = subprocess.Popen([BIN, "record", "--listen", f"127.0.0.1:{port}",
                              "--upstream", service_url, "--out", str(trace)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "genbench record:" in proxy.stderr.readline()
    sent = []
    for t in topics:
        sent.append(post(f"http://127.0.0.1:{port}", t))
        time.sleep(0.05)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
    proxy.send_signal(signal.SIGINT)
    out, err = proxy.communicate(timeout=30)
    assert proxy.returncode == 0, out + err
    assert f"recorded {len(topics) + 1} requests" in out, out
    assert f"{3 * len(topics)} credential headers left out" in out, out
    return sent


def test_a_recorded_trace_replays_to_the_same_requests_without_credentials(service, tmp_path):
    trace = tmp_path / "staging.jsonl"
    topics = ["tidal energy", "soil carbon", "tidal energy", "coral restoration", "high-speed rail"]
    sent = record(service["url"], trace, topics)

    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [(x["method"], x["path"]) for x in rows][-1] == ("GET", "/metrics")
    assert all(x["status"] == 200 and x["latency_ms"] > 0 for x in rows)

    # Replay it against the service at 4x, keeping genbench's own records.
    scenario = tmp_path / "replay.toml"
    scenario.write_text(f"""name = "recorded"
[load]
model = "replay"
[load.replay]
file = "{trace}"
format = "jsonl"
time_scale = 4.0
[request]
path = "/"
""")
    records = tmp_path / "replayed.jsonl"
    run = subprocess.run([BIN, "run", str(scenario), "--target", service["url"],
                          "--records", str(records), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    r = json.loads((tmp_path / "out" / "results.json").read_text())
    assert r["requests"]["failed"] == 0
    assert r["replay"]["sent"] == len(topics) + 1
    replayed = sorted((json.loads(line) for line in records.read_text().splitlines()),
                      key=lambda x: x["scheduled_s"])
    got = [(x["method"], x["path"], x["body"]) for x in replayed]
    want = [("POST", "/api/v1/generate-article", b) for b in sent] + [("GET", "/metrics", None)]
    assert got == want

    # No credential anywhere: the trace, the replay's records, its results.
    for path in (trace, records, tmp_path / "out" / "results.json"):
        assert not any(s in path.read_text() for s in SECRETS), path
    assert all(not {"authorization", "cookie", "x-api-key"} & set(x["headers"]) for x in rows)
    assert rows[0]["headers"]["content-type"] == "application/json"
