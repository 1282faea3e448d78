"""(l) Scaling curves: how each cost grows with the size of the work, the peers beside hunchlab
where they have the feature. Writes results/scaling.json and results/scaling.png (log-log).

curves (size -> seconds; every point a fresh scratch project):
- listing   runs in the project (1k, 10k, 100k) -> `hunch runs` in a fresh process (median of
            --reps after a warm-up), and its newest page + count in a warm process ("hunchlab-warm");
            MLflow `search_runs` (every row, into pandas) in a warm process (up to --mlflow-runs);
            trackio's run listing (`SQLiteStorage.get_runs`, names) in a warm process (up to --peer-runs).
            Runs are made with each tool's ordinary API (worker.py runs); their creation rate is a
            curve of its own ("create", runs/s), hunchlab's measured until every run is folded.
- fold      points in a run whose process was killed before its end (10k ... 10M; 10 metrics a
            step) -> the first `hunch show RUN` after the kill, in a fresh process: the fold of the
            whole event file plus the command, and the folding process's peak RSS. No peer folds:
            MLflow commits every call, W&B offline keeps its file unreadable until `wandb sync`,
            trackio writes from a background thread.
- examples  example records (10k ... 1M) -> the same first `hunch show` (fold and RSS).
- chart     points of one metric (10k ... 10M) -> the run page's data request
            (/runs/ID/series.json?key=loss&buckets=1000) in a warm in-process server, median of
            --reps; MLflow `get_metric_history` and trackio `get_logs(max_points=1000)` in a warm
            process (up to --peer-points; both read every point).
- compare   example records per run (1k ... 100k), two 5-seed groups -> `hunch compare --json`
            fresh process, and the MLflow + pandas route (bench_compare.py, per size).
- sweep     trials (16 ... 256) -> `hunch sweep --jobs 1` and a bash loop of `python train.py`
            (bench_sweep.py, per size); the overhead per trial is the difference.

The slope of each curve is the least-squares slope of log(seconds) on log(size): 1 means the
cost grows in proportion to the size, 0 that it does not grow (the listing page, the chart).

    bench/.venv/bin/python bench/bench_scaling.py [--only listing,fold,examples,chart,compare,sweep]
                                                  [--quick] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, PY, RESULTS, VENV_BIN, hunch_available, init_store, rm, scratch_dir, tool_env, write_result

SIZES = {
    "listing": [1_000, 10_000, 100_000],
    "fold": [10_000, 100_000, 1_000_000, 2_000_000, 10_000_000],
    "examples": [10_000, 100_000, 1_000_000],
    "chart": [10_000, 100_000, 1_000_000, 10_000_000],
    "compare": [1_000, 10_000, 100_000],
    "sweep": [16, 64, 256],
}
QUICK = {"listing": [1_000, 5_000], "fold": [10_000, 100_000, 1_000_000], "examples": [10_000, 100_000],
         "chart": [10_000, 100_000, 1_000_000], "compare": [1_000, 10_000], "sweep": [16, 64]}


def py(code: str, cwd: Path, *args: str, timeout: float = 7200) -> dict:
    """Run ``code`` in the bench venv; returns the JSON object on its last stdout line."""
    proc = subprocess.Popen([PY, "-c", code, *args], cwd=cwd, env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"failed rc={proc.returncode}: {err[-3000:]}")
    return json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])


def wall(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, from wait4."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError(f"{argv} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def median_wall(argv: list[str], cwd: Path, reps: int) -> float:
    wall(argv, cwd)  # warm-up: the page cache, .pyc files
    return statistics.median(wall(argv, cwd)[0] for _ in range(reps))


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x)."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx, my = statistics.fmean(p[0] for p in pts), statistics.fmean(p[1] for p in pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return round(sum((p[0] - mx) * (p[1] - my) for p in pts) / den, 2) if den else None


# ------------------------------------------------------------------ listing and run creation

CREATE = """
import json, sys, time, hunchlab
start, count = int(sys.argv[1]), int(sys.argv[2])
t0 = time.perf_counter()
for i in range(start, start + count):
    with hunchlab.start(config={"lr": 1e-3 * (i % 7 + 1), "seed": i, "arch": "mlp"}, name=f"r{i}") as run:
        run.summary["loss"] = 1.0 / (i + 1)
