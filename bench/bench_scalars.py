"""(j) What reading metrics from stdout costs: `hunch run` of a command entry printing lines.

The entry prints --rate lines a second for --seconds (paced in 10 ms ticks), one line in
two a metric line (`step N | loss X | lr Y`) and the others plain log text. Each trial
runs it twice through the real `hunch run`, with stdout scalars off (`metrics_from:
false`) and on (the default), alternating which goes first; the figure is the median over
trials of the wall time of the whole `hunch run` command, and the overhead is
(on - off) / off. The issue's bound: < 5% at 10,000 lines/s. CPU time (user + sys of the
`hunch run` process and its entry) is recorded beside it: the extra CPU of reading, as a
share of the wall time, is what parsing takes from a machine whose cores are all busy. The parser alone is also
timed in one process (CPU µs a line, fed 64 KiB chunks as the runner feeds it, the
logging call left out), which the load on the machine disturbs less.

    python bench/bench_scalars.py [--rate 10000] [--seconds 5] [--trials 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time

from common import VENV_BIN, rm, scratch_dir, tool_env, write_result

SCRIPT = """
import sys, time
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
per_tick = max(1, rate // 100)
start = time.perf_counter()
n = 0
for tick in range(int(seconds * 100)):
    lines = []
    for _ in range(per_tick):
        if n % 2:
            lines.append(f"step {n} | loss {1 / (n + 1):.6f} | lr 0.0003")
        else:
            lines.append(f"[data] loaded shard {n} of the training set from disk")
        n += 1
    sys.stdout.write("\\n".join(lines) + "\\n")
    sys.stdout.flush()
    delay = start + (tick + 1) / 100 - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
"""


def one(project, spec: str) -> tuple[float, float]:
    """Wall time and CPU time (user + sys of `hunch run` and its entry) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([str(VENV_BIN / "hunch"), "run", spec, "--no-predict", "-q"], cwd=project, env=tool_env(),
                   check=True, capture_output=True, timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parser_us_per_line(lines: int = 200_000) -> float:
    from hunchlab.execute.scalars import build

    text = "".join(f"step {n} | loss {1 / (n + 1):.6f} | lr 0.0003\n" if n % 2 else
                   f"[data] loaded shard {n} of the training set from disk\n" for n in range(lines)).encode()
    parser = build(None, command=True, log=lambda values, step: None)
    assert parser is not None
    t0 = time.process_time()  # CPU time: what the parsing thread takes from the machine
    for i in range(0, len(text), 65536):
        parser.feed(text[i:i + 65536])
    return (time.process_time() - t0) / lines * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--trials", type=int, default=5)
    a = p.parse_args()
    project = scratch_dir("scalars")
    try:
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        subprocess.run([str(VENV_BIN / "hunch"), "init"], cwd=project, env=tool_env(), check=True, capture_output=True)
        (project / "printer.py").write_text(SCRIPT)
        command = f"command: python printer.py {a.rate} {a.seconds}\n"
        (project / "off.yaml").write_text(command + "metrics_from: false\n")
        (project / "on.yaml").write_text(command)
        one(project, "on.yaml")  # warm-up: .pyc files, the store
        walls: dict[str, list[float]] = {"off": [], "on": []}
        cpus: dict[str, list[float]] = {"off": [], "on": []}
        for trial in range(a.trials):
            for mode in (("off", "on") if trial % 2 == 0 else ("on", "off")):
                wall, cpu = one(project, f"{mode}.yaml")
                walls[mode].append(wall)
                cpus[mode].append(cpu)
        off, on = statistics.median(walls["off"]), statistics.median(walls["on"])
        cpu_off, cpu_on = statistics.median(cpus["off"]), statistics.median(cpus["on"])
        result = {"rate_lines_per_s": a.rate, "seconds": a.seconds, "trials": a.trials, "wall_s": walls,
                  "cpu_s": cpus, "median_off_s": off, "median_on_s": on, "overhead_pct": 100 * (on - off) / off,
                  "cpu_median_off_s": cpu_off, "cpu_median_on_s": cpu_on,
                  "cpu_extra_pct_of_wall": 100 * (cpu_on - cpu_off) / off,
                  "parser_us_per_line": parser_us_per_line(), "loadavg_end": os.getloadavg()}
    finally:
        rm(project)
    print(result)
    write_result("scalars", result)


if __name__ == "__main__":
    main()
