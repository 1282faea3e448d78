"""(i) The dashboard in a browser: `hunch ui` against `mlflow ui` on the same data.

Data: 10,000 finished runs in 200 seed groups of 50 (params lr, model.width, trial;
summary acc and loss) and one run whose metric `loss` has 1,000,000 steps with three
one-step spikes. hunchlab's project is made by bench/ui_data.py (hunchlab's own run
handle); MLflow's sqlite store gets one run through MlflowClient, then its rows are
copied in bulk with SQL for the rest (MLflow's API creates about 7 runs/s here; see
listing.json), so both stores hold the same runs, params and points.

Timed in headless chromium (Debian's, via Playwright), a fresh browser context (empty
cache) per load, 1 untimed warm-up then the median of --reps:
    first_paint_ms   first-contentful-paint of the page
    ready_ms         the content is there: the runs table has rows / the metric chart is drawn
    bytes            the page's HTML as sent (hunch; MLflow's runs page is a script that fetches JSON)
Pages: the runs list, and the page of the run with the 1,000,000-point metric (hunch: the
run page, whose chart is drawn from the server's M4 downsample; MLflow: the run's
metric chart page).

Memory (hunch only): the server's resident memory after the warm-up, then after 200
requests over 20 connections at once (runs pages, their JSON, the long run's page and
its chart data), and its peak; CPU time of the server process over the same load.

    bench/.venv/bin/python bench/bench_ui.py [--runs 10000] [--group-size 50] [--points 1000000] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from common import PY, SCRATCH, VENV_BIN, tool_env, write_result

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer {url} in {timeout}s:\n{log.read_text()[-3000:]}")


# ------------------------------------------------------------------ data


def hunch_project(runs: int, points: int, group_size: int) -> tuple[Path, dict]:
    """The hunchlab project (made once, kept in SCRATCH) and how it was made (ui_data.build's figures)."""
    root = SCRATCH / f"ui-hunch-{runs}x{group_size}-{points}"
    done = root / "DONE.json"
    if not done.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        sys.path.insert(0, str(HERE))
        from ui_data import build

        info = build(root, runs, points, workers=2, group_size=group_size)
        done.write_text(json.dumps(info))
    return root, json.loads(done.read_text())


def mlflow_store(runs: int, points: int, group_size: int) -> tuple[Path, str, str]:
    """An MLflow sqlite store with the same runs; returns (folder, a run id, the long run's id)."""
    root = SCRATCH / f"ui-mlflow-{runs}x{group_size}-{points}"
    done = root / "DONE.json"
    if done.exists():
        d = json.loads(done.read_text())
        return root, d["first"], d["long"]
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    code = ("from mlflow.tracking import MlflowClient\n"
            "from mlflow.entities import Metric, Param\n"
            f"c = MlflowClient(tracking_uri='sqlite:///{root}/mlflow.db')\n"
            "r = c.create_run('0', run_name='trial-0')\n"
            "c.log_batch(r.info.run_id, metrics=[Metric('acc', 0.5, 0, 0), Metric('loss', 0.5, 0, 0)],\n"
            "            params=[Param('lr', '0.001'), Param('model.width', '16'), Param('trial', '0')])\n"
            "c.set_terminated(r.info.run_id)\n"
            "print(r.info.run_id)\n")
    out = subprocess.run([PY, "-c", code], cwd=root, env=tool_env(), capture_output=True, text=True, check=True)
    first = out.stdout.strip().splitlines()[-1]
    db = sqlite3.connect(root / "mlflow.db")
    run_cols = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    template = dict(zip(run_cols, db.execute("SELECT * FROM runs WHERE run_uuid = ?", (first,)).fetchone(), strict=True))
    tags = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (first,)).fetchall()
    now = int(time.time() * 1000)

    def add_run(i: int, name: str, params: dict, metrics: dict) -> str:
        rid = uuid.uuid4().hex
        row = {**template, "run_uuid": rid, "name": name, "start_time": now + i, "end_time": now + i + 1,
               "artifact_uri": template["artifact_uri"].replace(first, rid)}
        db.execute(f"INSERT INTO runs ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})",
                   [row[c] for c in run_cols])
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                       [(k, name if k == "mlflow.runName" else v, rid) for k, v in tags])
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                       [(k, str(v), rid) for k, v in params.items()])
        for k, v in metrics.items():
            db.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, 0, 0)",
                       (k, v, now, rid))
            db.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                       "VALUES (?, ?, ?, 0, 0, ?)", (k, v, now, rid))
        return rid

    import math

    for i in range(1, runs):
        config = i // group_size
        acc = 0.5 + 0.4 * (1 - math.exp(-config / 500)) + 0.01 * (i % 3)
        add_run(i, f"trial-{config}", {"lr": round(1e-3 * (config % 7 + 1), 6), "model.width": 16 * (config % 4 + 1),
                                       "trial": config}, {"acc": acc, "loss": 1 - acc})
    long = add_run(runs, "long-metric", {"lr": 0.001, "model.width": 64, "trial": -1}, {})
    import random

    rng = random.Random(0)
    spikes = {points // 5, points // 2, 4 * points // 5}
    rows = ((("loss", 2.0 * math.exp(-s / (points / 5)) + 0.05 * rng.random() + (5.0 if s in spikes else 0.0),
              now + s, long, s)) for s in range(points))
    db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)", rows)
    last = db.execute("SELECT value, timestamp FROM metrics WHERE run_uuid = ? AND step = ?", (long, points - 1)).fetchone()
    db.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('loss', ?, ?, ?, 0, ?)",
               (last[0], last[1], points - 1, long))
    db.commit()
    db.close()
    done.write_text(json.dumps({"first": first, "long": long}))
    return root, first, long