print(json.dumps({"s": time.perf_counter() - t0}))
"""

WAIT_FOLDED = """
import json, os, sys, time
t0 = time.perf_counter()
while os.listdir(".hunch/pending"):
    time.sleep(0.05)
print(json.dumps({"s": time.perf_counter() - t0}))
"""


def create_hunchlab(store: Path, have: int, want: int, parallel: int = 2) -> dict:
    """Runs ``have..want`` through ``hunchlab.start`` in ``parallel`` processes; seconds until all
    are created, and until all are folded (the background folder, or the first read)."""
    n = want - have
    share = [n // parallel + (1 if i < n % parallel else 0) for i in range(parallel)]
    t0 = time.perf_counter()
    procs, offset = [], have
    for k in share:
        procs.append(subprocess.Popen([PY, "-c", CREATE, str(offset), str(k)], cwd=store, env=tool_env(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        offset += k
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError(p.stderr.read().decode()[-2000:] if p.stderr else "create failed")
    created = time.perf_counter() - t0
    py(WAIT_FOLDED, store)
    folded = time.perf_counter() - t0
    return {"runs": n, "created_s": round(created, 2), "folded_s": round(folded, 2),
            "runs_per_s": round(n / created, 1), "runs_per_s_folded": round(n / folded, 1)}


PEER_LIST = """
import json, os, statistics, sys, time
tool, store, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if tool == "hunchlab":
    from hunchlab import run_records
    from hunchlab.project import find_project
    call = lambda: run_records.runs_page(limit=50, project=find_project(store))[1]
elif tool == "mlflow":
    import mlflow
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    call = lambda: len(mlflow.search_runs(experiment_ids=["0"], max_results=200_000))
else:
    os.environ["TRACKIO_DIR"] = f"{store}/trackio"
    from trackio.sqlite_storage import SQLiteStorage
    call = lambda: len(SQLiteStorage.get_runs("bench"))
rows = call()
times = []
for _ in range(reps):
    t0 = time.perf_counter(); call(); times.append(time.perf_counter() - t0)
print(json.dumps({"rows": rows, "median_s": statistics.median(times)}))
"""

TRACKIO_RUNS = """
import json, os, sys, time
os.environ["TRACKIO_DIR"] = os.path.join(sys.argv[1], "trackio")
import trackio
start, count = int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
for i in range(start, start + count):
    run = trackio.init(project="bench", name=f"r{i}", config={"lr": 1e-3 * (i % 7 + 1), "seed": i},
                       auto_log_gpu=False, auto_log_cpu=False)
    run.log({"loss": 1.0 / (i + 1)})
    run.finish()
