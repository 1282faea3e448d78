"""(c) 8 and 32 processes logging into one store at once.

N worker processes share one store: one hunchlab project, one MLflow sqlite database,
one W&B offline directory. Each worker imports its tool, says it is ready, waits for a
common "go" file, then starts its own run, logs --steps steps of 10 metrics and
finishes the run, so that run creation, logging and finishing all overlap. Every
exception from the tool is caught and counted (the first line of its message is kept,
e.g. "database is locked"); a call that raised is not acknowledged. After all workers
exit, every run is read back with the tool's reader in a fresh process.

    lost = sum of acknowledged points - sum of recovered points (over all runs)

Workers stop early at --max-seconds (reported as steps_attempted < steps_requested),
which keeps the slowest tool bounded on a 2-core machine.

    python bench/bench_concurrent.py [--procs 8,32] [--steps 1000] [--variants ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

from common import BENCH, PY, VARIANTS, init_store, rm, run_worker, runnable, scratch_dir, tool_env, write_result


def one_case(variant: str, procs: int, steps: int, max_seconds: float) -> dict:
    tool = VARIANTS[variant]
    store = scratch_dir(f"conc-{variant}-{procs}")
    try:
        init_store(variant, store)
        sync = store / "sync"
        sync.mkdir()
        go = sync / "go"
        workers = []
        for i in range(procs):
            err = open(sync / f"w{i}.stderr", "wb")
            workers.append((subprocess.Popen(
                [PY, str(BENCH / "worker.py"), "log", tool, "--store", str(store), "--name", f"w{i}",
                 "--steps", str(steps), "--ready", str(sync / f"ready{i}"), "--go", str(go),
                 "--out", str(sync / f"res{i}.json"), "--max-seconds", str(max_seconds)],
                cwd=store, env=tool_env(), stdout=subprocess.DEVNULL, stderr=err), err))
        deadline = time.monotonic() + 300
        while sum((sync / f"ready{i}").exists() for i in range(procs)) < procs:
            if time.monotonic() > deadline or all(w.poll() is not None for w, _ in workers):
                break
            time.sleep(0.02)
        ready = sum((sync / f"ready{i}").exists() for i in range(procs))
        t_go = time.perf_counter()
        go.write_text("go")
        rcs = []
        for w, err in workers:
            try:
                rcs.append(w.wait(timeout=max_seconds + 240))
            except subprocess.TimeoutExpired:
                w.kill()
                rcs.append("timeout")
            err.close()
        wall = time.perf_counter() - t_go
        pending = store / ".hunch" / "pending"  # hunchlab: the runs are folded by a background folder
        while tool == "hunchlab" and pending.is_dir() and any(pending.iterdir()) and time.perf_counter() - t_go < 600:
            time.sleep(0.05)
        folded = time.perf_counter() - t_go

        res, crashed = [], []
        for i in range(procs):
            f = sync / f"res{i}.json"
            r = json.loads(f.read_text()) if f.exists() else None
            if r is None or "fatal" in r:
                crashed.append({"worker": i, "rc": rcs[i], "fatal": (r or {}).get("fatal"),
                                "stderr_tail": (sync / f"w{i}.stderr").read_text(errors="replace")[-600:]})
            if r is not None:
                res.append(r)
        errors: dict[str, int] = {}
        for r in res:
            for k, n in (r.get("errors") or {}).items():
                errors[k] = errors.get(k, 0) + n
        for c in crashed:
            k = f"worker crashed: {c['fatal'] or ('rc=' + str(c['rc']))}"
            errors[k] = errors.get(k, 0) + 1
        acked = sum(r.get("acked_points", 0) for r in res)
        run_ids = [r["run_id"] for r in res if r.get("run_id")]
        back = run_worker(["read", tool, "--store", str(store), "--run-id", ",".join(run_ids)],
                          cwd=store, timeout=600) if run_ids else {"points": 0, "runs": {}, "read_errors": {}}
        lost = 0
        for r in res:
            if r.get("run_id"):
                lost += max(0, r.get("acked_points", 0) - back["runs"][r["run_id"]]["points"])
        return {
            "procs": procs, "ready_before_go": ready, "steps_requested": steps,
            "steps_attempted_min": min((r.get("steps_attempted", 0) for r in res), default=0),
            "runs_started": len(run_ids),
            "acked_points": acked, "recovered_points": back["points"], "lost_points": lost,
            "duplicates": back.get("duplicates", 0),
            "error_calls": sum(errors.values()), "errors": errors, "read_errors": back["read_errors"],
            "crashed_workers": crashed,
            "wall_s_go_to_all_exited": round(wall, 2),
            "wall_s_go_to_all_folded": round(folded, 2) if tool == "hunchlab" else None,
            "aggregate_points_per_s": round(acked / wall, 1),
            "worker_loop_s_max": max((r.get("loop_s", 0) for r in res), default=None),
            "workers": [{k: r.get(k) for k in ("name", "start_s", "loop_s", "finish_s", "steps_attempted",
                                               "acked_points", "errors")} for r in res],
        }
    finally:
        rm(store)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="hunchlab,mlflow,wandb,trackio")
    p.add_argument("--procs", default="8,32")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--max-seconds", type=float, default=60)
    a = p.parse_args()

    variants, skipped = runnable(a.variants, VARIANTS)
    results = {}
    for variant in variants:
        results[variant] = {}
        for n in (int(x) for x in a.procs.split(",")):
            try:
                r = one_case(variant, n, a.steps, a.max_seconds)
            except Exception as exc:
                r = {"procs": n, "fatal": str(exc)[-3000:]}
            results[variant][str(n)] = r
            print(variant, n, {k: r.get(k) for k in ("acked_points", "recovered_points", "lost_points",
                  "error_calls", "errors", "steps_attempted_min", "wall_s_go_to_all_exited", "fatal")},
                  flush=True)
    write_result("concurrent", {
        "what": "N processes, one store, all start/log/finish at once; errors = tool exceptions; "
                "lost = acknowledged - recovered points",
        "steps_per_worker": a.steps,
        "max_seconds_per_worker": a.max_seconds,
        "results": results,
        "skipped": skipped,
    })


if __name__ == "__main__":
    main()
