"""(f) Failure triage at scale: a run with 1,000,000 example records.

What is timed (medians; each CLI figure is a whole `hunch` process, start-up included, as wall
time and as the child's CPU time (user + sys), which other load on the machine disturbs less):
    log      run.example(...) per call, in the logging loop (perf_counter_ns around each call),
             next to run.log({10 metrics}) in the same process (2,000 steps), and the fold into the store
             at the run's end (finish), with the logging process's peak RSS
    open     `hunch failures RUN --sample 100` in a pseudo-terminal (100x30): from spawn to the
             first example on screen. Every trial draws a new sample (a new --seed), so the
             draw is timed, not a stored sample; also --by topic (stratified) and --resume
    tag      one tag as typed in the view (Triage.tag: one write transaction)
    count    `hunch categories RUN` (100 tagged) and `hunch categories RUN --vs OTHER` (a
             second 1M-record run)
    list     `hunch failures RUN --sample 100 --json`, `hunch examples RUN --where correct=false
             --where topic=algebra` (table: count + first 50)
    script   the script a user would otherwise write: read the run's events.jsonl with json,
             keep the failures, random.sample 100 of them (what a notebook does first)

    python bench/bench_triage.py [--examples 1000000] [--fail 0.25] [--reps 5]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from common import PY, VENV_BIN, hunch_available, rm, scratch_dir, tool_env, write_result

LOG_RUN = r'''
import json, resource, sys, time
import hunchlab
n, fail, name = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
topics = ("algebra", "geometry", "counting", "probability", "number theory")
run = hunchlab.start(config={"examples": n}, name=name)
lat, t0 = [], time.perf_counter()
for i in range(n):
    wrong = (i * 2654435761 % 1000) < fail * 1000  # a fixed, scattered quarter of the ids fails
    question = f"Problem {i}: a {topics[i % 5]} question whose statement runs to about a hundred characters."
    s = time.perf_counter_ns()
    run.example(id=f"q{i:07d}", input=question, output=f"The answer is {i + wrong}", target=f"The answer is {i}",
                correct=not wrong, score=0.0 if wrong else 1.0, topic=topics[i % 5], difficulty=i % 4)
    lat.append(time.perf_counter_ns() - s)
loop = time.perf_counter() - t0
metrics = {f"m{k}": 0.5 for k in range(10)}
log_lat = []
for step in range(2000):
    s = time.perf_counter_ns()
    run.log(metrics, step=step)
    log_lat.append(time.perf_counter_ns() - s)
t1 = time.perf_counter()
run.finish()  # writes the end line; the background folder folds (hunchlab.background)
fold = time.perf_counter() - t1
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
marker = run.project.pending_dir / run.id
while marker.exists():
    time.sleep(0.01)
folded = time.perf_counter() - t1
lat.sort(); log_lat.sort()
print(json.dumps({"run_id": run.id, "examples": n, "loop_s": loop, "examples_per_s": n / loop,
                  "example_p50_us": lat[n // 2] / 1e3, "example_p99_us": lat[int(n * 0.99)] / 1e3,
                  "log_p50_us": log_lat[1000] / 1e3, "log_p99_us": log_lat[1980] / 1e3,
                  "finish_fold_s": fold, "folded_in_background_s": folded, "fold_records_per_s": n / folded,
                  "peak_rss_mib": rss}))
'''

TAG = r'''
import json, sys, time
from hunchlab import triage
cats = ["off by one", "parse error", "units", "sign", "other"]
with triage.open_failures(sys.argv[1], sample=100, seed=0) as t:
    times = []
    for p in range(len(t)):
        s = time.perf_counter()
        t.tag(p, cats[min(4, int((p * 7919 % 100) ** 0.5 / 2))])
        times.append(time.perf_counter() - s)
print(json.dumps({"tag_ms_median": 1e3 * sorted(times)[len(times) // 2], "tagged": len(times)}))
'''

SCRIPT = r'''
import json, random, sys, time
t0 = time.perf_counter()
failures = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        e = json.loads(line)
        if e.get("t") == "example" and e["d"]["correct"] is False:
            failures.append(e["d"])
sample = random.Random(0).sample(failures, 100)
print(json.dumps({"s": time.perf_counter() - t0, "failures": len(failures)}))
'''


def hunch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "hunch"), *args], cwd=cwd, env=tool_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600, check=True)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def summary(walls: list[float], cpus: list[float]) -> dict:
    return {"median_s": round(statistics.median(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3),
            "all_s": [round(t, 3) for t in walls]}


def timed_cli(args: list[str], cwd: Path, reps: int) -> dict:
    hunch(*args, cwd=cwd)  # warm-up: disk cache, .pyc files
    walls, cpus = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), child_cpu()
        hunch(*args, cwd=cwd)
        walls.append(time.perf_counter() - t0)
        cpus.append(child_cpu() - c0)
    return summary(walls, cpus)


def open_in_pty(args: list[str], cwd: Path, until: bytes, rows: int = 30, cols: int = 100) -> tuple[float, float]:
    """Seconds from spawning ``hunch ARGS`` on a pseudo-terminal to ``until`` appearing on it, then q;
    and the child's CPU seconds (up to its exit, so quitting is included)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = tool_env({"TERM": "xterm-256color"})
    t0, c0 = time.perf_counter(), child_cpu()
    proc = subprocess.Popen([str(VENV_BIN / "hunch"), *args], cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    seen, elapsed = b"", None
    try:
        while elapsed is None:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise RuntimeError(f"nothing on the terminal for 60 s: {seen[-2000:]!r}")
            seen += os.read(master, 65536)
            if until in seen:
                elapsed = time.perf_counter() - t0
        os.write(master, b"q")
        while proc.poll() is None:  # drain so the child never blocks on a full pty
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return elapsed, child_cpu() - c0


def timed_open(args: list[str], cwd: Path, reps: int, seeds: bool) -> dict:
    open_in_pty([*args, *(["--seed", "999"] if seeds else [])], cwd, b"example 1/")  # warm-up
    timed = [open_in_pty([*args, *(["--seed", str(s)] if seeds else [])], cwd, b"example 1/") for s in range(reps)]
    return summary([w for w, _ in timed], [c for _, c in timed])


def log_run(store: Path, n: int, fail: float, name: str) -> dict:
    cp = subprocess.run([PY, "-c", LOG_RUN, str(n), str(fail), name], cwd=store, env=tool_env(), capture_output=True,
                        text=True, timeout=3600, check=False)
    if cp.returncode:
        raise RuntimeError(cp.stderr[-3000:])
    out = json.loads(cp.stdout.splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=1_000_000)
    p.add_argument("--fail", type=float, default=0.25, help="Share of examples that fail.")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="Keep the scratch project (its path is printed).")
    a = p.parse_args()
    if not hunch_available():
        sys.exit("hunchlab is not installed in bench/.venv (bench/setup.sh)")

    store = scratch_dir("triage")
    try:
        hunch("init", cwd=store)
        print(f"logging {a.examples:,} examples ({store})", flush=True)
        log = log_run(store, a.examples, a.fail, "eval")
        other = log_run(store, a.examples, a.fail / 2, "eval-after-fix")
        run_id = log["run_id"]
        print(json.dumps(log), flush=True)
        size = sum(f.stat().st_size for f in (store / ".hunch").rglob("*") if f.is_file())
        results: dict = {"log": log, "log_second_run": other, "project_bytes_two_runs": size}
        print("timing the failures view", flush=True)
        results["open_failures_sample_100_new_draw"] = timed_open(["failures", run_id, "--sample", "100"], store,
                                                                  a.reps, seeds=True)
        results["open_failures_by_topic_new_draw"] = timed_open(["failures", run_id, "--sample", "100", "--by", "topic"],
                                                                store, a.reps, seeds=True)
        hunch("failures", run_id, "--sample", "100", "--json", cwd=store)
        results["open_failures_resume"] = timed_open(["failures", run_id, "--resume"], store, a.reps, seeds=False)
        tag = subprocess.run([PY, "-c", TAG, run_id], cwd=store, env=tool_env(), capture_output=True, text=True,
                             check=True)
        results["tag"] = json.loads(tag.stdout.splitlines()[-1])
        print("timing categories and listings", flush=True)
        results["categories"] = timed_cli(["categories", run_id], store, a.reps)
        results["categories_vs"] = timed_cli(["categories", run_id, "--vs", other["run_id"]], store, a.reps)
        results["failures_json"] = timed_cli(["failures", run_id, "--sample", "100", "--json"], store, a.reps)
        results["examples_filtered_table"] = timed_cli(
            ["examples", run_id, "--where", "correct=false", "--where", "topic=algebra"], store, a.reps)
        script = subprocess.run([PY, "-c", SCRIPT, str(store / ".hunch" / "runs" / run_id / "events.jsonl")],
                                capture_output=True, text=True, check=True)
        results["script_baseline"] = json.loads(script.stdout.splitlines()[-1])
        results["categories_output"] = hunch("categories", run_id, "--vs", other["run_id"], cwd=store).stdout
        write_result("triage", {
            "what": "one run with --examples example records (input ~100 chars, two fields), --fail of them failing; "
                    "CLI figures are whole `hunch` processes on a warm disk cache, medians of --reps",
            "examples": a.examples, "fail": a.fail, "load_avg_at_end": os.getloadavg(), "results": results,
        })
    finally:
        if a.keep:
            print(f"kept {store}")
        else:
            rm(store)


if __name__ == "__main__":
    main()
