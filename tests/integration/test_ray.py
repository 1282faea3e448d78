"""The Ray executor on a real 2-node cluster (two `ray start` on this machine): the same runs as locally,
events of any size, joining a running cluster, a worker killed mid-trial, stopping, captures.

A node killed mid-sweep, with the store shared by two clones, is in test_shared_store.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hunchlab import run_records, sweeps
from hunchlab.execute.sweep import resume, run_sweep
from hunchlab.store import open_store
from hunchlab.store import sweeps as q

ray = pytest.importorskip("ray")

KILLER = '''
import os, signal, time
from pathlib import Path

def main(run):
    run.log({"x": 1.0}, step=0)
    flag = Path(run.config.flag)
    if run.config.i == 2 and flag.exists():  # the first attempt kills the Ray worker running it
        flag.unlink()
        time.sleep(1.5)  # long enough for the logged point to be streamed to the driver
        # The entry runs under hunchlab's supervisor (execute/child.py); the Ray worker is its parent.
        supervisor = os.getppid()
        worker = int(Path(f"/proc/{supervisor}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.kill(worker, signal.SIGKILL)
        time.sleep(30)
    run.summary["acc"] = run.config.i
'''

LOOPING = '''
import time
from pathlib import Path

def main(run):
    Path(run.config.marks, str(run.config.i)).touch()
    while True:  # until the sweep stops it
        run.log({"x": 1.0})
        time.sleep(0.1)
'''

BIG = '''
def main(run):
    run.example(id="big", input="a" * 5_000_000, output="b", correct=True)
    run.summary["done"] = 1
'''


@pytest.fixture
def on_cluster(ray_cluster, monkeypatch):
    """This test process joins the cluster the way a user on it does: RAY_ADDRESS, no --address."""
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    return ray_cluster


def _by_config(project, sweep_id):
    out = {}
    for r in run_records.runs(project=project):
        full = run_records.get_run(r["id"], project=project)
        if full["sweep"]["id"] == sweep_id:
            out[(full["params"]["lr"], full["params"]["steps"], full["seed"])] = full
    return out


def _hunch(project, cluster, *args, env=None, timeout=180):
    full = {**{k: v for k, v in cluster.env.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}, **(env or {})}
    return subprocess.run([sys.executable, "-m", "hunchlab", *args], cwd=project.root, env=full, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=timeout)


def test_a_sweep_on_two_nodes_lands_the_same_runs_as_the_local_executor(project, on_cluster):
    # The spec sweeps model.width; the override replaces that axis on both executors.
    (project.root / "swept.yaml").write_text((project.root / "exp.yaml").read_text()
                                             + "sweep: {params: {model.width: [32, 64]}}\n")
    args = ["lr=0.001,0.01", "steps=5,10", "model.width=8"]
    local = run_sweep("swept.yaml", args, seeds=1, jobs=2, project=project)
    remote = run_sweep("swept.yaml", args, seeds=1, executor="ray", project=project)
    assert local.counts == remote.counts == {"finished": 4}
    a, b = _by_config(project, local.sweeps[0]), _by_config(project, remote.sweeps[0])
    assert a.keys() == b.keys() and len(a) == 4
    for key, run in a.items():
        other = b[key]
        assert other["status"] == "finished" and other["summary"] == run["summary"]
        assert [p["value"] for p in other["metrics"]["loss"]] == [p["value"] for p in run["metrics"]["loss"]]
        assert [e["correct"] for e in other["examples"]] == [e["correct"] for e in run["examples"]]
        assert other["code"] == run["code"] and other["worker"]["pid"] and "env" in other
        assert run["params"]["model"]["width"] == other["params"]["model"]["width"] == 8
        assert (project.run_dir(other["id"]) / "stdout.log").read_text() == "trained 8\n"
    assert len({r["worker"]["node"] for r in b.values()}) == 2  # two slots, one per node: both ran trials
    listed = sweeps.list_sweeps(project=project)[0]
    assert listed["executor"] == "ray" and listed["address"] == on_cluster.address


def test_a_multi_megabyte_example_and_the_summary_after_it_reach_the_driver(project, on_cluster):
    (project.root / "big.py").write_text(BIG)
    (project.root / "big.yaml").write_text("entry: big:main\nparams: {i: 0}\n")
    result = run_sweep("big.yaml", ["i=1,2"], executor="ray", project=project)
    assert result.counts == {"finished": 2}, result.problems
    for r in run_records.runs(project=project):
        full = run_records.get_run(r["id"], project=project)
        assert full["summary"] == {"done": 1} and len(full["examples"][0]["input"]) == 5_000_000


def test_without_an_address_the_sweep_joins_the_running_cluster_and_resume_joins_it_again(project, ray_cluster,
                                                                                          tmp_path):
    flag = tmp_path / "fail-once"
    flag.touch()
    (project.root / "flaky.py").write_text("from pathlib import Path\ndef main(run):\n"
                                           "    if run.config.i == 2 and Path(run.config.flag).exists():\n"
                                           "        Path(run.config.flag).unlink()\n        raise SystemExit(3)\n"
                                           "    run.summary['i'] = run.config.i\n")
    (project.root / "flaky.yaml").write_text(f"entry: flaky:main\nparams: {{i: 0, flag: '{flag}'}}\n")
    out = _hunch(project, ray_cluster, "sweep", "flaky.yaml", "i=1,2", "--executor", "ray")  # RAY_ADDRESS only
    assert out.returncode == 0 and "When connecting" not in out.stderr, out.stderr
    with open_store(project) as store, store.read() as conn:
        assert q.get_sweep(conn, "sweep-1")["address"] == ray_cluster.address
    codes = set(os.listdir(ray_cluster.tmp / "hunch-ray-code"))
    no_address = {"RAY_ADDRESS": ""}  # only the sweep's stored address leads the resume to the cluster
    wrong = _hunch(project, ray_cluster, "sweep", "resume", "sweep-1", "--address", "127.0.0.1:9", env=no_address)
    assert wrong.returncode == 2 and "no Ray cluster answers at 127.0.0.1:9" in wrong.stderr  # the override wins
    again = _hunch(project, ray_cluster, "sweep", "resume", "sweep-1", env=no_address)
    assert again.returncode == 0, again.stderr
    table = sweeps.sweep_table("sweep-1", project=project)
    assert [r["n"] for r in table["rows"]] == [1, 1]
    assert set(os.listdir(ray_cluster.tmp / "hunch-ray-code")) == codes  # same tree, same digest: one copy


def test_a_trial_whose_ray_worker_dies_is_crashed_with_what_it_logged_and_resume_reruns_it(project, on_cluster,
                                                                                            tmp_path):
    (project.root / "killer.py").write_text(KILLER)
    flag = tmp_path / "kill-once"
    flag.touch()
    (project.root / "killer.yaml").write_text(f"entry: killer:main\nparams: {{i: 0, flag: '{flag}'}}\n")
    first = run_sweep("killer.yaml", ["i=1,2"], executor="ray", project=project)
    assert first.counts == {"finished": 1, "crashed": 1}, first.problems
    crashed = [r for r in run_records.runs(project=project) if r["status"] == "crashed"][0]
    full = run_records.get_run(crashed["id"], project=project)
    assert "Ray task failed" in full["error"] and [p["value"] for p in full["metrics"]["x"]] == [1.0]
    again = resume(first.sweeps[0], project=project)
    assert again.total == 1 and again.counts == {"finished": 1}
    table = sweeps.sweep_table(first.sweeps[0], project=project)
    assert [r["n"] for r in table["rows"]] == [1, 1]


def test_a_stopped_sweep_leaves_no_scratch_folder_on_the_workers(project, ray_cluster, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    (project.root / "looping.py").write_text(LOOPING)
    (project.root / "looping.yaml").write_text(f"entry: looping:main\nparams: {{i: 0, marks: '{marks}'}}\n")
    env = {k: v for k, v in ray_cluster.env.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    # A node killed outright by an earlier test (its supervisors with it) leaves its trial's folder: not ours.
    before = set(os.listdir(ray_cluster.tmp))
    sweep = subprocess.Popen([sys.executable, "-m", "hunchlab", "sweep", "looping.yaml", "i=1,2", "--executor", "ray"],
                             cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while len(os.listdir(marks)) < 2:
            assert time.time() < deadline and sweep.poll() is None, "the trials never started"
            time.sleep(0.2)
        scratch = [p for p in set(os.listdir(ray_cluster.tmp)) - before
                   if p.startswith("hunch-ray-") and p != "hunch-ray-code"]
        assert len(scratch) == 2, scratch
    finally:  # a failed check must not leave the sweep holding the cluster's CPUs for the tests after it
        sweep.send_signal(signal.SIGTERM)  # as Ctrl-C: both trials are stopped
        _, err = sweep.communicate(timeout=120)
    assert sweep.returncode == 130, err
    assert {r["status"] for r in run_records.runs(project=project)} == {"interrupted"}
    deadline = time.time() + 60
    while any((ray_cluster.tmp / p).exists() for p in scratch):
        assert time.time() < deadline, f"scratch folders left behind: {scratch}"
        time.sleep(0.5)


def test_stdout_scalars_reach_the_run_from_a_ray_worker(project, on_cluster):
    (project.root / "emit.py").write_text("import sys\nfor i in range(3):\n    print(f'step {i} loss {1 / (i + 1)}')\n")
    (project.root / "emit.yaml").write_text(f"command: {sys.executable} emit.py --k {{k}}\nparams: {{k: 0}}\n")
    result = run_sweep("emit.yaml", ["k=1,2"], executor="ray", project=project)
    assert result.counts == {"finished": 2}, result.problems
    for r in run_records.runs(project=project):
        full = run_records.get_run(r["id"], project=project)
        assert [p["value"] for p in full["metrics"]["loss"]] == [1.0, 0.5, pytest.approx(1 / 3)]
        assert full["captured"]["stdout"]["points"] == 3


def test_a_git_ignored_data_file_is_named_in_the_error_with_how_to_ship_it(project, on_cluster):
    (project.root / ".gitignore").write_text("data/\n")
    (project.root / "data").mkdir()
    (project.root / "data" / "train.csv").write_text("1,2\n")
    (project.root / "reader.py").write_text("def main(run):\n    run.summary['n'] = len(open('data/train.csv').read())\n")
    (project.root / "reader.yaml").write_text("entry: reader:main\nparams: {i: 0}\n")
    assert run_sweep("reader.yaml", ["i=1,2"], jobs=2, project=project).counts == {"finished": 2}  # locally: linked
    result = run_sweep("reader.yaml", ["i=1,2"], executor="ray", project=project)
    assert result.counts == {"failed": 2}
    failed = [r for r in run_records.runs(project=project) if r["status"] == "failed"][0]
    error = run_records.get_run(failed["id"], project=project)["error"]
    assert "data/train.csv is git-ignored, so it was not shipped to the Ray worker" in error
    assert "shared storage" in error


def test_a_ray_address_that_does_not_answer_fails_in_seconds_with_nothing_recorded(project, hunch):
    started = time.time()
    out = hunch("sweep", "exp.yaml", "lr=0.1,0.2", "--executor", "ray", "--address", "127.0.0.1:9", check=2)
    assert time.time() - started < 15
    assert out.stderr.startswith("error: no Ray cluster answers at 127.0.0.1:9") and len(out.stderr.splitlines()) == 2
    assert sweeps.list_sweeps(project=project) == [] and run_records.runs(project=project) == []

