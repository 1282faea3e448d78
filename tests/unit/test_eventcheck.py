"""Every kind of bad event line the fold must set aside, and the good ones it must keep."""

from __future__ import annotations

import pytest

from hunchlab.eventcheck import MAX_ID_CHARS, MAX_KEYS, MAX_NAME_CHARS, problem

GOOD = [
    {"t": "log", "step": 3, "time": 1.5, "m": {"loss": 0.4, "n": 7, "gap": None}},
    {"t": "log", "step": -(2**63), "m": {}},
    {"t": "summary", "d": {"acc": 0.9, "note": "text", "nested": {"a": [1]}}},
    {"t": "example", "d": {"id": "q1", "input": [1, 2], "correct": False, "score": 1, "fields": {"k": "v"}}},
    {"t": "example", "d": {"id": 17}},
    {"t": "artifact", "name": "model.pt", "sha256": "ab" * 32, "size": 0},
    {"t": "prediction", "d": {"text": "acc > 0.5 @ 70%", "claim": {"metric": "acc", "kind": "threshold",
                                                                  "probability": 0.7, "op": ">", "value": 0.5}}},
    {"t": "params", "d": {"batch_size": 64, "opt": {"lr": 0.1}}},
    {"t": "meta", "d": {"tags": ["baseline"]}},
    {"t": "end", "status": "crashed", "exit_code": -9, "time": 2.0, "error": "killed"},
    {"t": "end"},
]

BAD = [
    ([1, 2], "not a JSON object but an array"),
    ("text", "not a JSON object but a string"),
    ({"step": 1}, "no kind"),
    ({"t": "metrics"}, "unknown kind 'metrics'"),
    ({"t": ["log"]}, "unknown kind"),
    ({"t": "log", "step": 10**20, "m": {}}, "outside the 64-bit"),
    ({"t": "log", "step": 1e20, "m": {}}, "step must be an integer"),
    ({"t": "log", "step": "3", "m": {}}, "step must be an integer, got a string"),
    ({"t": "log", "step": True, "m": {}}, "step must be an integer, got a boolean"),
    ({"t": "log", "m": {"x": 1}}, "step must be an integer, got null"),
    ({"t": "log", "step": 1, "time": "now", "m": {}}, "\"time\" must be a number"),
    ({"t": "log", "step": 1, "m": [1]}, "\"m\" must be an object"),
    ({"t": "log", "step": 1, "m": {"x": "0.5"}}, "metric 'x' must be a number or null, got a string"),
    ({"t": "log", "step": 1, "m": {"x": True}}, "got a boolean"),
    ({"t": "log", "step": 1, "m": {"x": 2**64}}, "must be a number"),
    ({"t": "log", "step": 1, "m": {"x" * (MAX_NAME_CHARS + 1): 1.0}}, "metric name of 251 characters"),
    ({"t": "log", "step": 1, "m": {f"m{i}": 1.0 for i in range(MAX_KEYS + 1)}}, "10001 metrics"),
    ({"t": "summary", "d": [1]}, "\"d\" must be an object"),
    ({"t": "summary", "d": {"y" * (MAX_NAME_CHARS + 1): 1}}, "summary name"),
    ({"t": "example", "d": {"input": "2+2"}}, "needs an \"id\""),
    ({"t": "example", "d": {"id": 1.5}}, "id must be a string or an integer"),
    ({"t": "example", "d": {"id": "z" * (MAX_ID_CHARS + 1)}}, "example id of 501"),
    ({"t": "example", "d": {"id": "a", "correct": "yes"}}, "\"correct\" must be true, false or null"),
    ({"t": "example", "d": {"id": "a", "score": "high"}}, "\"score\" must be a number"),
    ({"t": "example", "d": {"id": "a", "fields": [1]}}, "\"fields\" must be an object"),
    ({"t": "example", "d": "q1"}, "\"d\" must be an object"),
    ({"t": "artifact", "name": "", "sha256": "x", "size": 1}, "\"name\""),
    ({"t": "artifact", "name": "a", "sha256": "x", "size": -1}, "byte count"),
    ({"t": "prediction", "d": {"text": "x"}}, "needs \"d\" with \"text\" and \"claim\""),
    ({"t": "prediction", "d": {"text": "x", "claim": {"metric": "acc", "bogus": 1}}}, "claim does not validate"),
    ({"t": "params", "d": [1]}, "a params line's \"d\" must be an object"),
    ({"t": "end", "status": "done"}, "status must be one of"),
    ({"t": "end", "exit_code": "0"}, "exit_code must be an integer"),
]


@pytest.mark.parametrize("event", GOOD)
def test_valid_events_pass(event):
    assert problem(event) is None


@pytest.mark.parametrize(("event", "why"), BAD)
def test_each_kind_of_bad_line_is_named(event, why):
    found = problem(event)
    assert found is not None and why in found, found
