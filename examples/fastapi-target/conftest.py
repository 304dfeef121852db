"""What the example service's tests share: the genbench binary,
`genbench mock` on ports the OS picks, and the service calling it."""

import json
import os
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(os.environ.get("GENBENCH_BIN", "target/debug/genbench"))


def ready_line(proc, what):
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{what} did not start")
    return json.loads(line)


def start_mock(time_scale):
    """`genbench mock` with its preset latencies scaled by `time_scale`."""
    p = subprocess.Popen([BIN, "mock", "--llm", "127.0.0.1:0", "--search", "127.0.0.1:0",
                          "--web", "127.0.0.1:0", "--time-scale", str(time_scale)],
                         stdout=subprocess.PIPE, text=True)
    return p, ready_line(p, "genbench mock")


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=10)


@pytest.fixture
def mock():
    p, urls = start_mock(0.05)
    yield urls
    stop(p)


@pytest.fixture
def service(mock):
    """The FastAPI service, calling the mock: its URL and pid."""
    env = {**os.environ, "LLM_BASE_URL": mock["llm"] + "/v1"}
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "serve.py")],
                         stdout=subprocess.PIPE, text=True, env=env)
    yield ready_line(p, "the FastAPI service")
    p.terminate()
    p.communicate(timeout=10)