# ------------------------------------------------------------------ timing


@contextmanager
def serving(cmd: list[str], env: dict, cwd: Path, ready_url: str) -> Iterator[subprocess.Popen]:
    """Run a server until the block ends; its log is shown if it dies or never answers."""
    log = cwd / "ui.log"
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        wait_http(ready_url, proc, log, timeout=180)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(browser, url: str, ready: str, reps: int, timeout_ms: int = 60_000) -> dict:
    """Median first-contentful-paint and time-to-ready (ms since navigation start) over ``reps`` fresh loads."""
    paints, readies, errors, sizes = [], [], [], []
    for rep in range(reps + 1):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        try:
            response = page.goto(url, wait_until="commit", timeout=timeout_ms)
            sizes.append(len(response.body()) if response else None)
            page.wait_for_selector(ready, state="attached", timeout=timeout_ms)
            t_ready = page.evaluate("performance.now()")
            fcp = None
            for _ in range(50):  # polled from here: wait_for_function evaluates strings, which a strict CSP forbids
                fcp = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
                if fcp is not None:
                    break
                time.sleep(0.05)
            if rep:  # the first load is the warm-up
                readies.append(t_ready)
                if fcp is not None:
                    paints.append(fcp)
        except Exception as e:  # noqa: BLE001 - a tool that never shows the content is a result, recorded
            errors.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
        finally:
            context.close()
    out = {"url": url, "ready_selector": ready, "reps": reps, "errors": errors, "bytes": max(sizes, default=None)}
    if readies:
        out.update(ready_ms=round(statistics.median(readies)), ready_all_ms=[round(t) for t in readies])
    if paints:
        out.update(first_paint_ms=round(statistics.median(paints)), first_paint_all_ms=[round(t) for t in paints])
    return out


