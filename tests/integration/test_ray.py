"""The Ray executor on a local Ray (loopback, 2 CPUs): same runs as locally, dead workers, dead addresses."""

from __future__ import annotations

import time

import pytest

from hunchlab import records, sweeps
from hunchlab.execute.sweep import resume, run_sweep

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


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def _by_config(project, sweep_id):
    out = {}
    for r in records.runs(project=project):
        full = records.get_run(r["id"], project=project)
        if full["sweep"]["id"] == sweep_id:
            out[(full["params"]["lr"], full["params"]["steps"], full["seed"])] = full
    return out


def test_a_sweep_through_ray_lands_the_same_runs_as_the_local_executor(project, local_ray):
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
    assert sweeps.list_sweeps(project=project)[0]["executor"] == "ray"


def test_a_trial_whose_ray_worker_dies_is_crashed_with_what_it_logged_and_resume_reruns_it(project, local_ray,
                                                                                            tmp_path):
    (project.root / "killer.py").write_text(KILLER)
    flag = tmp_path / "kill-once"
    flag.touch()
    (project.root / "killer.yaml").write_text(f"entry: killer:main\nparams: {{i: 0, flag: '{flag}'}}\n")
    first = run_sweep("killer.yaml", ["i=1,2"], executor="ray", project=project)
    assert first.counts == {"finished": 1, "crashed": 1}, first.problems
    crashed = [r for r in records.runs(project=project) if r["status"] == "crashed"][0]
    full = records.get_run(crashed["id"], project=project)
    assert "Ray task failed" in full["error"] and [p["value"] for p in full["metrics"]["x"]] == [1.0]
    again = resume(first.sweeps[0], project=project)
    assert again.total == 1 and again.counts == {"finished": 1}
    table = sweeps.sweep_table(first.sweeps[0], project=project)
    assert [r["n"] for r in table["rows"]] == [1, 1]


def test_a_ray_address_that_does_not_answer_fails_in_seconds_with_nothing_recorded(project, hunch):
    started = time.time()
    out = hunch("sweep", "exp.yaml", "lr=0.1,0.2", "--executor", "ray", "--address", "127.0.0.1:9", check=2)
    assert time.time() - started < 15
    assert out.stderr.startswith("error: no Ray cluster answers at 127.0.0.1:9") and len(out.stderr.splitlines()) == 2
    assert sweeps.list_sweeps(project=project) == [] and records.runs(project=project) == []
