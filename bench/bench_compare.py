"""(e) Comparing two 5-seed groups with 10,000 per-example records per run.

The data: two configs (width 16 and 64) x 5 seeds, each run with 3 summary metrics, a
100-step curve and 10,000 example records (id, correct, score); B is right on ~3% more.

hunchlab: ``hunch compare width=16 width=64 --json`` in a fresh process (what a user
waits for), and ``hunchlab.compare.compare`` in a warm process (the work without
imports). MLflow: the same runs with log_params/log_metrics, each run's examples logged
with ``mlflow.log_table``; the comparison done as an MLflow user would: ``search_runs``
and ``load_table`` into pandas, then the same statistics with numpy/scipy (Welch t and
t-intervals per metric, a paired bootstrap with the same 2,000 resamples, McNemar, the
flips). Both are timed the same two ways; each figure is the median of ``--repeat``
timings after one untimed warm-up, and the fresh-process timings alternate between the
tools so that both see the same load on a shared machine. Both sides' answers are
recorded to show they agree.

    python bench/bench_compare.py [--examples 10000] [--seeds 5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WIDTHS = (16, 64)
METRICS = ("acc", "loss", "f1")
RESAMPLES = 2000


# ------------------------------------------------------------------ data (run in the tool's venv)


def _examples(width: int, seed: int, n: int) -> tuple[list[str], list[bool], list[float]]:
    """Per-example outcomes: a fixed difficulty per example, B a little better, seed noise on top."""
    import numpy as np

    difficulty = np.random.default_rng(12345).random(n)
    rng = np.random.default_rng(1000 * width + seed)
    p_right = np.clip(1.0 - difficulty + (0.03 if width == 64 else 0.0) + rng.normal(0, 0.05, n), 0, 1)
    correct = rng.random(n) < p_right
    return [f"ex{i:05d}" for i in range(n)], correct.tolist(), np.round(p_right, 4).tolist()


def _summary(correct: list[bool], seed: int, width: int) -> dict[str, float]:
    acc = sum(correct) / len(correct)
    return {"acc": acc, "loss": 1.0 - acc + 0.001 * seed, "f1": acc * 0.98 + 0.0005 * (width // 16)}


def make_hunchlab(store: Path, n: int, seeds: int) -> None:
    import hunchlab

    for width in WIDTHS:
        for seed in range(seeds):
            ids, correct, score = _examples(width, seed, n)
            with hunchlab.start(config={"width": width}, seed=seed, name=f"w{width}", project=store) as run:
                for step in range(100):
                    run.log({"loss": 1.0 / (step + 1)}, step=step)
                run.summary.update(_summary(correct, seed, width))
                for i in range(n):
                    run.example(id=ids[i], correct=correct[i], score=score[i])


def make_mlflow(store: Path, n: int, seeds: int) -> None:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    for width in WIDTHS:
        for seed in range(seeds):
            ids, correct, score = _examples(width, seed, n)
            with mlflow.start_run(run_name=f"w{width}"):
                mlflow.log_params({"width": width, "seed": seed})
                for step in range(100):
                    mlflow.log_metric("loss_curve", 1.0 / (step + 1), step=step)
                mlflow.log_metrics(_summary(correct, seed, width))
                mlflow.log_table({"id": ids, "correct": correct, "score": score}, artifact_file="examples.json")


# ------------------------------------------------------------------ the comparisons


def compare_hunchlab(store: Path) -> dict:
    from hunchlab.compare import compare
    from hunchlab.project import find_project

    r = compare(["width=16", "width=64"], project=find_project(store))
    p = r["paired"][0]
    return {"welch_p": {m["metric"]: m["p"] for m in r["metrics"]}, "n_examples": p["n_shared"],
            "mcnemar": [p["mcnemar"]["b01"], p["mcnemar"]["b10"]], "accuracy_diff": p["accuracy"]["mean_diff"]}


def compare_mlflow(store: Path) -> dict:
    """What an MLflow user writes for the same answer: search_runs + load_table, pandas, scipy."""
    import mlflow
    import numpy as np
    from scipy import stats

    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    sides = [mlflow.search_runs(experiment_ids=["0"], filter_string=f"params.width = '{w}'") for w in WIDTHS]
    out: dict = {"welch_p": {}}
    for m in METRICS:
        a, b = (s[f"metrics.{m}"].to_numpy() for s in sides)
        for x in (a, b):  # each side's t-interval, as the table shows
            stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        out["welch_p"][m] = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    tables = [mlflow.load_table("examples.json", run_ids=list(s["run_id"]), extra_columns=["run_id"]) for s in sides]
    per_example = [t.groupby("id").agg(correct=("correct", "mean"), score=("score", "mean")) for t in tables]
    joined = per_example[0].join(per_example[1], lsuffix="_a", rsuffix="_b", how="inner")
    for col in ("correct", "score"):
        d = (joined[f"{col}_b"] - joined[f"{col}_a"]).to_numpy()
        rng = np.random.default_rng(0)
        chunks = [d[rng.integers(0, d.size, (200, d.size))].mean(axis=1) for _ in range(RESAMPLES // 200)]
        boots = np.concatenate(chunks)
        np.quantile(boots, [0.025, 0.975])
        if col == "correct":
            out["accuracy_diff"] = float(d.mean())
    right_a, right_b = joined["correct_a"] > 0.5, joined["correct_b"] > 0.5
    b01, b10 = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    stats.chi2.sf(max(abs(b01 - b10) - 1, 0) ** 2 / max(b01 + b10, 1), 1)
    joined[right_a & ~right_b].head(5), joined[~right_a & right_b].head(5)  # the flips shown
    out.update(n_examples=len(joined), mcnemar=[b01, b10])
    return out


COMPARE = {"hunchlab": compare_hunchlab, "mlflow": compare_mlflow}


def warm_timings(tool: str, store: Path, repeat: int) -> dict:
    """In one process: import, one untimed call, then ``repeat`` timed calls."""
    fn = COMPARE[tool]
    answer = fn(store)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(store)
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 4), "all_s": [round(t, 4) for t in times], "answer": answer}


# ------------------------------------------------------------------ orchestration (any Python)


def _tool(args: list[str], cwd: Path, timeout: float = 900) -> str:
    from common import PY, tool_env

    cp = subprocess.run([PY, str(Path(__file__)), *args], cwd=cwd, env=tool_env(), capture_output=True, text=True,
                        timeout=timeout)
    if cp.returncode != 0:
        raise RuntimeError(f"{args} failed: {cp.stderr[-3000:]}")
    return cp.stdout


def _timed(command: list[str], cwd: Path) -> float:
    from common import tool_env

    t0 = time.perf_counter()
    cp = subprocess.run(command, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=600)
    if cp.returncode != 0:
        raise RuntimeError(f"{command} failed: {cp.stderr[-3000:]}")
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=10_000)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--tools", default="hunchlab,mlflow")
    a = p.parse_args()

    from common import PY, VENV_BIN, init_store, rm, scratch_dir, write_result

    tools = a.tools.split(",")
    stores = {tool: scratch_dir(f"compare-{tool}") for tool in tools}
    commands = {"hunchlab": [str(VENV_BIN / "hunch"), "compare", "width=16", "width=64", "--json"],
                "mlflow": [PY, str(Path(__file__)), "_once", "mlflow", str(stores.get("mlflow"))]}
    results: dict = {tool: {} for tool in tools}
    try:
        for tool in tools:
            init_store(tool, stores[tool])
            t0 = time.perf_counter()
            _tool(["_make", tool, str(stores[tool]), str(a.examples), str(a.seeds)], cwd=stores[tool])
            results[tool]["setup_s"] = round(time.perf_counter() - t0, 1)
        load_before = os.getloadavg()[0]
        # Fresh processes, the tools taking turns so that both see the same load on a shared machine;
        # the first round is the warm-up (disk cache, .pyc files).
        cold: dict[str, list[float]] = {tool: [] for tool in tools}
        for i in range(a.repeat + 1):
            for tool in tools:
                t = _timed(commands[tool], stores[tool])
                if i:
                    cold[tool].append(round(t, 4))
        for tool in tools:
            printed = _tool(["_warm", tool, str(stores[tool]), str(a.repeat)], cwd=stores[tool])
            warm = json.loads(printed.splitlines()[-1])
            results[tool].update(end_to_end_s=round(statistics.median(cold[tool]), 4), end_to_end_all_s=cold[tool],
                                 warm_s=warm["median_s"], warm_all_s=warm["all_s"], answer=warm["answer"],
                                 end_to_end_command=" ".join(Path(c).name for c in commands[tool]))
            print(tool, {k: v for k, v in results[tool].items() if not k.endswith("all_s")}, flush=True)
        load_after = os.getloadavg()[0]
    finally:
        for store in stores.values():
            rm(store)
    write_result("compare", {
        "what": (f"compare two {a.seeds}-seed groups, {a.examples:,} example records per run "
                 f"({2 * a.seeds * a.examples:,} in all), 3 summary metrics: Welch t + t-intervals per metric, "
                 f"paired bootstrap ({RESAMPLES:,} resamples) on accuracy and score, McNemar, flips. "
                 "end_to_end_s: a fresh process (hunch compare --json / python + mlflow + pandas + scipy), the tools "
                 "taking turns; warm_s: the same work in a warm process, imports excluded. Medians after a warm-up."),
        "examples_per_run": a.examples, "seeds": a.seeds, "repeat": a.repeat, "results": results,
        # Other work on the machine slows imports most; the 1-minute load average says how busy it was.
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
    })


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        cmd, tool, store = sys.argv[1], sys.argv[2], Path(sys.argv[3])
        if cmd == "_make":
            {"hunchlab": make_hunchlab, "mlflow": make_mlflow}[tool](store, int(sys.argv[4]), int(sys.argv[5]))
        elif cmd == "_warm":
            print(json.dumps(warm_timings(tool, store, int(sys.argv[4]))))
        elif cmd == "_once":
            COMPARE[tool](store)
    else:
        sys.path.insert(0, str(BENCH))
        main()
