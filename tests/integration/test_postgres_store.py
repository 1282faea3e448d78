"""A team store on PostgreSQL: the same loop through the real `hunch` command, on a throwaway cluster.

The cluster (``cluster`` in tests/integration/conftest.py) is Debian's PostgreSQL started
by the tests (initdb + pg_ctl in a temporary folder, on 127.0.0.1 only) and removed
afterwards; each test gets a database of its own (``pg_project``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hunchlab import run_records

psycopg = pytest.importorskip("psycopg", reason="the test extras install psycopg")


def test_the_whole_loop_runs_on_a_postgres_store(pg_project, hunch):
    project = pg_project
    out = hunch("run", "exp.yaml", "-p", "acc > 0.5 @ 80%", check=0)
    assert "acc > 0.5 @ 80%: ✗ did not hold" in out.stderr
    hunch("sweep", "exp.yaml", "model.width=8,16", "--seeds", "2", "--jobs", "2", check=0)  # parallel writers
    runs = run_records.runs(project=project)
    assert len(runs) == 5 and {r["status"] for r in runs} == {"finished"}
    with psycopg.connect(project.setting("store").replace("+psycopg", "")) as conn:  # the rows are in PostgreSQL itself
        assert conn.execute("SELECT count(*), count(DISTINCT seq) FROM runs").fetchone() == (5, 5)

    assert len(json.loads(hunch("runs", "--where", "model.width=8", "--json", check=0).stdout)) == 2
    shown = json.loads(hunch("show", "1", "--json", check=0).stdout)
    assert len(shown["metrics"]["loss"]) == 20 and {e["id"] for e in shown["examples"]} == {"e1", "e2"}
    assert shown["predictions"][0]["status"] == "resolved" and shown["predictions"][0]["outcome"] is False

    compared = json.loads(hunch("compare", "model.width=8", "model.width=16", "--json", check=0).stdout)
    assert compared["paired"][0]["n_shared"] == 2
    one = runs[0]["id"]
    sample = json.loads(hunch("failures", one, "--sample", "5", "--json", check=0).stdout)
    assert [i["example_id"] for i in sample["items"]] == ["e2"]
    hunch("tag", one, "e2", "arithmetic", check=0)
    assert "arithmetic" in hunch("categories", one, check=0).stdout
    assert "e2" in hunch("examples", one, "--where", "topic=arith", "--where", "correct=false", check=0).stdout
    assert "1 resolved prediction" in hunch("calibration", check=0).stdout
    assert "reproduced" in hunch("rerun", "1", "--check", check=0).stdout


def test_a_killed_run_on_a_postgres_store_is_marked_crashed_with_what_it_logged(pg_project, hunch):
    (pg_project.root / "slow.yaml").write_text("entry: train:slow\nparams: {}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HUNCH_DIR", "HUNCH_RUN_DIR")}
    proc = subprocess.Popen([sys.executable, "-m", "hunchlab", "run", "slow.yaml", "--no-predict"], cwd=pg_project.root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    deadline = time.time() + 60
    while "ready" not in proc.stdout.readline() and time.time() < deadline:
        pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    run = run_records.get_run("1", project=pg_project)
    assert run["status"] == "crashed" and "vanished" in run["error"]
    assert len(run["metrics"]["x"]) >= 100


def test_a_store_server_that_is_down_is_one_clear_line_and_exit_2(project, hunch, unused_port):
    with open(project.hunch_dir / "settings.yaml", "a") as f:
        f.write(f"store: postgresql+psycopg://hunch:secret@127.0.0.1:{unused_port}/nowhere\n")
    proc = hunch("runs")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot reach the store postgresql+psycopg://hunch:***@127.0.0.1" in proc.stderr
    assert "secret" not in proc.stderr and "server is running" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 2  # what went wrong, then what to do


def test_folding_on_a_postgres_store_replaces_examples_keeps_the_pyramid_and_sets_bad_lines_aside(pg_project, hunch):
    from hunchlab.metric_series import metric_series
    from hunchlab.run_start import create_run

    run = create_run(pg_project, {"params": {}, "spec": {"entry": "test"}})
    for step in range(6000):
        run.log({"loss": 1.0 / (step + 1) + (9.0 if step == 4321 else 0.0)}, step=step)
    run.example("q1", output="first", correct=False)
    run.example("q1", output="second", correct=True)  # the same id again: it replaces the first
    with open(run.dir / "events.jsonl", "a") as f:
        f.write('{"t": "log", "step": "7", "m": {"loss": 1}}\n')
    run.finish()
    shown = json.loads(hunch("show", run.id, "--json", check=0).stdout)
    assert [(e["id"], e["output"]) for e in shown["examples"]] == [("q1", "second")]
    assert shown["quarantine"]["lines"] == 1 and len(shown["metrics"]["loss"]) == 6000
    series = metric_series(run.id, "loss", buckets=50, project=pg_project)
    assert series["downsampled"] and 4321 in series["x"] and series["x"][0] == 0 and series["x"][-1] == 5999


def test_a_chart_on_a_postgres_store_catches_up_the_pyramid_a_readers_fold_left(pg_project, hunch):
    from hunchlab.metric_series import metric_series
    from hunchlab.run_start import create_run
    from hunchlab.store import fold, open_store

    run = create_run(pg_project, {"params": {}, "spec": {"entry": "test"}})  # no folder, no end: as killed
    for step in range(6000):
        run.log({"loss": 1.0 / (step + 1) + (9.0 if step == 4321 else 0.0)}, step=step)
    shown = json.loads(hunch("show", run.id, "--json", check=0).stdout)
    assert len(shown["metrics"]["loss"]) == 6000
    with open_store(pg_project) as store, store.read() as conn:
        assert fold.pyramid_behind(conn, run.id, "loss")
    series = metric_series(run.id, "loss", buckets=50, project=pg_project)
    assert series["downsampled"] and series["in_range"] is None and 4321 in series["x"] and series["x"][-1] == 5999
    with open_store(pg_project) as store, store.read() as conn:
        assert not fold.pyramid_behind(conn, run.id, "loss")


def test_running_every_migration_on_postgres_builds_exactly_schema_py(pg_project, cluster):
    """The unit tests check this on SQLite; the frozen DDL is compiled per dialect, so PostgreSQL too."""
    from sqlalchemy import create_engine

    from hunchlab.store import open_store, schema
    from hunchlab.store.shape import table_shapes

    with open_store(pg_project) as store, store.read() as conn:  # an empty database: every migration runs
        built = table_shapes(conn)
        assert conn.exec_driver_sql(f"SELECT last_value FROM {schema.RUN_SEQUENCE}").scalar_one() == 1
    with psycopg.connect(f"postgresql://hunch@127.0.0.1:{cluster.port}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "t_schema_py"')
        conn.execute('CREATE DATABASE "t_schema_py"')
    engine = create_engine(f"{cluster.url}/t_schema_py")
    with engine.begin() as conn:
        schema.metadata.create_all(conn)
        expected = table_shapes(conn)
    engine.dispose()
    assert built == expected
