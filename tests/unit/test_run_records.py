from __future__ import annotations

import pytest

from hunchlab.errors import HunchError
from hunchlab.run_records import filter_runs, parse_where

RUNS = [
    {"id": "a-b-1", "name": "exp", "status": "finished", "spec_name": "exp", "question": None, "seed": 0,
     "group_key": "g", "params": {"lr": 0.0003, "model": {"width": 64}}, "summary": {"acc": 0.9}},
    {"id": "c-d-2", "name": "exp", "status": "failed", "spec_name": "exp", "question": "q1", "seed": 1,
     "group_key": "g", "params": {"lr": 0.001, "model": {"width": 128}}, "summary": {"acc": 0.5}},
]


@pytest.mark.parametrize("where,ids", [
    (["lr=3e-4"], ["a-b-1"]), (["acc>0.8"], ["a-b-1"]), (["acc<=0.5"], ["c-d-2"]),
    (["model.width>=64", "status!=failed"], ["a-b-1"]), (["name~EX"], ["a-b-1", "c-d-2"]),
    (["question=q1"], ["c-d-2"]), (["seed=1"], ["c-d-2"]),
])
def test_filters_on_params_metrics_and_fields(where, ids):
    assert [r["id"] for r in filter_runs(RUNS, where)] == ids


def test_unknown_key_suggests_close_names():
    with pytest.raises(HunchError, match="did you mean 'acc'"):
        filter_runs(RUNS, ["acx>1"])


def test_malformed_expression():
    with pytest.raises(HunchError, match="KEY OP VALUE"):
        parse_where("just words")


def test_histories_and_last_metrics_take_the_metrics_of_the_record_kind_they_name(project):
    """A record read with histories yields them all to ``histories`` and nothing to ``last_metrics``;
    one read in brief, the other way round (export and ``hunch rerun`` read the first, ``hunch show`` the second)."""
    import hunchlab
    from hunchlab.run_records import get_run, histories, last_metrics

    with hunchlab.start({"lr": 0.1}) as run:
        for step in range(3):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 2}, step=step)
    full = get_run(run.id)
    brief = get_run(run.id, metrics=False, examples=False)
    assert histories(full) == full["metrics"] and [p["step"] for p in histories(full)["loss"]] == [0, 1, 2]
    assert last_metrics(full) == {}
    assert last_metrics(brief) == brief["metrics"] and last_metrics(brief)["acc"]["value"] == 1.0
    assert histories(brief) == {}
