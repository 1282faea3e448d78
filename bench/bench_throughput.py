"""(a) Per-step logging throughput and per-call latency.

One process, one run, 10 metrics per call, 10,000 steps, the ordinary per-step call.
points = metrics x acknowledged steps; points/s = points / wall time of the logging loop,
a loop with nothing in it but the call (run start and finish are reported separately,
and also folded into an end-to-end figure, because an asynchronous logger can defer
work to finish()). Each step's dict of ten numbers is made before the loop (--dicts
prebuilt; making them in the loop, as this harness did before 2026-12-05, adds ~1.05 us
a step of the harness's own work, a third of a hunchlab call). Before the timed run the
same process logs an untimed warm-up run. Afterwards the run is read back in a fresh
process to check that every point is there. The per-call latency comes from a second
run of the same length in a second process, each call timed with perf_counter_ns, so
the clock reads are not in the throughput loop.

    python bench/bench_throughput.py [--variants hunchlab,mlflow,wandb,trackio,hunchlab-machine,wandb-compat]
                                     [--steps 10000] [--trials 3] [--dicts prebuilt|in-loop]
"""

from __future__ import annotations

import argparse
import statistics

from common import VARIANTS, init_store, rm, run_worker, runnable, scratch_dir, write_result

WARMUP = {"mlflow": 100, "hunchlab-machine": 100}  # ms-per-call variants: a short warm-up
TRIALS = {"mlflow": 1, "hunchlab-machine": 1}  # ~1 minute of calls each: one trial
# fsync per call costs milliseconds on this disk: 2,000 steps give a stable per-call
# figure in seconds instead of a minute (points/s does not depend on the step count).
STEPS = {"hunchlab-machine": 2000}


def one_trial(variant: str, steps: int, dicts: str) -> dict:
    steps = min(steps, STEPS.get(variant, steps))
    tool = VARIANTS[variant]
    store = scratch_dir(f"tput-{variant}")
    try:
        init_store(variant, store)
        log = ["log", tool, "--store", str(store), "--steps", str(steps), "--dicts", dicts,
               "--warmup", str(WARMUP.get(variant, WARMUP.get(tool, 1000))), "--max-seconds", "240"]
        res = run_worker(log + ["--wait-folded"], cwd=store, timeout=400)
        back = run_worker(["read", tool, "--store", str(store), "--run-id", res["run_id"]],
                          cwd=store, timeout=300)
        res["recovered_points"] = back["points"]
        res["recovered_duplicates"] = back["duplicates"]
        res["read_back_s"] = back["read_s"]
        timed = run_worker(log + ["--latency", "--name", "latency"], cwd=store, timeout=400)
        res.update({k: timed[k] for k in ("p50_us", "p99_us", "mean_us", "max_us")})
        res["latency_run_points_per_s"] = timed["points_per_s"]  # its loop holds two clock reads a call
        return res
    finally:
        rm(store)


def fsync_floor(n: int = 200) -> dict:
    """What one small append + fsync costs on the scratch filesystem: the floor under any
    per-call durable commit (hunchlab `durability: machine`, SQLite's commit)."""
    import os
    import time

    d = scratch_dir("fsync")
    try:
        fd = os.open(d / "f", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        ns = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            os.write(fd, b"x" * 120 + b"\n")
            os.fsync(fd)
            ns.append(time.perf_counter_ns() - t0)
        os.close(fd)
    finally:
        rm(d)
    ns.sort()
    return {"appends": n, "p50_us": round(ns[n // 2] / 1000, 1), "p99_us": round(ns[int(n * 0.99)] / 1000, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="hunchlab,hunchlab-machine,mlflow,wandb,trackio")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--dicts", default="prebuilt", choices=["prebuilt", "in-loop"],
                   help="make each step's dict before the timed loop (default) or in it")
    p.add_argument("--result", default="throughput",
                   help="result file name (bench/results/NAME.json); another name keeps a partial rerun apart")
    a = p.parse_args()

    variants, skipped = runnable(a.variants, VARIANTS)
    results = {}
    for variant in variants:
        trials = []
        for t in range(TRIALS.get(variant, a.trials)):
            try:
                r = one_trial(variant, a.steps, a.dicts)
            except Exception as exc:
                r = {"fatal": str(exc)[-3000:]}
            trials.append(r)
            print(variant, t, {k: r.get(k) for k in ("points_per_s", "p50_us", "p99_us", "acked_points",
                                                     "recovered_points", "errors", "fatal")}, flush=True)
        ok = [r for r in trials if "points_per_s" in r]
        if not ok:
            results[variant] = {"trials": trials, "error": "no trial completed"}
            continue
        # The reported trial is the median one by throughput; all trials are kept.
        rep = sorted(ok, key=lambda r: r["points_per_s"])[len(ok) // 2]
        results[variant] = {
            "steps": rep["acked_steps"],
            "points": rep["acked_points"],
            "points_per_s": rep["points_per_s"],
            "p50_us": rep["p50_us"],
            "p99_us": rep["p99_us"],
            "mean_us": rep["mean_us"],
            "latency_run_points_per_s": rep["latency_run_points_per_s"],
            "max_us": rep["max_us"],
            "start_s": rep["start_s"],
            "finish_s": rep["finish_s"],
            "folded_after_finish_s": rep.get("folded_after_finish_s"),  # hunchlab: by the background folder
            "points_per_s_incl_start_finish": rep["points_per_s_incl_start_finish"],
            "recovered_points": rep["recovered_points"],
            "recovered_duplicates": rep["recovered_duplicates"],
            "errors": rep["errors"],
            "points_per_s_all_trials": [r["points_per_s"] for r in ok],
            "points_per_s_spread": (round(statistics.pstdev([r["points_per_s"] for r in ok]), 1)
                                    if len(ok) > 1 else None),
            "trials": trials,
        }
    write_result(a.result, {
        "what": "one process, 10 metrics per call; points/s over a loop of nothing but the call, each step's "
                f"dict made {'before' if a.dicts == 'prebuilt' else 'in'} the loop; per-call latency from a second "
                "run, each call timed with perf_counter_ns; median trial reported",
        "dicts": a.dicts,
        "steps_requested": a.steps,
        "fsync_floor": fsync_floor(),
        "results": results,
        "skipped": skipped,
    })


if __name__ == "__main__":
    main()
