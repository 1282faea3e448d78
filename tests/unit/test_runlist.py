"""The listing's fast path answers exactly as the store does, and steps aside when it must."""

from __future__ import annotations

from hunchlab import runlist
from hunchlab.run_start import create_run
from hunchlab.store import migrations, open_store


def test_the_fast_path_knows_the_latest_schema():
    assert runlist.SCHEMA == migrations.schema_version()


def test_the_fast_path_lists_what_the_store_lists(project):
    for i in range(7):
        run = create_run(project, {"name": f"r{i}", "params": {"i": i}, "seed": i, "spec": {"entry": "x"}})
        run.summary["acc"] = i / 10
        run.finish("failed" if i == 3 else "finished", 1 if i == 3 else 0)
    with open_store(project) as store:
        expected = store.list_runs(5), store.count_runs()
    assert runlist.runs_page(project, 5) == expected
    assert runlist.runs_page(project, None)[1] == 7


def test_the_fast_path_steps_aside_while_a_run_waits_to_be_folded(project):
    run = create_run(project, {"params": {}, "spec": {"entry": "x"}})
    run.log({"loss": 1.0})
    with open_store(project) as store:
        store.sync()
    assert runlist.runs_page(project, 10) is None  # running: only a fold can tell whether it died
    run.finish()
    assert runlist.runs_page(project, 10)[0][0]["status"] == "finished"
