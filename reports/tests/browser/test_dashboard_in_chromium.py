"""`genbench run --dashboard` as a person watches it: a real run against a
small service of the test's own (whose Server-Timing stage name is markup),
its live page opened in headless Chromium. The figures update while the
run goes, nothing is requested beyond the dashboard's own loopback origin,
the console stays clean, the target's strings are shown as text, and the
stop button ends the run as Ctrl-C does (interrupted, every file written).
"""

import http.server
import json
import os
import subprocess
import threading
import time

from test_report_in_chromium import ARGS, BIN, CHROMIUM, SHOTS, browser  # noqa: F401

XSS_STAGE = '<img src=x onerror="window.__xss=1">'


class Target(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a small JSON body and two stages, one of
    them named with markup."""

    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("server-timing", f"{XSS_STAGE};dur=3, db;dur=1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_run(tmp_path, target_url):
    scenario = tmp_path / "live.toml"
    scenario.write_text(
        'name = "live"\nkind = "custom"\ndescription = "20 req/s for 60 s."\n'
        '[load]\nmodel = "open"\nstages = "20,1ms;20,60s"\n[request]\nmethod = "GET"\npath = "/"\n'
    )
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [BIN, "run", str(scenario), "--target", target_url, "--profile", "off",
         "--dashboard", "127.0.0.1:0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = None
    for line in proc.stderr:
        if "live dashboard at " in line:
            url = line.split("live dashboard at ", 1)[1].strip()
            break
    assert url, "genbench never printed the dashboard's URL"
    threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
    return proc, url, out


def card(page, name):
    return page.eval_on_selector_all(
        "#genbench-report .card",
        "(cs, name) => { const c = cs.find(c => c.querySelector('.k').textContent === name);"
        " return c ? c.querySelector('.v').textContent : null; }",
        name)


def test_the_dashboard_updates_shows_markup_as_text_and_stops_the_run(browser, tmp_path):
    target = start_target()
    target_url = f"http://127.0.0.1:{target.server_address[1]}"
    proc, url, out = start_run(tmp_path, target_url)
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        problems, requested = [], []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url)
        # The page's CSP forbids eval, which wait_for_function needs.
        page.wait_for_selector("#genbench-report .card", timeout=15000)
        first = int(card(page, "requests"))
        time.sleep(3)
        second = int(card(page, "requests"))
        assert second > first > 0, f"requests did not rise: {first} then {second}"
        assert page.inner_text("#genbench-state") == "running"
        assert page.inner_text("#genbench-phase") == "stage 2 of 2: holding 20 req/s"
        assert page.inner_text("#genbench-last").startswith("last second: "), page.inner_text("#genbench-last")
        charts = page.eval_on_selector_all("figure[data-chart]", "fs => fs.map(f => f.dataset.chart)")
        for chart in ["latency-over-time", "throughput-errors", "stages"]:
            assert chart in charts, f"{chart} not drawn live: {charts}"
        # The target's stage name is text on the page, never an element.
        assert page.evaluate("window.__xss") is None
        assert page.locator('img[src="x"]').count() == 0
        assert XSS_STAGE in page.inner_text("#genbench-report")
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, "dashboard.png"), full_page=True)

        page.click("#genbench-stop")
        assert proc.wait(timeout=20) == 3, "a stopped run exits 3, as on Ctrl-C"
        deadline = time.monotonic() + 5
        while not page.inner_text("#genbench-state").startswith("run ended"):
            assert time.monotonic() < deadline, page.inner_text("#genbench-state")
            time.sleep(0.1)
        assert page.inner_text("#genbench-state") == "run ended: interrupted"
        final = int(card(page, "requests"))
        assert page.get_attribute("#genbench-final", "href").endswith("/run/report.html")
        assert problems == [], problems
        origin = url.rstrip("/")
        assert requested and all(r.startswith(origin) for r in requested), requested
    finally:
        if proc.poll() is None:
            proc.kill()
        target.shutdown()
    result = json.loads((out / "results.json").read_text())
    assert result["status"] == "interrupted"
    assert result["requests"]["ok"] >= second
    # The last frame shows what results.json says.
    assert final == result["requests"]["total"], (final, result["requests"])
    for f in ["report.html", "summary.md", "intervals.hlog"]:
        assert (out / f).exists(), f"{f} not written"
    assert XSS_STAGE in result["stages"], list(result["stages"])