def process_memory(pid: int) -> dict:
    """Resident and peak memory (MB) and CPU seconds (user + sys) of a process, from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    mb = lambda key: round(int(status[key].split()[0]) / 1024, 1)  # noqa: E731
    # RssAnon is the heap; RssFile counts the store's pages SQLite maps in, which the kernel shares and drops.
    return {"rss_mb": mb("VmRSS"), "anon_mb": mb("RssAnon"), "peak_mb": mb("VmHWM"),
            "cpu_s": round((int(fields[11]) + int(fields[12])) / ticks, 2)}


def memory_under_load(pid: int, urls: list[str], requests: int = 200, in_flight: int = 20) -> dict:
    """The server's memory after each URL was fetched once, then after ``requests`` more with
    ``in_flight`` at once: a flat line is the goal (20 in flight once took 123 MB to 227 MB)."""
    def get(url: str) -> int:
        with urllib.request.urlopen(url, timeout=120) as r:
            return len(r.read())

    for url in urls:
        get(url)
    before = process_memory(pid)
    heap = [before["anon_mb"]]
    done = threading.Event()

    def sample() -> None:  # the heap's high-water mark during the load (VmHWM counts mapped file pages too)
        while not done.wait(0.05):
            heap.append(process_memory(pid)["anon_mb"])

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        sent = sum(pool.map(get, [urls[i % len(urls)] for i in range(requests)]))
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = process_memory(pid)
    return {"requests": requests, "in_flight": in_flight, "urls": urls, "mb_sent": round(sent / 2**20, 1),
            "wall_s": round(wall, 1), "rss_before_mb": before["rss_mb"], "rss_after_mb": after["rss_mb"],
            "heap_before_mb": before["anon_mb"], "heap_after_mb": after["anon_mb"], "heap_peak_mb": max(heap),
            "peak_rss_mb": after["peak_mb"],
            "server_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--group-size", type=int, default=50)
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no-mlflow", action="store_true")
    a = p.parse_args()
    from playwright.sync_api import sync_playwright

    load_at_start = os.getloadavg()
    hroot, made = hunch_project(a.runs, a.points, a.group_size)
    hlong = made["long_run"]
    mlflow = None if a.no_mlflow else mlflow_store(a.runs, a.points, a.group_size)  # made before any timing starts
    results: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # One server at a time, so neither is timed while the other starts up.
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with serving([sys.executable, "-m", "hunchlab", "ui", "--port", str(port)], {**os.environ, "HUNCH_DIR": str(hroot)},
                     hroot, base + "/static/app.css") as server:
            results["hunchlab"] = {
                "runs page": measure(browser, base + "/runs", "tr.run", a.reps),
                "run page, 1M-point metric": measure(browser, f"{base}/runs/{hlong}", "figure.chart[data-drawn]", a.reps)}
            urls = [base + "/runs", base + "/runs?page=7", base + "/runs.json", f"{base}/runs/{hlong}",
                    f"{base}/runs/{hlong}/series.json?key=loss&buckets=600"]
            results["hunchlab"]["memory under load"] = memory_under_load(server.pid, urls)
        print("hunchlab", json.dumps(results["hunchlab"], indent=1), flush=True)
        if mlflow is not None:
            mroot, _, mlong = mlflow
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            cmd = [str(VENV_BIN / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{mroot}/mlflow.db",
                   "--host", "127.0.0.1", "--port", str(port)]
            with serving(cmd, tool_env(), mroot, base + "/health"):
                # MLflow 3 opens an experiment on its GenAI overview; the runs table is at /runs.
                # A run's metric chart (Plotly) draws a sampled history, as hunch's draws an M4 one.
                results["mlflow"] = {
                    "runs page": measure(browser, f"{base}/#/experiments/0/runs", "text=trial-", a.reps),
                    "run page, 1M-point metric": measure(browser, f"{base}/#/experiments/0/runs/{mlong}/model-metrics",
                                                         "svg.main-svg path.js-line", a.reps)}
            print("mlflow", json.dumps(results["mlflow"], indent=1), flush=True)
        browser.close()
    write_result("ui", {"what": "page timings in headless chromium, fresh context per load, median of reps",
                        "runs": a.runs, "group_size": a.group_size, "points": a.points, "hunch_project_made": made,
                        "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg(),
                        "results": results})


if __name__ == "__main__":
    main()
