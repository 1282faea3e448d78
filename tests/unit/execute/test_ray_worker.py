"""The worker side of a Ray trial, without Ray: what its tail ships and how a missing data file is explained."""

from __future__ import annotations

import json

from hunchlab.execute.ray_worker import CHUNK_BYTES, _Tail, ignored_file_note, scratch_project
from hunchlab.project import find_project
from hunchlab.run import Run


def _events(run_dir, *lines):
    with open(run_dir / "events.jsonl", "ab") as f:
        for line in lines:
            f.write(json.dumps(line).encode() + b"\n")


def test_the_tail_ships_an_event_line_longer_than_a_chunk_and_the_lines_after_it(tmp_path):
    (tmp_path / "events.jsonl").write_bytes(b'{"hunch_events": 1}\n')
    tail = _Tail(tmp_path)
    big = {"t": "example", "d": {"id": "big", "input": "a" * (CHUNK_BYTES + 1000)}}
    _events(tmp_path, big, {"t": "summary", "d": {"done": 1}})
    with open(tmp_path / "events.jsonl", "ab") as f:
        f.write(b'{"t": "log", "st')  # a line being written: not shipped until it is whole
    shipped = b"".join(m[2] for m in tail.new() if m[0] == "append" and m[1] == "events.jsonl")
    lines = [json.loads(line) for line in shipped.splitlines()]
    assert [e["t"] for e in lines] == ["example", "summary"] and lines[0]["d"]["input"] == big["d"]["input"]
    assert list(tail.new()) == []
    with open(tmp_path / "events.jsonl", "ab") as f:
        f.write(b'ep": 0, "m": {"x": 1.0}}\n')
    assert [m[2] for m in tail.new()] == [b'{"t": "log", "step": 0, "m": {"x": 1.0}}\n']


def test_a_missing_git_ignored_file_is_named_with_how_to_ship_it(tmp_path):
    tree, run_dir = tmp_path / "tree", tmp_path / "run"
    (tree / "src").mkdir(parents=True)
    run_dir.mkdir()
    (run_dir / "stderr.log").write_text("Traceback ...\nFileNotFoundError: [Errno 2] No such file or directory: "
                                        "'../data/train.csv'\n")
    note = ignored_file_note(run_dir, tree / "src", tree, ["data", "checkpoints"])
    assert note.startswith("../data/train.csv is git-ignored, so it was not shipped to the Ray worker")
    (run_dir / "stderr.log").write_text("cat: notes.txt: No such file or directory\n")
    assert ignored_file_note(run_dir, tree / "src", tree, ["data"]) is None  # not ignored: a plain missing file
    assert ignored_file_note(run_dir, tree / "src", tree, ["src/notes.txt"]).startswith("notes.txt is git-ignored")


def test_the_scratch_project_fsyncs_like_the_project_it_stands_in_for(tmp_path, monkeypatch):
    monkeypatch.delenv("HUNCH_DIR", raising=False)
    for durability, fsync in (("machine", True), ("process", False)):
        root = tmp_path / durability
        scratch = scratch_project(root, durability)
        (scratch.run_dir("r-1")).mkdir(parents=True)
        assert find_project(root).setting("durability") == durability  # what the entry's process reads
        run = Run(scratch, "r-1", {}, owner=False)  # what the captures log through
        assert run._writer.fsync is fsync
        run.finish()
