"""(b) Acknowledged vs recovered points after kill -9.

A worker logs 10 metrics per step as fast as it can, with no end. After each log call
RETURNS it stores the number of acknowledged steps in a 4 KiB mmap'd file (MAP_SHARED:
the page cache keeps what was written when the process dies). About 2 s after logging
began, the parent sends SIGKILL, then reads what the tool kept with the tool's own
reader in a fresh process:

    hunchlab: hunchlab.get_run(id) (folds the event file), and on the first kill of each
              scope also `hunch show ID --json`, which must agree
    mlflow:   MlflowClient.get_metric_history per metric (sqlite store)
    wandb:    the offline run's .wandb file, parsed record by record (see worker.py)

lost = acknowledged points - recovered points (negative would mean a call that was in
flight when the kill landed was kept, which is fine; it is reported as in_flight_kept).

Two kill scopes:
    process  SIGKILL to the logging process only (what the OOM killer or `kill -9 PID`
             does). Helper processes the tool spawned (wandb-core, which runs in its own
             session) may live on; the parent waits up to 20 s for them to exit before
             reading, so they get every chance to flush.
    tree     the logging process and every descendant are SIGSTOPped, then SIGKILLed, so
             they die at the same instant (a scheduler cancelling a job, a container or
             machine going away): helpers get no time to flush.

    python bench/bench_kill.py [--variants ...] [--trials N] [--after 2.0]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time

from common import (
    BENCH,
    PY,
    VARIANTS,
    VENV_BIN,
    init_store,
    rm,
    run_worker,
    runnable,
    scratch_dir,
    tool_env,
    write_result,
)
from worker import ack_create, ack_read


def _stat(pid: int) -> list[str] | None:
    try:
        raw = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()  # [state, ppid, ...]


def descendants(root: int) -> list[int]:
    """Every live descendant of ``root`` (children first found by walking /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _stat(int(name))):
            children.setdefault(int(st[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def kill_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def one_trial(variant: str, scope: str, after: float, cli_check: bool = True) -> dict:
    tool = VARIANTS[variant]
    store = scratch_dir(f"kill-{variant}")
    try:
        init_store(variant, store)
        ack = store / "ack.bin"
        ack_create(ack)
        errlog = open(store / "worker.stderr", "wb")
        proc = subprocess.Popen(
            [PY, str(BENCH / "worker.py"), "log", tool, "--store", str(store), "--steps", str(10**9),
             "--ack", str(ack)],
            cwd=store, env=tool_env(), stdout=subprocess.DEVNULL, stderr=errlog,
            start_new_session=True,  # its own session: signals to the bench never reach it
        )
        deadline = time.monotonic() + 120
        while ack_read(ack)["state"] != 1:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early: {(store / 'worker.stderr').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("worker never started logging")
            time.sleep(0.01)
        time.sleep(after)
        helpers = descendants(proc.pid)
        if scope == "tree":
            kill_all([proc.pid, *helpers], signal.SIGSTOP)
            kill_all([proc.pid, *helpers], signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        errlog.close()
        t_kill = time.monotonic()
        while any(alive(h) for h in helpers) and time.monotonic() - t_kill < 20:
            time.sleep(0.05)
        helpers_lingered_s = round(time.monotonic() - t_kill, 2)
        kill_all([h for h in helpers if alive(h)], signal.SIGKILL)  # leave no strays behind
        a = ack_read(ack)
        acked_points = a["acked_steps"] * 10
        out = {"scope": scope, "run_id": a["run_id"], "acked_steps": a["acked_steps"],
               "acked_points": acked_points, "helpers": len(helpers), "helpers_exit_wait_s": helpers_lingered_s}
        if tool == "hunchlab":  # the first read after the kill folds what was logged: time it as a user sees it
            t0 = time.perf_counter()
            subprocess.run([str(VENV_BIN / "hunch"), "show", a["run_id"]], cwd=store, env=tool_env(),
                           capture_output=True, timeout=600, check=True)
            out["first_show_s"] = round(time.perf_counter() - t0, 3)
        back = run_worker(["read", tool, "--store", str(store), "--run-id", a["run_id"]],
                          cwd=store, timeout=300)
        rec = back["points"]
        out.update(recovered_points=rec, duplicates=back["duplicates"], read_s=back["read_s"], read_errors=back["read_errors"],
                   lost_points=max(0, acked_points - rec), in_flight_kept=max(0, rec - acked_points))
        if tool == "hunchlab" and cli_check:  # the CLI reader must agree with the API reader
            cli = run_worker(["read", tool, "--store", str(store), "--run-id", a["run_id"],
                              "--via", "cli"], cwd=store, timeout=300)
            out["recovered_points_cli"] = cli["points"]
            out["cli_read_s"] = cli["read_s"]
            out["cli_read_errors"] = cli["read_errors"]
        return out
    finally:
        rm(store)


TRIALS = {"wandb": 3}  # W&B's loss varies from kill to kill: one more trial


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="hunchlab,hunchlab-machine,mlflow,wandb,trackio")
    p.add_argument("--scopes", default="process,tree")
    p.add_argument("--trials", type=int, default=None, help="per variant (default: 2, W&B 3)")
    p.add_argument("--after", type=float, default=2.0, help="seconds of logging before the kill")
    a = p.parse_args()

    variants, skipped = runnable(a.variants, VARIANTS)
    results = {}
    for variant in variants:
        results[variant] = {}
        for scope in a.scopes.split(","):
            trials = []
            for t in range(a.trials or TRIALS.get(variant, 2)):
                try:
                    r = one_trial(variant, scope, a.after, cli_check=(t == 0))
                except Exception as exc:
                    r = {"scope": scope, "fatal": str(exc)[-3000:]}
                trials.append(r)
                print(variant, scope, t, {k: r.get(k) for k in ("acked_points", "recovered_points",
                      "recovered_points_cli", "lost_points", "helpers", "helpers_exit_wait_s", "fatal")}, flush=True)
            ok = [r for r in trials if "lost_points" in r]
            results[variant][scope] = {
                "trials_ok": len(ok),
                "acked_points": [r["acked_points"] for r in ok],
                "recovered_points": [r["recovered_points"] for r in ok],
                "lost_points": [r["lost_points"] for r in ok],
                "lost_points_max": max((r["lost_points"] for r in ok), default=None),
                "lost_points_total": sum(r["lost_points"] for r in ok),
                "duplicates_total": sum(r["duplicates"] for r in ok),
                "trials": trials,
            }
            if VARIANTS[variant] == "hunchlab":
                results[variant][scope]["first_show_s"] = [r["first_show_s"] for r in ok if "first_show_s" in r]
                results[variant][scope]["cli_agrees"] = all(
                    r["recovered_points_cli"] == r["recovered_points"] for r in ok if "recovered_points_cli" in r)
    write_result("kill9", {
        "what": "SIGKILL about --after seconds into logging; acknowledged steps read from an mmap'd "
                "counter written after each returned call; recovered = what the tool's reader returns",
        "after_s": a.after,
        "results": results,
        "skipped": skipped,
    })


if __name__ == "__main__":
    main()
