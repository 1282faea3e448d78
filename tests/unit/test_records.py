from __future__ import annotations

import pytest

from hunchlab.errors import HunchError
from hunchlab.records import filter_runs, parse_where

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
