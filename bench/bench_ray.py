"""(m) The same 12-trial sweep on 1 and 2 Ray nodes, beside the local executor with 1 and 2 slots.

Each trial sleeps ``--sleep`` seconds (2 s: 24 s of trial time in all) and logs 8 points,
so the floor is 24 s on one slot and 12 s on two; what is above that is the executor's
cost (connecting, packing and shipping the code, starting Ray workers, streaming the
record back). The nodes are real ``ray start`` processes on this machine (1 CPU each),
each in a session of its own, started before a case is timed and stopped after (by pid:
never ``ray stop``, which would stop every Ray on the machine). Per case: wall time, the
CPU seconds of the ``hunch sweep`` process tree and of the Ray nodes' processes (user +
sys, from /proc), the load average before it, and how the trials spread over the nodes.

    python bench/bench_ray.py [--trials 12] [--sleep 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import VENV_BIN, hunch_available, rm, scratch_dir, tool_env, write_result

TRAIN = '''
import time
def main(run):
    for step in range(8):
        run.log({"loss": 1.0 / (step + 1 + run.config.x)}, step=step)
        time.sleep(run.config.sleep / 8)
    run.summary["x"] = run.config.x
'''
TICKS = os.sysconf("SC_CLK_TCK")


def project(sleep: float) -> Path:
    """A scratch git repo holding the entry, its spec and a hunchlab project."""
    root = scratch_dir("ray")
    (root / "train.py").write_text(TRAIN)
    (root / "exp.yaml").write_text(f"entry: train:main\nparams: {{x: 0, sleep: {sleep}}}\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "bench"]):
        subprocess.run([*git, *cmd], cwd=root, check=True)
    subprocess.run([str(VENV_BIN / "hunch"), "init"], cwd=root, env=tool_env(), check=True, capture_output=True)
    return root


class Node:
    """One ``ray start`` in a session of its own: its daemons and workers are that session's processes."""

    def __init__(self, temp: Path, env: dict[str, str], args: list[str]) -> None:
        proc = subprocess.Popen([str(VENV_BIN / "ray"), "start", *args, "--num-cpus", "1", "--temp-dir", str(temp),
                                 "--disable-usage-stats", "--node-ip-address", "127.0.0.1"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        self.sid = proc.pid  # the session it started, which its daemons and workers stay in
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            self.stop()
            raise RuntimeError(f"ray start failed: {out[-3000:]}")

    def members(self) -> list[int]:
        return [pid for pid in _pids() if (s := _stat(pid)) and int(s[3]) == self.sid and s[0] != "Z"]

    def cpu_seconds(self) -> float:
        return sum(sum(int(x) for x in _stat(pid)[11:15]) for pid in self.members()) / TICKS

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.members():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while self.members() and time.time() < deadline:
                time.sleep(0.2)


def _pids() -> list[int]:
    return [int(e.name) for e in os.scandir("/proc") if e.name.isdigit()]


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def timed(cmd: list[str], cwd: Path, env: dict[str, str], nodes: list[Node]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    nodes_before = sum(n.cpu_seconds() for n in nodes)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cp.returncode != 0:
        raise RuntimeError(f"{cmd[:5]} failed ({cp.returncode}): {cp.stderr[-2000:]}")
    runs = json.loads(subprocess.run([str(VENV_BIN / "hunch"), "runs", "--json"], cwd=cwd, env=env,
                                     capture_output=True, text=True, check=True).stdout)
    spread: dict[str, int] = {}
    for r in runs:
        meta = json.loads((cwd / ".hunch" / "runs" / r["id"] / "run.json").read_text())
        node = (meta.get("worker") or {}).get("node", "local")
        spread[node[:8]] = spread.get(node[:8], 0) + 1
    return {"wall_s": round(wall, 2), "cpu_s_driver": round((after.ru_utime - before.ru_utime)
                                                            + (after.ru_stime - before.ru_stime), 2),
            "cpu_s_nodes": round(sum(n.cpu_seconds() for n in nodes) - nodes_before, 2),
            "load_before": round(load, 2), "trials_per_node": sorted(spread.values(), reverse=True)}


def one_round(sweep: list[str], sleep: float, env: dict[str, str], temp: Path, port: int, nodes: list[Node],
              rounds: dict[str, list[dict]]) -> None:
    """The four cases once: local with 1 and 2 slots, then Ray on one node and on two."""

    def case(name: str, cmd: list[str]) -> None:
        root = project(sleep)
        try:
            rounds.setdefault(name, []).append(timed(cmd, root, env, nodes if "ray" in name else []))
        finally:
            rm(root)

    for name, jobs in (("local-j1", 1), ("local-j2", 2)):
        case(name, [*sweep, "--jobs", str(jobs)])
    if not nodes:
        nodes.append(Node(temp / "head", env, ["--head", "--port", str(port), "--include-dashboard", "false"]))
    for name, count in (("ray-1-node", 1), ("ray-2-nodes", 2)):
        while len(nodes) < count:
            nodes.append(Node(temp / f"node{len(nodes)}", env, ["--address", f"127.0.0.1:{port}"]))
            time.sleep(5)  # the node registers its CPU with the head
        case(name, [*sweep, "--executor", "ray", "--address", f"127.0.0.1:{port}"])
    while len(nodes) > 1:  # the next round starts again from one node
        nodes.pop().stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--sleep", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    if not hunch_available() or not (VENV_BIN / "ray").exists():
        raise SystemExit("hunchlab[ray] is not installed in bench/.venv: run bench/setup.sh")
    xs = ",".join(map(str, range(args.trials)))
    sweep = [str(VENV_BIN / "hunch"), "sweep", "exp.yaml", f"x={xs}"]
    rounds: dict[str, list[dict]] = {}
    temp = Path(tempfile.mkdtemp(prefix="hb-"))  # short: Ray's socket paths must fit 107 characters
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = tool_env({"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"})
    env.pop("RAY_ADDRESS", None)
    nodes: list[Node] = []
    try:
        for r in range(args.repeat):
            one_round(sweep, args.sleep, env, temp, port, nodes, rounds)
            for name, results in rounds.items():
                print(f"round {r + 1} {name}: {results[-1]}", flush=True)
    finally:
        for node in reversed(nodes):
            node.stop()
        shutil.rmtree(temp, ignore_errors=True)
    per = {name: {key: statistics.median(x[key] for x in results) for key in ("wall_s", "cpu_s_driver",
                                                                               "cpu_s_nodes", "load_before")}
           | {"trials_per_node": results[-1]["trials_per_node"]} for name, results in rounds.items()}
    floor = args.trials * args.sleep
    write_result("ray", {
        "what": f"{args.trials}-trial sweep, each trial sleeping {args.sleep} s and logging 8 points "
                f"({floor:g} s of trial time): the local executor with 1 and 2 slots, and Ray with 1 and 2 "
                "`ray start` nodes of 1 CPU on this machine",
        "trials": args.trials, "sleep_s": args.sleep, "repeat": args.repeat,
        "floor_s": {"one_slot": floor, "two_slots": floor / 2},
        "results": per, "rounds": rounds,
    })
    for name, row in per.items():
        print(f"{name:>12}: {row['wall_s']:6.1f} s wall  {row['cpu_s_driver']:5.1f} s cpu (driver)  "
              f"{row['cpu_s_nodes']:5.1f} s cpu (nodes)  trials per node {row['trials_per_node']}")


if __name__ == "__main__":
    main()
