"""The dashboard in a real browser: Debian's headless chromium driven by Playwright, against
``hunch ui`` serving on a free port. Few and bounded; each failure shows the server's log.
Every page is shot at 1280x800 and its chart legends checked against its plot areas from
the DOM's boxes. Screenshots go to $HUNCH_SCREENSHOTS (default: hunch-ui-screenshots in
the temp folder).
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web.data import LONG_NAME, RLO, build, make_run

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``hunch ui`` in a subprocess; ``log()`` is its output so far, for failure messages."""

    def __init__(self, root: Path, log_path: Path, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if k != "HUNCH_RUN_DIR"} | {"HUNCH_DIR": str(root)}
        self.proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "ui", "--port", str(self.port), "--host", host],
                                     stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)

    def token(self) -> str:
        """The token a dashboard bound beyond loopback printed (waits for the line)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = re.search(r"\?token=([\w-]+)", self.log())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"hunch ui exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.1)
        pytest.fail(f"hunch ui printed no token:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"hunch ui exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/favicon.ico", timeout=2) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                if e.code == 401:  # up, and asking for its token
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"hunch ui did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], Any]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make install-test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    project, ids = build(tmp_path_factory.mktemp("browserproj"))
    forecasts(project)
    ids["rtl"] = make_run(project, {"lr": 0.5}, name=f"{RLO}evil seed 0", acc=0.1).id  # the names of finding 8
    ids["long_name"] = make_run(project, {"lr": 0.6}, name=LONG_NAME, acc=0.2).id
    server = Server(project.root, tmp_path_factory.mktemp("log") / "server.log")
    try:
        server.wait()
        yield server, ids, project
    finally:
        server.stop()


def forecasts(project: Any) -> None:
    """Twelve resolved forecasts, enough for the calibration page to draw its charts."""
    from hunchlab import predict

    for i in range(12):
        made = predict.add_forecast(f"claim {i}", 0.1 + 0.07 * i, "2999-01-01", project=project)
        predict.resolve(made["id"], "yes" if i % 3 else "no", project=project)


@pytest.fixture(scope="module")
def browser(site: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, site: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    server = site[0]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"a dialog opened: {d.message}"), d.dismiss()))
    yield pg
    context.close()
    if problems:
        pytest.fail("; ".join(problems) + f"\nserver log:\n{server.log()}")


def shot(page: Any, name: str) -> Path:
    folder = Path(os.environ.get("HUNCH_SCREENSHOTS") or Path(tempfile.gettempdir()) / "hunch-ui-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ink(page: Any, selector: str) -> int:
    """How many pixels of the first canvas under ``selector`` are drawn on (not transparent)."""
    return page.eval_on_selector(selector + " canvas", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def until(page: Any, script: str, arg: Any = None, timeout: float = 10) -> Any:
    """Poll ``script`` in the page until it returns something truthy (wait_for_function
    compiles its script with eval, which the dashboard's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script, arg)
        if value:
            return value
        page.wait_for_timeout(50)
    pytest.fail(f"still false after {timeout}s: {script}")


def drag(page: Any, chart: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag across a chart's plot area between two points given as fractions of its box."""
    box = page.locator(chart + " .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=5)
    page.mouse.up()


def test_runs_table_filter_and_open_a_run_with_a_drawn_chart(page, site):
    server, ids, _ = site
    page.goto(server.url + "/runs")
    assert page.locator("tr.run").count() == 11
    page.fill("input[name=where]", "model.width=64")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/runs?*where=model.width%3D64*")
    assert page.locator("tr.run").count() == 3 and page.locator("tr.group-head").count() == 1
    page.goto(server.url + "/runs?q=long")
    page.click(f"a[href='/runs/{ids['long']}']")
    chart = "figure.chart[data-title=loss]"
    page.wait_for_selector(chart + "[data-drawn]")
    assert ink(page, chart) > 500, "the chart's canvas is empty"
    assert "M4" in page.text_content(chart + " [data-points]")
    assert page.text_content(chart + " .u-axis:last-of-type") is not None
    x_before, y_before = page.get_attribute(chart, "data-x-range"), page.get_attribute(chart, "data-y-range")
    drag(page, chart, (0.6, 0.1), (0.6, 0.9))  # up-down: values only
    until(page, "([c, y]) => document.querySelector(c).dataset.yRange !== y", [chart, y_before])
    assert page.get_attribute(chart, "data-x-range") == x_before
    before = page.get_attribute(chart, "data-drawn")
    drag(page, chart, (0.49, 0.5), (0.51, 0.52))  # sideways: steps, refetched
    page.wait_for_selector(f"{chart}[data-drawn]:not([data-drawn='{before}'])")
    assert "M4" not in page.text_content(chart + " [data-points]"), "zoomed in, every point is shown"
    before = page.get_attribute(chart, "data-drawn")
    drag(page, chart, (0.49, 0.5), (0.51, 0.52))  # again: about 3 steps wide, where ticks of 0.5 would come
    page.wait_for_selector(f"{chart}[data-drawn]:not([data-drawn='{before}'])")
    ticks = page.get_attribute(chart, "data-x-ticks").replace(",", "").split()  # 2,992 2,993 ...
    assert len(ticks) >= 2 and all(re.fullmatch(r"-?\d+", t) for t in ticks), ticks
    steps = [int(t) for t in ticks]  # ticks at halves would read "2,993 2,993" (4 significant digits)
    assert all(b == a + 1 for a, b in zip(steps, steps[1:])), ticks
    shot(page, "run-zoomed")
    page.dblclick(chart + " .u-over")
    until(page, "c => document.querySelector(c).textContent.includes('M4')", chart + " [data-points]")
    page.click(chart + " button.toggle")  # log y, then smoothing over a faint raw line
    page.wait_for_selector(chart + " button.toggle[aria-pressed=true]")
    assert ink(page, chart) > 500
    page.fill("#smoothing", "0.9")
    page.dispatch_event("#smoothing", "input")
    assert "smoothed (EMA 0.9), raw line faint" in page.text_content(chart + " ul.legend")
    assert ink(page, chart) > 500


def test_a_chart_says_it_is_loading_until_its_points_arrive(page, site):
    server, ids, _ = site
    held: list[Any] = []
    page.route("**/series.json*", lambda route: held.append(route))
    page.goto(f"{server.url}/runs/{ids['long']}")
    chart = "figure.chart[data-title=loss]"
    page.wait_for_selector(chart + "[data-loading] .loading")
    assert page.text_content(chart + " .loading") == "loading…"
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.wait_for_selector(chart + "[data-drawn]:not([data-loading])")
    assert page.locator(chart + " .loading").count() == 0
    assert len(held) == 1, "the chart's first request is the one the page preloaded"


def test_compare_two_groups_from_the_table(page, site):
    server, _, _ = site
    page.goto(server.url + "/runs?where=spec%3Dexp")
    heads = page.locator("tr.group-head input[type=checkbox]")
    assert heads.count() == 2
    assert page.is_disabled("#compare-button")
    heads.nth(0).check()
    heads.nth(1).check()
    page.click("#compare-button")
    page.wait_for_url("**/compare?*")
    assert "Welch" in page.text_content("#comparison") and "McNemar" in page.text_content("#comparison")
    page.wait_for_selector("#curves figure.chart[data-drawn]")
    assert ink(page, "#curves figure.chart") > 500
    legend = page.locator("#curves figure.chart[data-title=loss] ul.legend li")  # one entry a side, not a line
    assert legend.count() == 2 and "each seed faint" in legend.nth(0).text_content()
    shot(page, "compare")


def test_tag_three_failures_with_the_keyboard(page, site):
    from hunchlab import triage

    server, ids, project = site
    run = ids["w16"]  # five failures
    page.goto(f"{server.url}/runs/{run}/triage")
    page.click("#draw-form button[type=submit]")  # no sample yet: drawing one is a POST
    page.wait_for_selector("#triage")
    page.keyboard.press("t")
    page.keyboard.type("off by one")
    page.keyboard.press("Enter")
    page.wait_for_url("**/triage?pos=1")
    page.keyboard.press("1")  # the first category, by its key
    page.wait_for_url("**/triage?pos=2")
    page.keyboard.press("t")
    page.keyboard.type("wrong format")
    page.keyboard.press("Enter")
    page.wait_for_selector("#categories tr[data-category='wrong format']")
    rows = page.locator("#categories tr[data-category]")
    assert [rows.nth(i).get_attribute("data-category") for i in range(rows.count())] == ["off by one", "wrong format"]
    shot(page, "triage")
    report = triage.categories(run, project=project)  # what `hunch categories` reads
    assert [(r.category, r.count) for r in report.rows] == [("off by one", 2), ("wrong format", 1)]


def test_model_output_with_markup_shows_as_text(page, site):
    server, ids, _ = site
    page.goto(f"{server.url}/runs/{ids['xss']}/examples")
    assert page.text_content("tr.example td.output").strip() == "<script>alert(1)</script>"
    assert page.locator("tr.example img").count() == 0
    shot(page, "examples-hostile")


LEFT_TO_RIGHT = """selector => {  // is the first text under selector laid out left to right?
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  let node = walker.nextNode();
  while (node && !node.textContent.trim()) node = walker.nextNode();
  const text = node.textContent, first = text.search(/\\S/), last = text.trimEnd().length - 1;
  const left = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                      return r.getBoundingClientRect().left; };
  return { text: text.trim(), ltr: left(first) < left(last) };
}"""


def test_a_right_to_left_override_in_a_name_does_not_reverse_what_follows(page, site):
    server, ids, _ = site
    page.goto(f"{server.url}/runs/{ids['rtl']}")
    assert page.evaluate(LEFT_TO_RIGHT, "#run-status") == {"text": "finished", "ltr": True}
    page.goto(f"{server.url}/runs?where=lr%3D0.5")
    assert page.evaluate(LEFT_TO_RIGHT, "tr.run td.status, tr.run .status") == {"text": "finished", "ltr": True}


# ------------------------------------------------------------------ every page at 1280x800

OVERLAPS = """() => {
  const box = e => e.getBoundingClientRect();
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const plots = [...document.querySelectorAll(".u-over, [data-plot-area]")].map(box);
  const legends = [...document.querySelectorAll("ul.legend")].map(box);
  const figures = [...document.querySelectorAll("figure.chart")];
  const problems = [];
  legends.forEach((l, i) => plots.forEach((p, j) => { if (hit(l, p)) problems.push(`legend ${i} covers plot ${j}`); }));
  figures.forEach((f, i) => {
    const own = box(f), column = box(f.parentElement);
    if (own.right > column.right + 1) problems.push(`chart ${i} (${f.dataset.title}) overflows its column`);
    figures.forEach((g, j) => { if (j > i && hit(own, box(g))) problems.push(`charts ${i} and ${j} overlap`); });
  });
  if (document.documentElement.scrollWidth > innerWidth + 1) problems.push("the page scrolls sideways");
  // A long name is cut: a run's row stays one or two lines, and its page shows the status on the first screen.
  document.querySelectorAll("tr.run").forEach(r => { if (box(r).height > 120) problems.push(`row ${r.id} is ${box(r).height}px tall`); });
  const status = document.querySelector("#run-status");
  if (status && (box(status).bottom > innerHeight || box(status).right > innerWidth)) problems.push("the run's status is off screen");
  return { plots: plots.length, legends: legends.length, problems };
}"""


def test_every_page_at_1280x800_keeps_legends_off_the_plots(page, site):
    server, ids, _ = site
    pages = {"runs": ("/runs", 0), "run": (f"/runs/{ids['long']}", 1),
             "compare": ("/compare?s=model.width%3D16&s=model.width%3D64", 2),  # loss and val_loss side by side
             "sweep": ("/sweep?where=spec%3Dexp", 2), "calibration": ("/calibration", 2),
             "journal": ("/journal", 0), "tree": ("/tree", 0), "examples": (f"/runs/{ids['xss']}/examples", 0),
             "triage": (f"/runs/{ids['w64']}/triage", 0), "run, 100 KB name": (f"/runs/{ids['long_name']}", 1),
             "run, right-to-left name": (f"/runs/{ids['rtl']}", 1)}
    for name, (path, charts) in pages.items():
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        until(page, "() => !document.querySelector('[data-loading]')")
        found = page.evaluate(OVERLAPS)
        shot(page, name)
        assert found["problems"] == [], (name, found)
        assert found["plots"] >= charts and found["legends"] >= charts, (name, found)
        assert page.locator(".chart-error").count() == 0, name


# ------------------------------------------------------------------ security, as a browser meets it


def test_another_local_page_cannot_change_the_failure_sample(page, site, tmp_path):
    """An <img> or a form on any page the user opens must not draw a new triage sample."""
    from hunchlab.store import open_store
    from hunchlab.store.triage import load_sample

    server, ids, project = site
    run = ids["xss"]
    hostile = tmp_path / "index.html"
    hostile.write_text(f'''<img src="{server.url}/runs/{run}/triage?sample=1&seed=9">
<form id="f" method="post" action="{server.url}/runs/{run}/samples"><input name="sample" value="1"></form>
<script>setTimeout(() => document.getElementById("f").submit(), 300)</script>''')
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        page.wait_for_url(f"{server.url}/**")  # the form went through to the dashboard ...
        assert "403" in page.text_content("h1")  # ... which refused it
    finally:
        evil.shutdown()
    with open_store(project) as store, store.read() as conn:
        assert load_sample(conn, run) is None


def test_two_token_dashboards_side_by_side_keep_their_own_sessions(browser, tmp_path_factory):
    """Cookies ignore ports: one cookie name for every dashboard let the second overwrite
    the first's, which then answered 401; and the cookie held the token itself."""
    from hunchlab.run_records import init_project

    servers = []
    try:
        for k in range(2):
            root = tmp_path_factory.mktemp(f"tokenproj{k}")
            init_project(root)
            servers.append(Server(root, root / "server.log", host="0.0.0.0"))
        for s in servers:
            s.wait()
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = context.new_page()
        tokens = [s.token() for s in servers]
        for s, token in zip(servers, tokens, strict=True):
            pg.goto(f"{s.url}/runs?token={token}")
            assert pg.url == f"{s.url}/runs"  # the token left the address bar
        cookies = context.cookies()
        assert len({c["name"] for c in cookies}) == 2
        assert not {c["value"] for c in cookies} & set(tokens)
        for s in servers:  # the first still answers, by its own cookie
            pg.goto(f"{s.url}/runs.json")
            assert '"ok":true' in pg.content(), s.log()
        context.close()
    finally:
        for s in servers:
            s.stop()
