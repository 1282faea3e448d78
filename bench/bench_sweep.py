"""(f) A 64-trial sweep of a tiny entry: trials per minute and hunchlab's overhead per trial.

The entry does a few milliseconds of work (a 20,000-step integer loop), logs 10 steps and
one summary metric. The same sweep (x = 0..63) is run four ways, each in a fresh scratch
project (a git repo, so hunchlab captures and restores a code state as it would for you):

- ``bash``: a plain bash loop of ``python train.py $i`` (no tracking at all: the floor);
- ``wandb-loop``: a bash loop of ``python train_wandb.py $i``, each a W&B run in offline mode,
  over the first ``--wandb-trials`` values only (each run takes seconds; the figure is per trial).
  W&B *sweeps* need the W&B server to create the sweep and hand out configs: ``wandb.sweep``
  fails offline with "No API key configured"; that attempt is recorded too;
- ``hunch-j1``: ``hunch sweep exp.yaml x=0,...,63 --jobs 1`` (and a 16-trial sweep, for the slope);
- ``hunch-jN``: the same with ``--jobs`` = the number of cores.

hunchlab's overhead per trial is its time per trial minus the bash loop's, both sequential:
"amortized" divides the whole ``hunch sweep`` command (start-up, snapshot, final table
included) by 64; "marginal" is the slope between the 16- and the 64-trial sweeps, which leaves
the fixed cost out. CPU seconds (user + sys of the whole process tree, from rusage) are
reported beside wall time because they do not depend on what else the machine is doing.
Each figure is the median of ``--repeat`` rounds; the rounds interleave the variants, and the
load average is recorded with each.

    python bench/bench_sweep.py [--trials 64] [--repeat 3] [--jobs N] [--wandb-trials 16]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

from common import PY, VENV_BIN, hunch_available, rm, scratch_dir, tool_env, write_result

WORK = '''
def work(x):
    s = 0
    for i in range(20000):
        s += (i * x) % 7
    return s
'''

TRAIN = WORK + '''
def main(run):
    for step in range(10):
        run.log({"loss": 1.0 / (step + 1 + run.config.x)}, step=step)
    run.summary["score"] = work(run.config.x) / 1e5

if __name__ == "__main__":
    import sys
    x = int(sys.argv[1])
    for step in range(10):
        loss = 1.0 / (step + 1 + x)
    print(work(x) / 1e5)
'''

TRAIN_WANDB = WORK + '''
import sys
import wandb

x = int(sys.argv[1])
run = wandb.init(project="bench-sweep", config={"x": x}, mode="offline")
for step in range(10):
    run.log({"loss": 1.0 / (step + 1 + x)}, step=step)
run.summary["score"] = work(x) / 1e5
run.finish()
'''


def project() -> Path:
    """A scratch git repo holding the entry, its spec and a hunchlab project."""
    root = scratch_dir("sweep")
    (root / "train.py").write_text(TRAIN)
    (root / "train_wandb.py").write_text(TRAIN_WANDB)
    (root / "exp.yaml").write_text("entry: train:main\nparams: {x: 0}\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "bench"]):
        subprocess.run([*git, *cmd], cwd=root, check=True)
    subprocess.run([str(VENV_BIN / "hunch"), "init"], cwd=root, env=tool_env(), check=True, capture_output=True)
    return root


def timed(cmd: list[str], cwd: Path) -> dict:
    """Wall and CPU seconds (user + sys of every process it waited for) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cp.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({cp.returncode}): {cp.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load_before": round(load, 2)}


def variants(n: int, jobs: int, wandb_trials: int) -> dict[str, tuple[list[str], int]]:
    """name -> (command, trials). Each runs in its own fresh project."""
    xs = ",".join(map(str, range(n)))

    def loop(script: str, trials: int) -> list[str]:
        return ["bash", "-c", f'for i in $(seq 0 {trials - 1}); do "{PY}" {script} $i > /dev/null; done']

    out = {
        "bash": (loop("train.py", n), n),
        "hunch-j1": ([str(VENV_BIN / "hunch"), "sweep", "exp.yaml", f"x={xs}", "--jobs", "1"], n),
        "hunch-j1-16": ([str(VENV_BIN / "hunch"), "sweep", "exp.yaml", f"x={','.join(map(str, range(16)))}",
                         "--jobs", "1"], 16),
        f"hunch-j{jobs}": ([str(VENV_BIN / "hunch"), "sweep", "exp.yaml", f"x={xs}", "--jobs", str(jobs)], n),
    }
    if wandb_trials:
        out["wandb-loop"] = (loop("train_wandb.py", wandb_trials), wandb_trials)
    return out


def wandb_sweep_offline() -> str:
    """Try to create a W&B sweep offline; returns what happened."""
    code = ("import wandb\n"
            "try:\n"
            "    print('created', wandb.sweep({'method': 'grid', 'parameters': {'x': {'values': [0, 1]}}},"
            " project='bench-sweep'))\n"
            "except Exception as e:\n"
            "    print(f'{type(e).__name__}: {e}')\n")
    root = scratch_dir("wandb-sweep")
    try:
        cp = subprocess.run([PY, "-c", code], cwd=root, env=tool_env(), capture_output=True, text=True, timeout=120)
        return (cp.stdout.strip().splitlines() or [cp.stderr.strip()[-300:]])[-1]
    finally:
        rm(root)


def has_wandb() -> bool:
    return subprocess.run([PY, "-c", "import wandb"], capture_output=True).returncode == 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--wandb-trials", type=int, default=16, help="0 skips W&B")
    args = p.parse_args()
    if not hunch_available():
        raise SystemExit("hunchlab is not installed in bench/.venv: run bench/setup.sh")
    wandb = has_wandb() and args.wandb_trials > 0
    cases = variants(args.trials, args.jobs, args.wandb_trials if wandb else 0)
    rounds: dict[str, list[dict]] = {name: [] for name in cases}
    for r in range(args.repeat + 1):  # round 0 warms caches (pyc files, the page cache) and is not kept
        for name, (cmd, _) in cases.items():
            root = project()
            try:
                result = timed(cmd, root)
            finally:
                rm(root)
            if r:
                rounds[name].append(result)
                print(f"round {r} {name}: {result}", flush=True)

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in rounds[name])

    n = args.trials
    per = {name: {"trials": t, "wall_s": med(name, "wall_s"), "cpu_s": med(name, "cpu_s"),
                  "trials_per_min": round(60 * t / med(name, "wall_s"), 1),
                  "wall_ms_per_trial": round(1000 * med(name, "wall_s") / t, 1),
                  "cpu_ms_per_trial": round(1000 * med(name, "cpu_s") / t, 1)}
           for name, (_, t) in cases.items()}
    bash = per["bash"]
    # the marginal cost is the slope between the 16-trial and the n-trial sweeps (none when n is 16)
    slope_wall = (per["hunch-j1"]["wall_s"] - per["hunch-j1-16"]["wall_s"]) / (n - 16) if n > 16 else None
    slope_cpu = (per["hunch-j1"]["cpu_s"] - per["hunch-j1-16"]["cpu_s"]) / (n - 16) if n > 16 else None
    overhead = {
        "amortized_wall_ms_per_trial": round(per["hunch-j1"]["wall_ms_per_trial"] - bash["wall_ms_per_trial"], 1),
        "marginal_wall_ms_per_trial": None if slope_wall is None else round(1000 * slope_wall - bash["wall_ms_per_trial"], 1),
        "amortized_cpu_ms_per_trial": round(per["hunch-j1"]["cpu_ms_per_trial"] - bash["cpu_ms_per_trial"], 1),
        "marginal_cpu_ms_per_trial": None if slope_cpu is None else round(1000 * slope_cpu - bash["cpu_ms_per_trial"], 1),
        "fixed_cost_per_sweep_s": None if slope_wall is None else round(per["hunch-j1"]["wall_s"] - n * slope_wall, 2),
        # --jobs N against the same sequential bash loop: wall shows the parallelism, CPU what each trial costs
        f"amortized_wall_ms_per_trial_j{args.jobs}": round(per[f"hunch-j{args.jobs}"]["wall_ms_per_trial"]
                                                           - bash["wall_ms_per_trial"], 1),
        f"amortized_cpu_ms_per_trial_j{args.jobs}": round(per[f"hunch-j{args.jobs}"]["cpu_ms_per_trial"]
                                                          - bash["cpu_ms_per_trial"], 1),
        "target_ms_per_trial": 30,  # issue 23
    }
    if wandb:
        overhead["wandb_offline_run_wall_ms_per_trial"] = round(per["wandb-loop"]["wall_ms_per_trial"]
                                                                - bash["wall_ms_per_trial"], 1)
    write_result("sweep", {
        "what": f"{n}-trial sweep of a tiny entry (~3 ms of work, 10 logged steps); sequential and --jobs "
                f"{args.jobs}; overhead = time per trial minus a bash loop of plain `python train.py`",
        "trials": n, "repeat": args.repeat, "jobs": args.jobs,
        "wandb_sweep_offline": wandb_sweep_offline() if wandb else "wandb not installed in bench/.venv",
        "results": per, "overhead": overhead, "rounds": rounds,
    })
    for name, row in per.items():
        print(f"{name:>12}: {row['trials_per_min']:8.1f} trials/min  {row['wall_ms_per_trial']:7.1f} ms/trial wall"
              f"  {row['cpu_ms_per_trial']:6.1f} ms/trial cpu")
    print("hunchlab overhead per trial:", overhead)


if __name__ == "__main__":
    main()
