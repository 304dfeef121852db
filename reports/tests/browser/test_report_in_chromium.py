"""report.html and comparison.html as a reader sees them: opened from disk
in headless Chromium (Debian's /usr/bin/chromium), with no console error,
every chart drawn at a visible size, the flamegraph's own script running,
and markup from results shown as text. Screenshots are kept in
target/browser/ for a person to look at.
"""

import json
import os
import shutil
import subprocess

import pytest
from playwright.sync_api import sync_playwright

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "reports", "tests", "fixtures")
BIN = os.path.abspath(os.environ.get("GENBENCH_BIN", os.path.join(ROOT, "target", "debug", "genbench")))
SHOTS = os.path.join(ROOT, "target", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's
# hosts, which a closed network refuses; none of it is the page's doing.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

COMMON = ["latency-over-time", "latency-distribution", "throughput-errors", "stages",
          "cache-hit-rate", "cpu", "rss", "cost"]
EXPECTED = {
    "baseline": COMMON + ["flamegraph"],
    "stress": COMMON + ["capacity", "flamegraph"],
    "spike": COMMON + ["spike", "flamegraph"],
    "soak-leak": COMMON,
}
XSS = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (bash .ci/test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def render(tmp_path, name, result=None):
    """Writes a fixture (or `result`) as results.json, with the flamegraph
    beside it when it names one, and renders it with `genbench report`."""
    run = tmp_path / name
    run.mkdir()
    if result is None:
        with open(os.path.join(FIXTURES, f"{name}.json")) as f:
            result = json.load(f)
    (run / "results.json").write_text(json.dumps(result))
    if (result.get("artifacts") or {}).get("flamegraph_svg"):
        shutil.copy(os.path.join(FIXTURES, "flamegraph.svg"), run / "flamegraph.svg")
    subprocess.run([BIN, "report", str(run / "results.json")], check=True, capture_output=True)
    return run / "report.html"


def open_page(browser, path, height=900):
    page = browser.new_page(viewport={"width": 1100, "height": height})
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(f"file://{path}")
    page.wait_for_load_state("load")
    return page, problems


def drawn_charts(page):
    """data-chart names of figures whose SVG or frame has a visible size."""
    return page.eval_on_selector_all(
        "figure[data-chart]",
        """els => els.filter(e => {
            const c = e.querySelector('svg, iframe');
            if (!c) return false;
            const r = c.getBoundingClientRect();
            return r.width > 300 && r.height > 150;
        }).map(e => e.dataset.chart)""",
    )


def screenshot(browser, page, name):
    """The whole page, from a second load in a window as tall as it: a
    full-page capture resizes the window mid-page, and the flamegraph's own
    script then logs a resize error that no reader's window would cause."""
    height = page.evaluate("document.documentElement.scrollHeight")
    url = page.url
    page.close()
    tall, problems = open_page(browser, url.removeprefix("file://"), height=min(height, 16000))
    tall.wait_for_timeout(500)
    os.makedirs(SHOTS, exist_ok=True)
    tall.screenshot(path=os.path.join(SHOTS, name))
    tall.close()
    assert not problems, f"{name}: {problems}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_opens_clean_with_every_chart(browser, tmp_path, name):
    page, problems = open_page(browser, render(tmp_path, name))
    charts = drawn_charts(page)
    missing = [c for c in EXPECTED[name] if c not in charts]
    assert not missing, f"{name}: charts not drawn: {missing} (drawn: {charts})"
    if "flamegraph" in EXPECTED[name]:
        # The flamegraph's script ran inside its frame: it draws frames
        # named after functions, and sizes them to the frame's width.
        frame = page.frame_locator("figure[data-chart=flamegraph] iframe")
        frame.locator("#frames g").first.wait_for(state="attached", timeout=10_000)
        width = frame.locator("#frames").evaluate("e => parseFloat(e.getAttribute('width'))")
        assert width > 300, f"flamegraph frames container is {width} px wide"
        # Click to zoom: the flamegraph shows its "Reset Zoom" button, and
        # nothing throws. Search asks for a term in a prompt.
        click = "e => e.dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        frame.locator("#frames g rect").nth(3).evaluate(click)
        zoomed = frame.locator("#unzoom").evaluate("e => !e.classList.contains('hide')")
        assert zoomed, "clicking a frame did not zoom"
        asked = []
        page.once("dialog", lambda d: (asked.append(d.type), d.dismiss()))
        frame.locator("#search").evaluate(click)
        page.wait_for_timeout(200)
        assert asked == ["prompt"], f"search asked {asked}"
    page.wait_for_timeout(300)
    assert not problems, f"{name}: {problems}"
    screenshot(browser, page, f"report-{name}.png")


def test_markup_in_results_shows_as_text(browser, tmp_path):
    with open(os.path.join(FIXTURES, "baseline.json")) as f:
        r = json.load(f)
    r["scenario"]["name"] = XSS
    r["errors"]["by_kind"][XSS] = 3
    r["stages"][XSS] = next(iter(r["stages"].values()))
    r["thresholds"][0]["expr"] = XSS
    r["cost"]["by_model"][XSS] = 0.5
    page, problems = open_page(browser, render(tmp_path, "hostile", r))
    assert page.evaluate("window.__xss") is None, "markup from results.json ran as script"
    text = page.inner_text("body")
    assert "<script>window.__xss=1</script>" in text, "the hostile string is not shown as text"
    assert page.locator("main img").count() == 0, "markup from results.json became an element"
    assert not problems, problems
    page.close()


def test_comparison_opens_clean(browser, tmp_path):
    paths = []
    for name in ("baseline", "stress", "spike"):
        d = tmp_path / name
        d.mkdir()
        shutil.copy(os.path.join(FIXTURES, f"{name}.json"), d / "results.json")
        paths.append(str(d / "results.json"))
    out = tmp_path / "comparison.html"
    subprocess.run([BIN, "compare", *paths, "--out", str(out)], check=True, capture_output=True)
    page, problems = open_page(browser, out)
    charts = drawn_charts(page)
    assert "latency-curves" in charts and "cost-vs-p95" in charts, charts
    assert page.locator("table[data-table=comparison] td.worse, table[data-table=comparison] td.better").count() > 0
    assert not problems, problems
    screenshot(browser, page, "comparison.png")
