"""(e) Listing many runs: `hunch runs` over 10,000 runs; MLflow search_runs as a reference.

Runs are created through each tool's ordinary API (worker.py `runs`): a few params and
one summary metric each (hunchlab: run.summary; MLflow: create_run + log_batch +
set_terminated). Creation is itself timed (runs/s) and capped by --create-budget-s per
tool; when the cap is hit, the listing is timed over the runs that exist and the
result says so (`runs_in_store`).

Timed commands (1 untimed warm-up, then the median of --reps, warm disk cache):
    hunchlab  `hunch runs` (table: reads every run, shows the newest 50) and
              `hunch runs --json` (every run), each as a whole CLI process
    mlflow    mlflow.search_runs(experiment_ids=["0"]) in a warm Python process (excludes
              import), and `mlflow runs list --experiment-id 0` as a whole CLI process
    wandb     no local listing of offline runs exists (they are listed by the server
              after `wandb sync`): not measured

    python bench/bench_listing.py [--runs 10000] [--mlflow-runs 1000,10000]
                                  [--create-budget-s 300] [--parallel 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

from common import (
    BENCH,
    HUNCH_MISSING,
    PY,
    RESULTS,
    VENV_BIN,
    hunch_available,
    init_store,
    rm,
    run_worker,
    scratch_dir,
    tool_env,
    write_result,
)


def create(tool: str, store: Path, start: int, count: int, parallel: int, budget_s: float) -> dict:
    """Create ``count`` runs with ``parallel`` worker processes, within ``budget_s``."""
    share = [count // parallel + (1 if i < count % parallel else 0) for i in range(parallel)]
    procs, offset = [], start
    t0 = time.perf_counter()
    for n in share:
        if n:
            procs.append(subprocess.Popen(
                [PY, str(BENCH / "worker.py"), "runs", tool, "--store", str(store), "--start", str(offset),
                 "--count", str(n), "--max-seconds", str(budget_s)],
                cwd=store, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        offset += n
    created, errors = 0, []
    for p in procs:
        out, err = p.communicate(timeout=budget_s + 600)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        r = json.loads(lines[-1]) if lines else {"fatal": err[-1500:]}
        if "fatal" in r:
            errors.append(r["fatal"])
        created += r.get("created", 0)
    wall = time.perf_counter() - t0
    return {"created": created, "s": round(wall, 2), "runs_per_s": round(created / wall, 1), "errors": errors}


def time_cmd(argv: list[str], cwd: Path, reps: int) -> dict:
    """Median wall time of a whole command (after one untimed warm-up)."""
    warm = subprocess.run(argv, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=600)
    if warm.returncode != 0:
        return {"error": f"rc={warm.returncode}: {warm.stderr[-1500:]}"}
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=600, check=True)
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "all_s": [round(t, 4) for t in times], "first_call_output": warm.stdout}


def hunchlab_case(a: argparse.Namespace) -> dict:
    store = scratch_dir("list-hunchlab")
    out: dict = {"sizes": {}}
    try:
        init_store("hunchlab", store)
        have, spent = 0, 0.0
        for size in sorted({min(1000, a.runs), a.runs}):
            budget = a.create_budget_s - spent
            if have < size and budget > 0:
                c = create("hunchlab", store, have, size - have, a.parallel, budget)
                have += c["created"]
                spent += c["s"]
                out.setdefault("creation", []).append(c)
                print("hunchlab created", c, flush=True)
            if have == 0:
                break
            hunch = str(VENV_BIN / "hunch")
            table = time_cmd([hunch, "runs"], store, a.reps)
            js = time_cmd([hunch, "runs", "--json"], store, a.reps)
            rows = None
            if "first_call_output" in js:
                try:
                    rows = len(json.loads(js["first_call_output"]))
                except ValueError:
                    rows = "unparseable"
            table.pop("first_call_output", None)
            js.pop("first_call_output", None)
            out["sizes"][str(have)] = {"hunch runs": table, "hunch runs --json": js, "json_rows": rows}
            print("hunchlab list", have, table.get("median_s"), js.get("median_s"), rows, flush=True)
            if have < size:  # the creation budget ran out: no point timing a larger target
                out["note"] = (f"creation budget ({a.create_budget_s:.0f} s) ran out at {have} runs "
                               f"of {a.runs} requested")
                break
        out["runs_in_store"] = have
        return out
    finally:
        rm(store)


def mlflow_case(a: argparse.Namespace) -> dict:
    store = scratch_dir("list-mlflow")
    out: dict = {"sizes": {}}
    try:
        init_store("mlflow", store)
        have, spent, rate = 0, 0.0, None
        for size in [int(x) for x in a.mlflow_runs.split(",")]:
            budget = a.create_budget_s - spent
            if rate and (size - have) / rate > budget:
                out["note"] = (f"skipped {size} runs: creating {size - have} more at {rate:.0f} runs/s "
                               f"would exceed the {a.create_budget_s:.0f} s creation budget")
                break
            # one creating process: the sqlite store serializes writers anyway
            c = create("mlflow", store, have, size - have, 1, budget)
            have += c["created"]
            spent += c["s"]
            rate = c["runs_per_s"]
            out.setdefault("creation", []).append(c)
            print("mlflow created", c, flush=True)
            search = run_worker(["search", "mlflow", "--store", str(store), "--repeat", str(a.reps)],
                                cwd=store, timeout=900)
            cli = time_cmd([str(VENV_BIN / "mlflow"), "runs", "list", "--experiment-id", "0"], store,
                           max(3, a.reps // 2))
            cli.pop("first_call_output", None)
            out["sizes"][str(have)] = {"mlflow.search_runs (in-process)": search,
                                       "mlflow runs list (CLI)": cli}
            print("mlflow list", have, search.get("median_s"), cli.get("median_s"), flush=True)
            if have < size:
                out["note"] = f"creation budget ran out at {have} runs"
                break
        out["runs_in_store"] = have
        return out
    finally:
        rm(store)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10_000, help="hunchlab runs to list")
    p.add_argument("--mlflow-runs", default="1000,10000", help="MLflow store sizes to time, ascending")
    p.add_argument("--create-budget-s", type=float, default=300, help="cap on run creation, per tool")
    p.add_argument("--parallel", type=int, default=2, help="hunchlab creating processes")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--tools", default="hunchlab,mlflow")
    a = p.parse_args()

    results, skipped = {}, {"wandb": "W&B offline runs cannot be listed or queried locally; they are "
                                      "listed by the W&B server after `wandb sync`"}
    tools = a.tools.split(",")
    if "hunchlab" in tools:
        if hunch_available():
            results["hunchlab"] = hunchlab_case(a)
        else:
            skipped["hunchlab"] = HUNCH_MISSING
    if "mlflow" in tools:
        results["mlflow"] = mlflow_case(a)
    # A tool left out of this invocation keeps its figures from the previous listing.json,
    # marked with the date and command that produced them.
    prev_file = RESULTS / "listing.json"
    if prev_file.exists():
        prev = json.loads(prev_file.read_text())
        for tool, res in prev.get("results", {}).items():
            if tool not in results and tool not in tools:
                res.setdefault("carried_over_from", {"date": prev["date"], "command": prev["command"],
                                                     "commit": prev["commit"]})
                results[tool] = res
    write_result("listing", {
        "what": "list all runs of a store; runs created through the ordinary API; median of reps",
        "runs_requested": a.runs,
        "create_budget_s": a.create_budget_s,
        "results": results,
        "skipped": skipped,
    })


if __name__ == "__main__":
    main()
