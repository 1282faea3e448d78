"""A fold checks a chunk of plain log lines in a few passes (``eventcheck.plain_logs``); any line
those passes cannot vouch for must send the chunk back to the line-by-line check, so what a fold
keeps and quarantines is the same either way."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from hunchlab.eventcheck import problem
from hunchlab.events import read_events

GOOD = {"t": "log", "step": 1, "time": 1.5, "m": {"loss": 0.5, "acc": None}}
ODD = [
    {**GOOD, "step": 1.0}, {**GOOD, "step": True}, {**GOOD, "step": 1 << 63}, {**GOOD, "time": "noon"},
    {**GOOD, "time": 3}, {**GOOD, "m": {"loss": 1}}, {**GOOD, "m": {"loss": 1 << 63}}, {**GOOD, "m": {"loss": "x"}},
    {**GOOD, "m": {"x" * 251: 0.5}}, {**GOOD, "m": {f"k{i}": 0.5 for i in range(10_001)}}, {**GOOD, "m": []},
    {**GOOD, "m": {}}, {**GOOD, "t": ["log"]}, {**GOOD, "t": "summary"}, {"t": "log", "step": 2},
    {"t": "log", "m": {}}, {"step": 1, "m": {}}, {**GOOD, "hunch_events": 1}, [GOOD], 7,
]


@pytest.mark.parametrize("odd", ODD, ids=range(len(ODD)))
def test_a_chunk_with_one_odd_line_reads_as_each_line_checked_alone(tmp_path: Path, odd: object) -> None:
    lines = [json.dumps({**GOOD, "step": i}).encode() for i in range(50)]
    lines.insert(20, json.dumps(odd).encode())
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunk = read_events(path)
    expected = [orjson.loads(line) for line in lines]  # as the fold parses each line alone
    kept = [e for e in expected if problem(e) is None and not (type(e) is dict and "hunch_events" in e)]
    assert chunk.events == kept
    assert [(b.byte, b.raw, b.why) for b in chunk.bad] == [
        (sum(len(x) + 1 for x in lines[:20]), lines[20], problem(odd))] * (problem(odd) is not None)
