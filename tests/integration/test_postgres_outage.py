"""A team store that goes away mid-sweep: nothing is lost, nothing mislabelled, resume finishes the job.

A restart shorter than ``store_retry_seconds`` is waited out. An outage longer than that
leaves trials that ran but could not be recorded: they are reported finished, the sweep
names them and exits non-zero, and ``hunch sweep resume`` records them (and runs what
could not start) once the server is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from hunchlab import run_records

pytest.importorskip("psycopg", reason="the test extras install psycopg")

TRIAL = '''
import time
def main(run):
    for step in range(20):
        run.log({"x": step}, step=step)
    time.sleep(run.config.secs)
    run.summary["done"] = 1.0
'''


def _sweep(project, *args: str) -> subprocess.Popen[str]:
    (project.root / "trial.py").write_text(TRIAL)
    (project.root / "trial.yaml").write_text("name: trial\nentry: trial:main\nparams: {secs: 1.5, k: 0}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    return subprocess.Popen([sys.executable, "-m", "hunchlab", "sweep", "trial.yaml", *args], cwd=project.root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def _started(project, n: int) -> None:
    deadline = time.time() + 60
    while sum(1 for _ in project.runs_dir.iterdir()) < n:
        assert time.time() < deadline, "the trials never started"
        time.sleep(0.05)


def _all_points(project) -> list[dict]:
    runs = run_records.runs(project=project)
    for r in runs:
        assert len(run_records.get_run(r["id"], project=project)["metrics"]["x"]) == 20
    return runs


def test_restarts_mid_sweep_are_waited_out_and_every_trial_is_recorded(pg_project, cluster):
    sweep = _sweep(pg_project, "k=1,2,3,4", "--jobs", "2")
    for wave in (2, 4):  # each wave of trials ends while the server is down (trials take 1.5 s, it is down 2.5 s)
        _started(pg_project, wave)
        cluster.stop()
        time.sleep(2.5)
        cluster.start()
    out, err = sweep.communicate(timeout=180)
    assert sweep.returncode == 0, err
    assert "could not" not in err and "Traceback" not in err
    runs = _all_points(pg_project)
    assert sorted(r["params"]["k"] for r in runs) == [1, 2, 3, 4] and {r["status"] for r in runs} == {"finished"}


def test_an_outage_past_the_retry_time_names_the_trials_and_resume_records_them(pg_project, cluster, hunch):
    with open(pg_project.hunch_dir / "settings.yaml", "a") as f:
        f.write("store_retry_seconds: 1\n")
    sweep = _sweep(pg_project, "k=1,2,3,4", "--jobs", "2")
    _started(pg_project, 2)
    cluster.stop()
    try:
        out, err = sweep.communicate(timeout=180)
    finally:
        cluster.start()
    assert sweep.returncode == 2 and "Traceback" not in err, err
    assert "could not be recorded" in err and "hunch sweep resume sweep-1" in err
    ran = [line for line in err.splitlines() if "not recorded yet" in line]
    assert ran and all(": finished (" in line for line in ran), err  # finished trials are reported finished
    assert "✗ could not run: cannot reach the store" not in err

    resumed = hunch("sweep", "resume", "sweep-1", check=0)
    assert "Traceback" not in resumed.stderr
    runs = _all_points(pg_project)
    assert sorted(r["params"]["k"] for r in runs) == [1, 2, 3, 4], "a trial ran twice, or never"
    assert {r["status"] for r in runs} == {"finished"}
    table = json.loads(hunch("sweep", "show", "sweep-1", "--json", check=0).stdout)
    assert sum(row["n"] for row in table["rows"]) == 4
