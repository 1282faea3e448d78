"""hunchlab.readsql: the same answers through sqlite3 directly as through the store, and only when safe."""

from __future__ import annotations

import hunchlab
from hunchlab import readsql
from hunchlab.run_records import init_project
from hunchlab.store import open_store
from hunchlab.store.migrations import schema_version


def _project(tmp_path):  # two runs with metrics, a summary and example records
    project = init_project(tmp_path)[0]
    for width in (16, 64):
        with hunchlab.start(config={"width": width}, seed=0, project=tmp_path) as run:
            for step in range(3):
                run.log({"loss": 1.0 / (step + 1 + width)}, step=step)
            run.summary["acc"] = width / 100
            for i in range(4):
                run.example(id=f"e{i}", input=f"q{i}", output=i, target=1, correct=i % 2 == 0, score=i / 4)
    with open_store(project) as store:
        store.sync()
    return project


def test_the_schema_pin_is_the_last_migration() -> None:
    assert readsql.SCHEMA == schema_version()  # a new migration must be checked against these queries


def test_direct_sqlite_and_the_store_give_the_same_answers(tmp_path) -> None:
    project = _project(tmp_path)
    direct = readsql.connect_current(project)
    assert direct is not None
    with open_store(project) as store, store.read() as conn:
        ids = [r["id"] for r in readsql.all_runs(conn)]
        for query in (lambda c: readsql.all_runs(c), lambda c: readsql.runs_by_id(c, ids),
                      lambda c: readsql.last_values(c, ids), lambda c: readsql.histories(c, ids, ["loss"]),
                      lambda c: readsql.example_details(c, ids, ["e1", "e2"]), lambda c: readsql.group_keys_like(c, "")):
            assert query(conn) == query(direct)
        a, b = readsql.example_tallies(conn, ids), readsql.example_tallies(direct, ids)
        assert all((getattr(a, f) == getattr(b, f)).all() for f in ("ids", "correct_sum", "correct_n", "score_sum"))
        assert list(a.ids) == ["e0", "e1", "e2", "e3"] and list(a.correct_sum) == [2, 0, 2, 0]
    direct.close()


def test_a_pending_run_or_another_schema_takes_the_store_path(tmp_path) -> None:
    project = _project(tmp_path)
    (project.pending_dir / "some-run").parent.mkdir(exist_ok=True)
    (project.pending_dir / "some-run").touch()
    assert readsql.connect_current(project) is None  # something waits to be folded: only the store can
    (project.pending_dir / "some-run").unlink()
    with open_store(project) as store, store.write() as conn:
        conn.exec_driver_sql("INSERT INTO hunch_migrations (name, applied_at) VALUES ('9999_future', 0)")
    assert readsql.connect_current(project) is None
