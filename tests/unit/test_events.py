from __future__ import annotations

import json

import pytest

from hunchlab.errors import StoreError
from hunchlab.events import EventWriter, read_events


def test_writer_starts_with_a_versioned_header_and_appends_lines(tmp_path):
    path = tmp_path / "run-x" / "events.jsonl"
    path.parent.mkdir()
    w = EventWriter(path)
    w.write({"t": "log", "step": 0, "m": {"a": 1.0}})
    w.close()
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"hunch_events": 1, "run": "run-x"}
    events, offset = read_events(path)
    assert events == [{"t": "log", "step": 0, "m": {"a": 1.0}}] and offset == path.stat().st_size


def test_a_torn_last_line_is_left_for_later_and_offsets_resume(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 1}\n{"t": "log", "step": 0, "m": {}}\n{"t": "lo')
    events, offset = read_events(path)
    assert len(events) == 1
    with open(path, "a") as f:
        f.write('g", "step": 1, "m": {}}\n')
    more, _ = read_events(path, offset)
    assert more == [{"t": "log", "step": 1, "m": {}}]


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 99}\n')
    with pytest.raises(StoreError, match="newer"):
        read_events(path)


def test_corruption_in_the_middle_is_reported(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"hunch_events": 1}\nnot json\n{"t": "end"}\n')
    with pytest.raises(StoreError, match="corrupted"):
        read_events(path)
