"""A sweep's trials start from the fork server (``execute/forkserver.py``): through the real `hunch sweep`,
each ends, and is recorded, as a Python program started on its own would be."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hunchlab import run_records

ENDS = '''
import atexit, os, signal, sys, threading, time
import helper

def main(run):
    how = run.config.how
    print("path0", sys.path[0] == os.getcwd(), helper.NAME, flush=True)
    if how == "exit3":
        sys.exit(3)
    if how == "message":
        sys.exit("bye from the entry")
    if how == "raise":
        raise ValueError("boom")
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    atexit.register(lambda: print("atexit ran"))
    threading.Thread(target=lambda: (time.sleep(0.2), print("thread done"))).start()
    run.summary["acc"] = 1.0
'''

STUCK = '''
import os, time
def main(run):
    with open(run.config.pids, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(300)
'''


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _by_how(project):
    return {r["params"]["how"]: r for r in run_records.runs(project=project)}


def test_each_way_a_python_entry_ends_is_recorded_as_from_its_own_process(project, hunch):
    (project.root / "ends.py").write_text(ENDS)
    (project.root / "helper.py").write_text('NAME = "helper"\n')
    (project.root / "ends.yaml").write_text("entry: ends:main\nparams: {how: ok}\n")
    out = hunch("sweep", "ends.yaml", "how=ok,exit3,message,raise,kill", "--jobs", "2", check=0)
    assert "1 finished" in out.stderr and "3 failed" in out.stderr and "1 crashed" in out.stderr, out.stderr
    runs = _by_how(project)
    statuses = {how: r["status"] for how, r in runs.items()}
    assert statuses == {"ok": "finished", "exit3": "failed", "message": "failed", "raise": "failed",
                        "kill": "crashed"}

    def log(how: str, name: str) -> str:
        return (project.run_dir(runs[how]["id"]) / name).read_text()

    def end(how: str) -> dict:
        lines = (project.run_dir(runs[how]["id"]) / "events.jsonl").read_text().splitlines()
        return [e for e in map(json.loads, lines) if e.get("t") == "end"][-1]

    assert log("ok", "stdout.log").splitlines() == ["path0 True helper", "thread done", "atexit ran"]
    assert end("ok")["exit_code"] == 0 and end("exit3")["exit_code"] == 3 and end("message")["exit_code"] == 1
    assert "bye from the entry" in log("message", "stderr.log")
    assert "Traceback" in log("raise", "stderr.log") and "ValueError: boom" in log("raise", "stderr.log")
    assert end("kill")["exit_code"] == -signal.SIGKILL and "SIGKILL" in end("kill")["error"]


def test_kill_9_of_the_sweep_leaves_no_trial_process_behind(project):
    pids = project.root / "pids"
    (project.root / "stuck.py").write_text(STUCK)
    (project.root / "stuck.yaml").write_text(f"entry: stuck:main\nparams: {{pids: '{pids}', x: 0}}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "sweep", "stuck.yaml", "x=1,2", "--jobs", "2"],
                            cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.time() < deadline:
        time.sleep(0.05)
    entries = [int(p) for p in pids.read_text().split()]
    assert len(entries) == 2 and all(map(_alive, entries))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 20
    while any(map(_alive, entries)) and time.time() < deadline:
        time.sleep(0.05)
    assert not [p for p in entries if _alive(p)]
