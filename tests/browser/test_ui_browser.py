"""The dashboard in a real browser: Debian's headless chromium driven by Playwright, against
``hunch ui`` serving on a free port. Few and bounded; each failure shows the server's log.
Screenshots go to $HUNCH_SCREENSHOTS (default: hunch-ui-screenshots in the temp folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web.data import build

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

    def __init__(self, root: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if k != "HUNCH_RUN_DIR"} | {"HUNCH_DIR": str(root)}
        self.proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "ui", "--port", str(self.port)],
                                     stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"hunch ui exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/runs.json", timeout=2) as r:
                    if r.status == 200:
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
    server = Server(project.root, tmp_path_factory.mktemp("log") / "server.log")
    try:
        server.wait()
        yield server, ids, project
    finally:
        server.stop()


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
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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


def test_runs_table_filter_and_open_a_run_with_a_drawn_chart(page, site):
    server, ids, _ = site
    page.goto(server.url + "/runs")
    assert page.locator("tr.run").count() == 9
    shot(page, "runs")
    page.fill("input[name=where]", "model.width=64")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/runs?*where=model.width%3D64*")
    assert page.locator("tr.run").count() == 3 and page.locator("tr.group-head").count() == 1
    shot(page, "runs-filtered")
    page.goto(server.url + "/runs?q=long")
    page.click(f"a[href='/runs/{ids['long']}']")
    chart = "figure.chart[data-title=loss]"
    page.wait_for_selector(chart + "[data-drawn]")
    assert ink(page, chart) > 500, "the chart's canvas is empty"
    assert "M4" in page.text_content(chart + " [data-points]")
    shot(page, "run")
    box = page.locator(chart + " .u-over").bounding_box()  # drag across a narrow band to zoom in
    before = page.get_attribute(chart, "data-drawn")
    page.mouse.move(box["x"] + box["width"] * 0.49, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.51, box["y"] + 40, steps=4)
    page.mouse.up()
    page.wait_for_selector(f"{chart}[data-drawn]:not([data-drawn='{before}'])")  # redrawn (CSP forbids eval)
    assert "M4" not in page.text_content(chart + " [data-points]"), "zoomed in, every point is shown"
    shot(page, "run-zoomed")


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
    shot(page, "compare")


def test_tag_three_failures_with_the_keyboard(page, site):
    from hunchlab import triage

    server, ids, project = site
    run = ids["w16"]  # five failures
    page.goto(f"{server.url}/runs/{run}/triage")
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
