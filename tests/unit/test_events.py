from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hunchlab import eventcheck, events
from hunchlab.errors import StoreError
from hunchlab.events import EventWriter, encode, read_events


def test_writer_starts_with_a_versioned_header_and_appends_lines(tmp_path):
    path = tmp_path / "run-x" / "events.jsonl"
    path.parent.mkdir()
    w = EventWriter(path)
    w.write({"t": "log", "step": 0, "m": {"a": 1.0}})
    w.close()
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"hunch_events": 1, "run": "run-x"}
    chunk = read_events(path)
    assert chunk.events == [{"t": "log", "step": 0, "m": {"a": 1.0}}] and chunk.end == path.stat().st_size
    assert chunk.bad == []


def test_a_torn_last_line_is_left_for_later_and_offsets_resume(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 1}\n{"t": "log", "step": 0, "m": {}}\n{"t": "lo')
    chunk = read_events(path)
    assert len(chunk.events) == 1 and chunk.bad == []
    with open(path, "a") as f:
        f.write('g", "step": 1, "m": {}}\n')
    assert read_events(path, chunk.end).events == [{"t": "log", "step": 1, "m": {}}]


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 99}\n')
    with pytest.raises(StoreError, match="newer"):
        read_events(path)


def test_a_bad_line_in_the_middle_is_set_aside_with_its_place_and_the_rest_is_read(tmp_path):
    path = tmp_path / "events.jsonl"
    head = '{"hunch_events": 1}\n{"t": "log", "step": 0, "m": {"x": 1}}\n'
    path.write_text(head + 'not json\n{"t": "log", "step": 1, "m": {"x": 2}}\n')
    chunk = read_events(path)
    assert [e["step"] for e in chunk.events] == [0, 1]
    (bad,) = chunk.bad
    assert bad.byte == len(head) and bad.raw == b"not json" and bad.why.startswith("not JSON")


def test_a_write_glued_onto_a_torn_line_is_recovered(tmp_path):
    """A process killed mid-write, then another write appended straight after the torn bytes."""
    path = tmp_path / "events.jsonl"
    torn = '{"t": "example", "d": {"id": "big", "input": "{\\"t\\": \\"lo'
    path.write_text('{"hunch_events": 1}\n' + torn + '{"t": "log", "step": 5, "m": {"loss": {"x": 1}}}\n'
                    + torn + '{"t": "log", "step": 6, "m": {"loss": 0.5}}\n')
    chunk = read_events(path)
    assert chunk.events == [{"t": "log", "step": 6, "m": {"loss": 0.5}}]
    assert [b.raw.decode() for b in chunk.bad][1] == torn
    assert "cut short" in chunk.bad[1].why and len(chunk.bad) == 2


def test_a_line_over_the_cap_is_set_aside_as_its_first_part_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "MAX_LINE_BYTES", 3 << 20)
    monkeypatch.setattr(events, "KEPT_OF_LONG_LINE", 1000)
    path = tmp_path / "events.jsonl"
    huge = '{"t": "summary", "d": {"x": "' + "a" * (5 << 20) + '"}}'
    path.write_text('{"hunch_events": 1}\n' + huge + '\n{"t": "summary", "d": {"y": 1}}\n')
    offset = read_events(path, 0, 1 << 20).end
    chunk = read_events(path, offset, 1 << 20)
    (bad,) = chunk.bad
    assert len(bad.raw) == 1000 and "over the 3 MiB cap" in bad.why and chunk.events == []
    assert read_events(path, chunk.end).events == [{"t": "summary", "d": {"y": 1}}]


def test_a_long_line_under_the_cap_is_read_whole_across_chunks(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 1}\n{"t": "summary", "d": {"x": "' + "b" * 300_000 + '"}}\n')
    offset = read_events(path, 0, 1000).end
    chunk = read_events(path, offset, 1000)
    assert len(chunk.events[0]["d"]["x"]) == 300_000 and chunk.end == path.stat().st_size


def test_write_after_torn_starts_a_fresh_line(tmp_path):
    path = tmp_path / "r" / "events.jsonl"
    path.parent.mkdir()
    w = EventWriter(path)
    with open(path, "ab") as f:
        f.write(b'{"t": "example", "d": {"id": "x", "inp')  # a kill mid-write
    w.write_after_torn({"t": "end", "status": "crashed"})
    w.write_after_torn({"t": "end", "status": "finished"})  # the file now ends whole: no blank line
    w.close()
    chunk = read_events(path)
    assert [e["status"] for e in chunk.events] == ["crashed", "finished"] and len(chunk.bad) == 1
    assert b"\n\n" not in path.read_bytes()


def test_encoding_keeps_nan_and_infinity_tokens_and_big_integers():
    line = encode({"t": "log", "step": 1, "m": {"a": math.nan, "b": math.inf, "c": 0.5}})
    assert b"NaN" in line and b"Infinity" in line and line.endswith(b"}\n")
    assert encode({"t": "summary", "d": {"big": 2**70}}) == b'{"t":"summary","d":{"big":1180591620717411303424}}\n'
    parsed = events.decode(line)
    assert math.isnan(parsed["m"]["a"]) and parsed["m"]["b"] == math.inf


def test_encoding_writes_arrays_as_lists_and_other_objects_as_text():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    line = encode({"t": "summary", "d": {"a": np.arange(3), "b": np.float32(0.5), "c": Odd()}})
    assert json.loads(line)["d"] == {"a": [0, 1, 2], "b": 0.5, "c": "odd"}


def test_lone_surrogates_are_set_aside_not_stored(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 1}\n{"t": "summary", "d": {"x": "\\ud800"}}\n')
    chunk = read_events(path)
    assert chunk.events == [] and len(chunk.bad) == 1


def test_step_limits_are_the_int64_range():
    assert eventcheck.step_problem(2**63 - 1) is None and eventcheck.step_problem(-(2**63)) is None
    assert "64-bit" in eventcheck.step_problem(2**63)
    assert "integer" in eventcheck.step_problem(1e20)
