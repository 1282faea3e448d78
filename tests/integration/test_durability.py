"""Nothing acknowledged is lost: kill -9 of the logging process, and many writers at once."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time

import pytest

from hunchlab import run_records

LOGGER = """
import os, struct, sys, hunchlab
ack = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
run = hunchlab.start(config={"kind": "durability"})
step = 0
while True:
    run.log({f"m{i}": step * 0.5 + i for i in range(10)}, step=step)
    os.pwrite(ack, struct.pack("q", step + 1), 0)   # written only after log() returned
    step += 1
"""


def _wait_for(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise TimeoutError
        time.sleep(0.05)


def test_kill_9_of_a_logging_process_loses_no_acknowledged_point(project, tmp_path):
    ack_file = tmp_path / "ack"
    proc = subprocess.Popen([sys.executable, "-c", LOGGER, str(ack_file)], cwd=project.root)
    _wait_for(lambda: ack_file.exists() and ack_file.stat().st_size == 8
              and struct.unpack("q", ack_file.read_bytes())[0] > 5000)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acked = struct.unpack("q", ack_file.read_bytes())[0]
    run = run_records.get_run(run_records.runs(project=project)[0]["id"], project=project)
    assert run["status"] == "crashed" and "vanished" in run["error"]
    for i in range(10):
        steps = [p["step"] for p in run["metrics"][f"m{i}"]]
        assert len(steps) >= acked and steps[:acked] == list(range(acked))
        assert all(p["value"] == p["step"] * 0.5 + i for p in run["metrics"][f"m{i}"])


def test_kill_9_of_the_runner_marks_the_run_crashed_and_keeps_its_points(project, hunch):
    (project.root / "slow.yaml").write_text("entry: train:slow\n")
    runner = subprocess.Popen([sys.executable, "-m", "hunchlab", "run", "slow.yaml"], cwd=project.root,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert runner.stdout.readline().strip() == "ready"
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    time.sleep(0.3)  # the entry's process dies with its parent
    run = run_records.get_run(run_records.runs(project=project)[0]["id"], project=project)
    assert run["status"] == "crashed"
    assert len(run["metrics"]["x"]) > 100
    time.sleep(0.3)
    again = run_records.get_run(run["id"], project=project)
    assert len(again["metrics"]["x"]) == len(run["metrics"]["x"]), "the orphaned entry kept logging"


WRITER = """
import sys, hunchlab
with hunchlab.start(config={"worker": int(sys.argv[1])}) as run:
    for step in range(int(sys.argv[2])):
        run.log({"a": step, "b": -step}, step=step)
        if step % 100 == 0:
            run.example(id=f"x{step}", correct=step % 200 == 0)
    run.summary["done"] = 1
"""


@pytest.mark.parametrize("writers", [8])
def test_concurrent_writers_never_see_database_is_locked_and_lose_nothing(project, writers):
    steps = 3000
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(w), str(steps)], cwd=project.root,
                              stderr=subprocess.PIPE, text=True) for w in range(writers)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, errors
    assert not any("locked" in e for e in errors)
    found = run_records.runs(project=project)
    assert len(found) == writers and {r["status"] for r in found} == {"finished"}
    assert sorted(r["params"]["worker"] for r in found) == list(range(writers))
    for r in found:
        full = run_records.get_run(r["id"], project=project)
        assert len(full["metrics"]["a"]) == steps and len(full["metrics"]["b"]) == steps
        assert len(full["examples"]) == steps // 100


def test_a_reader_sees_a_live_run_so_far(project):
    code = ("import hunchlab, time\nrun = hunchlab.start()\n"
            "[run.log({'x': i}) for i in range(50)]\nprint('ok', flush=True)\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=project.root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ok"
        run = run_records.get_run(run_records.runs(project=project)[0]["id"], project=project)
        assert run["status"] == "running" and len(run["metrics"]["x"]) == 50
    finally:
        proc.kill()
        proc.wait()