print(json.dumps({"s": time.perf_counter() - t0}))
"""


def listing(sizes: list[int], a: argparse.Namespace) -> dict:
    out: dict = {"hunchlab": [], "hunchlab-warm": [], "create-hunchlab": [], "mlflow": [], "trackio": []}
    store = scratch_dir("scale-list")
    try:
        init_store("hunchlab", store)
        have = 0
        for size in sizes:
            made = create_hunchlab(store, have, size)
            have = size
            out["create-hunchlab"].append({"size": size, **made})
            runs = median_wall([str(VENV_BIN / "hunch"), "runs"], store, a.reps)
            js = median_wall([str(VENV_BIN / "hunch"), "runs", "--json"], store, a.reps)
            out["hunchlab"].append({"size": size, "s": runs, "json_s": js})
            warm = py(PEER_LIST, store, "hunchlab", str(store), str(a.reps))
            out["hunchlab-warm"].append({"size": size, "s": warm["median_s"], "rows": warm["rows"]})
            print("listing hunchlab", size, made, round(runs, 3), round(js, 3), warm, flush=True)
        for tool, cap in (("mlflow", a.mlflow_runs), ("trackio", a.peer_runs)):
            have = 0
            peer = scratch_dir(f"scale-list-{tool}")
            try:
                if tool == "mlflow":
                    init_store(tool, peer)
                for size in [s for s in sizes if s <= cap]:
                    t0 = time.perf_counter()
                    if tool == "mlflow":
                        subprocess.run([PY, str(BENCH / "worker.py"), "runs", "mlflow", "--store", str(peer),
                                        "--start", str(have), "--count", str(size - have)], cwd=peer,
                                       env=tool_env(), check=True, capture_output=True, timeout=7200)
                    else:
                        py(TRACKIO_RUNS, peer, str(peer), str(have), str(size - have))
                    made = round((size - have) / (time.perf_counter() - t0), 1)
                    have = size
                    r = py(PEER_LIST, peer, tool, str(peer), str(a.reps))
                    out[tool].append({"size": size, "s": r["median_s"], "rows": r["rows"], "created_runs_per_s": made})
                    print("listing", tool, size, r, made, flush=True)
            finally:
                rm(peer)
    finally:
        rm(store)
    return out


# ------------------------------------------------------------------ folding after a kill

KILLED = """
import os, sys, hunchlab
kind, n = sys.argv[1], int(sys.argv[2])
run = hunchlab.start(config={"kind": kind, "n": n})
if kind == "points":
    values = {f"m{k}": 0.0 for k in range(10)}
    for i in range(n // 10):
        run.log({k: i * 1e-4 + j for j, k in enumerate(values)}, step=i)
elif kind == "chart":
    for i in range(n):
        run.log({"loss": 2.0 / (1 + i / 1e4) + (5.0 if i % 100_003 == 99_999 else 0.0)}, step=i)
else:
    for i in range(n):
        run.example(i, input=f"question {i} " * 3, output=f"answer {i % 7}", target="answer 3",
                    correct=i % 4 != 0, score=(i % 100) / 100, topic=f"t{i % 5}")
print(run.id, flush=True)
os._exit(0)  # as kill -9 after the last call returned: no end line, nothing folded
"""


def killed_run(store: Path, kind: str, n: int) -> str:
    cp = subprocess.run([PY, "-c", KILLED, kind, str(n)], cwd=store, env=tool_env(), capture_output=True,
                        text=True, timeout=7200, check=True)
    return cp.stdout.split()[-1]


def folding(kind: str, sizes: list[int]) -> dict:
    out: dict = {"hunchlab": []}
    for size in sizes:
        store = scratch_dir(f"scale-{kind}")
        try:
            init_store("hunchlab", store)
            run_id = killed_run(store, kind, size)
            events = (store / ".hunch" / "runs" / run_id / "events.jsonl").stat().st_size
            s, rss = wall([str(VENV_BIN / "hunch"), "show", run_id], store)
            again, _ = wall([str(VENV_BIN / "hunch"), "show", run_id], store)
            out["hunchlab"].append({"size": size, "s": round(s, 3), "peak_rss_mib": round(rss),
                                    "second_read_s": round(again, 3), "event_file_mib": round(events / 2**20, 1),
                                    "store_mib": round((store / ".hunch" / "store.db").stat().st_size / 2**20)})
            print(kind, out["hunchlab"][-1], flush=True)
        finally:
            rm(store)
    return out


# ------------------------------------------------------------------ chart data

SERIES = """
import json, statistics, sys, time
from starlette.testclient import TestClient
from hunchlab.project import find_project
from hunchlab.web.app import create_app
run_id, reps = sys.argv[1], int(sys.argv[2])
client = TestClient(create_app(find_project()), base_url="http://127.0.0.1:8765")
url = f"/runs/{run_id}/series.json"
params = {"key": "loss", "buckets": 1000}
first = client.get(url, params=params).json()
times = []
for _ in range(reps):
    t0 = time.perf_counter(); r = client.get(url, params=params); times.append(time.perf_counter() - t0)
    assert r.status_code == 200
zoom = {**params, "lo": first["last"] // 3, "hi": first["last"] // 3 + first["last"] // 50}
t0 = time.perf_counter(); z = client.get(url, params=zoom).json(); zoom_s = time.perf_counter() - t0
print(json.dumps({"median_s": statistics.median(times), "shown": first["shown"], "zoom_s": zoom_s,
                  "zoom_shown": z["shown"]}))
"""

PEER_CHART = """
import json, os, statistics, sys, time
tool, store, n, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if tool == "mlflow":
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{store}/mlflow.db")
    run_id = client.create_run("0").info.run_id
    for i in range(0, n, 1000):  # setup, not timed: the fastest way in
        client.log_batch(run_id, metrics=[Metric("loss", 2.0 / (1 + s / 1e4), 0, s) for s in range(i, min(n, i + 1000))])
    call = lambda: len(client.get_metric_history(run_id, "loss"))
else:
    os.environ["TRACKIO_DIR"] = f"{store}/trackio"
    import trackio
    from trackio.sqlite_storage import SQLiteStorage
    run = trackio.init(project="bench", name="long", auto_log_gpu=False, auto_log_cpu=False)
    for i in range(n):
        run.log({"loss": 2.0 / (1 + i / 1e4)}, step=i)
    run.finish()
    call = lambda: len(SQLiteStorage.get_logs("bench", run="long", max_points=1000))
shown = call()
times = []
for _ in range(reps):
    t0 = time.perf_counter(); call(); times.append(time.perf_counter() - t0)
print(json.dumps({"median_s": statistics.median(times), "shown": shown}))
"""


def chart(sizes: list[int], a: argparse.Namespace) -> dict:
    out: dict = {"hunchlab": [], "mlflow": [], "trackio": []}
    for size in sizes:
        store = scratch_dir("scale-chart")
        try:
            init_store("hunchlab", store)
            run_id = killed_run(store, "chart", size)
            fold_s, _ = wall([str(VENV_BIN / "hunch"), "show", run_id], store)
            r = py(SERIES, store, run_id, str(a.reps))
            out["hunchlab"].append({"size": size, "s": round(r["median_s"], 4), "shown": r["shown"],
                                    "zoom_s": round(r["zoom_s"], 4), "fold_s": round(fold_s, 2)})
            print("chart hunchlab", out["hunchlab"][-1], flush=True)
        finally:
            rm(store)
        for tool in ("mlflow", "trackio"):
            if size > a.peer_points:
                continue
            peer = scratch_dir(f"scale-chart-{tool}")
            try:
                if tool == "mlflow":
                    init_store(tool, peer)
                r = py(PEER_CHART, peer, tool, str(peer), str(size), str(a.reps))
                out[tool].append({"size": size, "s": round(r["median_s"], 4), "shown": r["shown"]})
                print("chart", tool, out[tool][-1], flush=True)
            finally:
                rm(peer)
    return out


# ------------------------------------------------------------------ compare and sweep (their own scripts)


def sub_case(script: str, args: list[str]) -> dict:
    """Run another case script with its results sent to a scratch folder; return what it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**tool_env(), "HUNCH_BENCH_RESULTS": tmp}
        subprocess.run([PY, str(BENCH / script), *args], cwd=BENCH, env=env, check=True, timeout=7200,
                       stdout=subprocess.DEVNULL)
        (found,) = Path(tmp).glob("*.json")
        return json.loads(found.read_text())


def compare(sizes: list[int], a: argparse.Namespace) -> dict:
    out: dict = {"hunchlab": [], "mlflow": []}
    for size in sizes:
        r = sub_case("bench_compare.py", ["--examples", str(size), "--repeat", str(a.reps)])["results"]
        for tool in out:
            if tool in r:
                out[tool].append({"size": size, "s": r[tool]["end_to_end_s"], "warm_s": r[tool]["warm_s"]})
        print("compare", size, {t: v[-1] for t, v in out.items() if v}, flush=True)
    return out


def sweep(sizes: list[int], a: argparse.Namespace) -> dict:
    out: dict = {"hunchlab": [], "bash": [], "overhead-hunchlab": []}
    for size in sizes:
        r = sub_case("bench_sweep.py", ["--trials", str(size), "--repeat", "1", "--wandb-trials", "0",
                                        "--jobs", "2"])["results"]
        out["hunchlab"].append({"size": size, "s": r["hunch-j1"]["wall_s"]})
        out["bash"].append({"size": size, "s": r["bash"]["wall_s"]})
        out["overhead-hunchlab"].append({"size": size, "ms_per_trial": round(
            r["hunch-j1"]["wall_ms_per_trial"] - r["bash"]["wall_ms_per_trial"], 1)})
        print("sweep", size, out["hunchlab"][-1], out["bash"][-1], out["overhead-hunchlab"][-1], flush=True)
    return out


# ------------------------------------------------------------------ plot and main

CURVES = {"listing": listing, "fold": lambda s, a: folding("points", s), "examples": lambda s, a: folding("examples", s),
          "chart": chart, "compare": compare, "sweep": sweep}
UNITS = {"listing": "runs", "fold": "points", "examples": "example records", "chart": "points in the metric",
         "compare": "examples per run", "sweep": "trials"}


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in CURVES if n in curves]
    cols = 3
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        for tool, pts in curves[name]["series"].items():
            xy = [(p["size"], p["s"]) for p in pts if p.get("s")]
            if len(xy) >= 1:
                k = curves[name]["slopes"].get(tool)
                ax.plot(*zip(*xy, strict=True), marker="o", label=f"{tool} (slope {k})" if k is not None else tool)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(UNITS[name])
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(CURVES))
    p.add_argument("--quick", action="store_true", help="smaller sizes (minutes, for a try)")
    p.add_argument("--sizes", default="", help="override sizes, e.g. listing=1000,10000;sweep=16,64")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--mlflow-runs", type=int, default=10_000, help="largest MLflow store to list (~40 runs/s to make)")
    p.add_argument("--peer-runs", type=int, default=10_000, help="largest trackio store to list")
    p.add_argument("--peer-points", type=int, default=1_000_000, help="longest metric for the peers' chart data")
    a = p.parse_args()
    if not hunch_available():
        raise SystemExit("hunchlab is not installed in bench/.venv: run bench/setup.sh")
    sizes = dict(QUICK if a.quick else SIZES)
    for item in filter(None, a.sizes.split(";")):
        name, values = item.split("=")
        sizes[name] = [int(v) for v in values.split(",")]
    previous = RESULTS / "scaling.json"
    curves = json.loads(previous.read_text())["curves"] if previous.exists() else {}
    for name in a.only.split(","):
        t0 = time.perf_counter()
        series = CURVES[name](sizes[name], a)
        series = {tool: pts for tool, pts in series.items() if pts}
        curves[name] = {"unit": UNITS[name], "series": series, "seconds": round(time.perf_counter() - t0),
                        "load_average_1m_after": round(os.getloadavg()[0], 2),
                        "slopes": {tool: slope([(q["size"], q["s"]) for q in pts if "s" in q])
                                   for tool, pts in series.items()}}
        print(name, "slopes", curves[name]["slopes"], flush=True)
        write_result("scaling", {"what": __doc__.split("\n\n")[0], "sizes": sizes, "curves": curves})
        plot(curves, RESULTS / "scaling.png")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
