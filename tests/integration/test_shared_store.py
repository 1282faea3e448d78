"""Two project folders (clones) on one PostgreSQL store: one namespace of runs, sweeps that resume from
either clone exactly once with the code they recorded, and a Ray node killed mid-sweep.

The store is the throwaway cluster of ``conftest.py``; the second folder is a git clone of
the first with the same ``store:`` (``second_clone``). A sweep's driver is killed with
SIGKILL, as a laptop closing or a machine dying would; on one machine its death is seen
by its pid (another machine's by its lease: ``test_a_driver_on_another_machine_...``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hunchlab import run_records, sweeps
from hunchlab.execute.sweep import resume, run_sweep
from hunchlab.store import open_store
from hunchlab.store import sweeps as q

psycopg = pytest.importorskip("psycopg", reason="the test extras install psycopg")

TEAM = '''
import time
from pathlib import Path

PATCHED = 0

def main(run):
    Path(run.config.marks, str(run.config.i)).touch()
    for step in range(5):
        run.log({"x": float(step)}, step=step)
    while run.config.i > 1 and Path(run.config.marks, "hold").exists():
        time.sleep(0.1)
    run.summary["patched"] = PATCHED
'''


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                          capture_output=True, text=True).stdout


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR", "RAY_ADDRESS")}


def test_two_clones_on_one_store_never_share_a_run_number(pg_project, second_clone, hunch):
    a, b = pg_project, second_clone
    for folder in (a, b, a):
        hunch("run", "exp.yaml", "--no-predict", cwd=folder.root, check=0)
    runs = run_records.runs(project=b)
    assert sorted(r["seq"] for r in runs) == [1, 2, 3] and len({r["id"] for r in runs}) == 3
    shown = hunch("show", "2", cwd=a.root, check=0).stdout  # recorded by the other clone
    b_run = next(r["id"] for r in runs if r["seq"] == 2)
    assert b_run in shown and "not in this project folder: its files (stdout, stderr, artifacts, code) are on " \
        in " ".join(shown.split()) and f"{b.root}/.hunch/runs/{b_run}" in shown.replace("\n", "")
    assert "not in this project folder" not in hunch("show", "1", cwd=a.root, check=0).stdout

    with psycopg.connect(a.setting("store").replace("+psycopg", "")) as conn:  # numbered before the store did it
        conn.execute("INSERT INTO runs (id, seq, status, params, summary, meta, created_at, folded_bytes, host) "
                     "VALUES ('old-clone-1', 1, 'finished', '{}', '{}', '{}', 0, 0, 'laptop')")
    out = hunch("show", "1", cwd=a.root, check=2)
    assert "run number 1 belongs to 2 runs" in out.stderr and "old-clone-1 (on laptop)" in out.stderr


def test_a_store_from_before_shared_numbering_numbers_on_after_its_highest_run(pg_project, hunch):
    for _ in range(2):
        hunch("run", "exp.yaml", "--no-predict", check=0)
    url = pg_project.setting("store").replace("+psycopg", "")
    with psycopg.connect(url) as conn:  # as a 0008 store was: no run sequence, leases, addresses or code files
        conn.execute("DROP SEQUENCE hunch_run_seq")
        conn.execute("ALTER TABLE sweeps DROP COLUMN lease_until, DROP COLUMN address")
        conn.execute("DROP TABLE code_files")
        conn.execute("DELETE FROM hunch_migrations WHERE name = '0009_shared_store'")
    hunch("run", "exp.yaml", "--no-predict", check=0)
    assert sorted(r["seq"] for r in run_records.runs(project=pg_project)) == [1, 2, 3]
    with psycopg.connect(url) as conn:
        columns = {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sweeps'")}
        assert {"lease_until", "address"} <= columns
        assert conn.execute("SELECT count(*) FROM code_files").fetchone() == (0,)


def test_a_sweep_resumes_from_either_clone_once_with_the_code_it_recorded(pg_project, second_clone, hunch, tmp_path):
    a, b = pg_project, second_clone
    marks = tmp_path / "marks"
    marks.mkdir()
    (marks / "hold").touch()  # trials 2 and 3 wait while it exists
    (a.root / "team.py").write_text(TEAM)
    (a.root / "team.yaml").write_text(f"name: team\nentry: team:main\nparams: {{i: 0, marks: '{marks}'}}\n")
    _git(a.root, "add", "team.py", "team.yaml")
    _git(a.root, "commit", "-qm", "team trial")  # a commit the second clone does not have yet
    (a.root / "team.py").write_text(TEAM.replace("PATCHED = 0", "PATCHED = 1"))  # and a change never committed

    driver = subprocess.Popen([sys.executable, "-m", "hunchlab", "sweep", "team.yaml", "i=1,2,3", "--jobs", "1"],
                              cwd=a.root, env=_clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.time() + 120
    while not (marks / "2").exists():
        assert time.time() < deadline and driver.poll() is None, "trial 2 never started"
        time.sleep(0.1)
    busy = hunch("sweep", "resume", "sweep-1", cwd=b.root, check=2)
    assert f"sweep sweep-1 is still running (pid {driver.pid} on " in busy.stderr
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(30)

    missing = hunch("sweep", "resume", "sweep-1", cwd=b.root, check=2)
    head = _git(a.root, "rev-parse", "HEAD").strip()
    assert f"commit {head[:12]}, the code sweep-1 runs, is not in this clone" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 2 and "git fetch" in missing.stderr
    _git(b.root, "fetch", "-q", "origin")
    (marks / "hold").unlink()
    hunch("sweep", "resume", "sweep-1", cwd=b.root, check=0)
    assert "nothing to resume" in hunch("sweep", "resume", "sweep-1", cwd=a.root, check=0).stdout

    table = sweeps.sweep_table("sweep-1", project=a)
    assert [r["n"] for r in table["rows"]] == [1, 1, 1]
    finished = [r for r in run_records.runs(project=a) if r["status"] == "finished"]
    assert sorted(r["params"]["i"] for r in finished) == [1, 2, 3]  # each trial finished exactly once
    assert {r["summary"]["patched"] for r in finished} == {1}  # the uncommitted change ran in both clones
    crashed = [r for r in run_records.runs(project=a) if r["status"] == "crashed"]
    assert [r["params"]["i"] for r in crashed] == [2]  # the attempt the killed driver had in flight
    resumed = next(r for r in finished if r["params"]["i"] == 3)
    shown = json.loads(hunch("show", resumed["id"], "--json", cwd=b.root, check=0).stdout)
    assert shown["code"]["dirty"] and (b.run_dir(resumed["id"]) / "code" / "diff.patch").is_file()


def test_a_driver_on_another_machine_is_taken_over_only_once_its_lease_runs_out(project):
    (project.root / "ok.py").write_text("def main(run):\n    run.summary['i'] = run.config.i\n")
    (project.root / "ok.yaml").write_text("entry: ok:main\nparams: {i: 0}\n")
    from hunchlab.execute.plan import plan_sweep
    from hunchlab.execute.sweep_record import record
    from hunchlab.spec import load_spec

    plan = plan_sweep(load_spec("ok.yaml"), {"i": [1, 2]})
    sweep_id = record(project, [plan], executor="local", cwd=project.root)[0]["id"]
    elsewhere = {"host": "another-machine", "pid": os.getpid(), "pid_start": None}
    with open_store(project) as store, store.write() as conn:
        conn.execute(q.schema.sweeps.update().values(lease_until=time.time() + 30, **elsewhere))
    with pytest.raises(Exception, match="is still running .pid .* on another-machine, its lease renewed until"):
        resume(sweep_id, project=project)
    with open_store(project) as store, store.write() as conn:
        conn.execute(q.schema.sweeps.update().values(lease_until=time.time() - 1))
    result = resume(sweep_id, project=project)
    assert result.counts == {"finished": 2}
    with open_store(project) as store, store.read() as conn:
        assert q.get_sweep(conn, sweep_id)["status"] == "finished"


def test_of_two_drivers_taking_a_sweep_over_one_wins_and_the_stalled_one_learns_it_lost(project):
    (project.root / "ok.py").write_text("def main(run):\n    run.summary['i'] = run.config.i\n")
    (project.root / "ok.yaml").write_text("entry: ok:main\nparams: {i: 0}\n")
    from hunchlab.execute.plan import plan_sweep
    from hunchlab.execute.sweep_record import record
    from hunchlab.spec import load_spec

    sweep_id = record(project, [plan_sweep(load_spec("ok.yaml"), {"i": [1]})], executor="local",
                      cwd=project.root)[0]["id"]
    first = {"host": "laptop", "pid": 11, "pid_start": None}
    second, third = {**first, "host": "desk"}, {**first, "host": "server"}
    with open_store(project) as store, store.write() as conn:
        q.set_driver(conn, sweep_id, status="crashed")
        assert q.take_over(conn, sweep_id, first, None)
        assert not q.take_over(conn, sweep_id, second, None)  # it is running now: the second is refused
        assert q.renew_lease(conn, [sweep_id], first) == []
        q.set_driver(conn, sweep_id, status="crashed")  # as a reader does once the first's lease ran out
        assert q.take_over(conn, sweep_id, third, "10.0.0.1:6379")
        assert q.renew_lease(conn, [sweep_id], first) == [sweep_id]  # the stalled first driver lost it
        q.set_driver(conn, sweep_id, status="finished", driver=first)  # and cannot end it either
        sweep = q.get_sweep(conn, sweep_id)
    assert (sweep["status"], sweep["host"], sweep["address"]) == ("running", "server", "10.0.0.1:6379")


def test_a_ray_node_killed_mid_sweep_crashes_its_trial_and_the_other_clone_finishes_it(pg_project, second_clone,
                                                                                       ray_cluster, monkeypatch,
                                                                                       tmp_path):
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    node = ray_cluster.add_node()  # a third node, for this test to kill
    pids = tmp_path / "pids"
    pids.mkdir()
    (pg_project.root / "steady.py").write_text(STEADY)
    (pg_project.root / "steady.yaml").write_text(f"entry: steady:main\nparams: {{i: 0, steps: 100, pids: '{pids}'}}\n")
    _git(pg_project.root, "add", "steady.py", "steady.yaml")
    _git(pg_project.root, "commit", "-qm", "steady")
    _git(second_clone.root, "pull", "-q")
    result: dict = {}
    driver = threading.Thread(target=lambda: result.update(r=run_sweep(
        "steady.yaml", ["i=1,2,3"], executor="ray", project=pg_project, cwd=pg_project.root)))
    driver.start()
    deadline = time.time() + 120
    victim = None
    while victim is None:
        assert time.time() < deadline, "no trial started on the new node"
        on_node = set(node.members())
        victim = next((f.name for f in pids.iterdir() if int(f.read_text()) in on_node), None)
        time.sleep(0.2)
    time.sleep(2.0)  # it logs 10 points a second: some reach the driver first
    node.kill()
    driver.join(180)
    assert result["r"].counts == {"finished": 2, "crashed": 1}, result["r"].problems
    crashed = [r for r in run_records.runs(project=pg_project) if r["status"] == "crashed"]
    full = run_records.get_run(crashed[0]["id"], project=pg_project)
    assert full["params"]["i"] == int(victim) and len(full["metrics"]["x"]) >= 5
    monkeypatch.delenv("RAY_ADDRESS")  # the other clone finds the cluster by the address the sweep stored
    again = resume(result["r"].sweeps[0], project=second_clone)
    assert again.counts == {"finished": 1}
    table = sweeps.sweep_table(result["r"].sweeps[0], project=second_clone)
    assert [r["n"] for r in table["rows"]] == [1, 1, 1]


STEADY = '''
import os, time
from pathlib import Path

def main(run):
    # The entry runs under hunchlab's supervisor (execute/child.py), whose parent is the Ray worker.
    supervisor = os.getppid()
    worker = int(Path(f"/proc/{supervisor}/stat").read_text().rsplit(")", 1)[1].split()[1])
    Path(run.config.pids, f"{run.config.i}").write_text(f"{worker}")
    for step in range(run.config.steps):
        run.log({"x": float(step)}, step=step)
        time.sleep(0.1)
    run.summary["done"] = 1.0
'''
