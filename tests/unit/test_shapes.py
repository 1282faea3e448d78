"""The record types in hunchlab.shapes match the records real runs produce, key for key.

A ``TypedDict`` is only checked where mypy sees the dict built; the run record is
built from a database row and ``run.json`` merged over it, and a comparison's parts
from ``asdict`` and keys spelled with f-strings, which mypy cannot see. So a key added
to (or dropped from) what the store or compare returns fails here until the type says
so too.
"""

from __future__ import annotations

from typing import Any

import hunchlab
from hunchlab import runlist
from hunchlab.current import current_store
from hunchlab.run_records import get_run
from hunchlab.shapes import (
    Artifact,
    ExampleRecord,
    MetricPoint,
    MetricStat,
    PredictionRecord,
    RunRecord,
    RunRow,
)


def assert_shape(record: dict[str, Any], shape: Any, what: str) -> None:
    """Every required key of ``shape`` is in ``record``, and ``record`` has no key ``shape`` does not declare."""
    keys = set(record)
    missing = set(shape.__required_keys__) - keys
    undeclared = keys - set(shape.__required_keys__) - set(shape.__optional_keys__)
    assert not missing, f"{what} lacks keys its type requires: {sorted(missing)}"
    assert not undeclared, f"{what} has keys its type does not declare: {sorted(undeclared)}"


def finished_run(tmp: Any) -> str:
    with hunchlab.start({"lr": 3e-4, "model": {"width": 16}}, name="otter", seed=1) as run:
        run.predict("acc > 0.5 @ 0.8")
        for step in range(3):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.log({"acc": 0.9})
        run.example(1, input="2+2", output="4", target="4", correct=True, score=1.0, source="arith")
        (tmp / "weights.bin").write_bytes(b"w" * 16)
        run.artifact(tmp / "weights.bin")
    return run.id


def test_a_finished_runs_record_has_exactly_the_keys_of_RunRecord(project, tmp_path):
    run_id = finished_run(tmp_path)
    record = hunchlab.get_run(run_id)
    assert_shape(dict(record), RunRecord, "get_run's record")
    assert record["files_elsewhere"] is None and record["quarantine"] is None
    for present in ("spec", "argv", "env", "project_root", "code", "examples"):  # what a python-API run records
        assert present in record, present
    assert_shape(dict(record["artifacts"][0]), Artifact, "an artifact")
    assert_shape(dict(record["examples"][0]), ExampleRecord, "an example")
    assert record["examples"][0]["fields"] == {"source": "arith"}
    assert_shape(dict(record["predictions"][0]), PredictionRecord, "a scored prediction")
    assert record["predictions"][0]["status"] == "resolved" and "brier" in record["predictions"][0]
    points = record["metrics"]["loss"]
    assert isinstance(points, list) and len(points) == 3
    assert_shape(dict(points[0]), MetricPoint, "a metric point")


def test_a_record_of_a_spec_run_has_exactly_the_keys_of_RunRecord(project):
    """The ``hunch run`` path records the spec, the note given with its predictions and whatever it
    captured: keys a ``start()`` run may lack."""
    from hunchlab.claims import parse_claim
    from hunchlab.execute.local import run_spec
    from hunchlab.spec import load_spec

    spec = load_spec(project.root / "exp.yaml", ["steps=3"])
    outcome = run_spec(project, spec, cwd=project.root, argv=["hunch", "run", "exp.yaml"], echo=False,
                       extra_meta={"prediction": "acc stays low"}, predictions=[parse_claim("acc < 0.5 @ 0.7")])
    record = get_run(outcome.run_id)
    assert outcome.status == "finished"
    assert_shape(dict(record), RunRecord, "a spec run's record")
    assert record["prediction"] == "acc stays low" and record["spec"]["name"] == "exp"


def test_a_record_read_without_histories_holds_each_metric_in_brief(project, tmp_path):
    run_id = finished_run(tmp_path)
    record = get_run(run_id, metrics=False, examples=False)
    assert_shape(dict(record), RunRecord, "get_run's record without histories")
    assert "examples" not in record
    stat = record["metrics"]["loss"]
    assert isinstance(stat, dict)
    assert_shape(dict(stat), MetricStat, "a metric in brief")
    assert stat["n"] == 3


def test_the_run_list_rows_have_exactly_the_keys_of_RunRow_on_both_paths(project, tmp_path):
    hunchlab.get_run(finished_run(tmp_path))  # folded: the sqlite3 path may answer
    with current_store(project) as store:
        slow = store.list_runs()
    fast = runlist.runs_page(project, None)
    assert fast is not None, "runlist's fast path declined a folded SQLite store"
    for rows, what in ((fast[0], "runlist.runs_page"), (slow, "Store.list_runs"), (hunchlab.runs(), "runs()")):
        assert len(rows) == 1
        assert_shape(dict(rows[0]), RunRow, f"a row of {what}")


def side(seed: int, flip: bool) -> str:
    """A run scoring four examples; ``flip`` gets the first one wrong (a right→wrong flip against the other side)."""
    with hunchlab.start({"variant": "b" if flip else "a"}, seed=seed) as run:
        for i in range(4):
            run.example(i, input=f"q{i}", output="x", target="x", correct=not (flip and i == 0), score=float(i))
        run.log({"acc": 0.75 if flip else 1.0})
    return run.id


def test_a_comparison_has_exactly_the_keys_of_ComparisonRecord_down_to_its_flips(project):
    from hunchlab.compare import compare
    from hunchlab.shapes import CodeSummary, ComparisonRecord, ConfigRow, Flip, Flips, PairedRecord, SideSummary

    result = compare([side(0, False), side(0, True)])
    assert_shape(result, ComparisonRecord, "compare's result")
    for s in result["sides"]:
        assert_shape(s, SideSummary, "a side")
    assert_shape(result["config"][0], ConfigRow, "a config row")
    assert_shape(result["code"], CodeSummary, "the code summary")
    paired = result["paired"][0]
    assert_shape(paired, PairedRecord, "a paired record")
    assert {"accuracy", "mcnemar", "score"} <= set(paired)
    assert_shape(paired["flips"], Flips, "the flips")
    assert paired["flips"]["n_right_to_wrong"] == 1
    assert_shape(paired["flips"]["right_to_wrong"][0], Flip, "a flip with its details")
    assert paired["flips"]["right_to_wrong"][0]["input"] == "q0"
