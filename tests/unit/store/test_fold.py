"""Folding an event file into the store: chunk boundaries must not change what a run holds."""

from __future__ import annotations

import pytest

import hunchlab
from hunchlab.store import fold


def _record(project, chunk_bytes, monkeypatch):
    monkeypatch.setattr(fold, "CHUNK_BYTES", chunk_bytes)
    with hunchlab.start(config={"chunk": chunk_bytes}, project=project.root) as run:
        for step in range(300):
            run.log({"loss": 1 / (step + 1), "acc": step / 300}, step=step)
        for i in range(200):
            run.example(i, output="first", correct=False)
        run.example(7, output="second", correct=True)  # the same id again, many chunks later: it wins
        run.summary["acc"] = 0.99
    got = hunchlab.get_run(run.id, project=project)
    curves = {k: [(p["step"], p["value"]) for p in points] for k, points in got["metrics"].items()}
    return {"metrics": curves, "summary": got["summary"], "status": got["status"],
            "examples": sorted((e["id"], e["output"], e["correct"]) for e in got["examples"])}


@pytest.mark.usefixtures("no_folder")
def test_a_run_folded_in_tiny_chunks_holds_exactly_what_one_chunk_gives(project, monkeypatch):
    whole = _record(project, 64 << 20, monkeypatch)
    tiny = _record(project, 512, monkeypatch)  # a few events a chunk, some chunks cut mid-line
    assert tiny == whole
    assert len(tiny["metrics"]["loss"]) == 300 and len(tiny["examples"]) == 200
    assert ("7", "second", True) in tiny["examples"] and tiny["summary"]["acc"] == 0.99


def test_params_and_meta_lines_update_the_run_and_its_seed_group(project):
    from hunchlab.run_start import create_run

    run = create_run(project, {"params": {"lr": 0.1}, "spec": {"entry": "x"}})
    before = hunchlab.get_run(run.id, project=project)["group_key"]
    run._write({"t": "params", "d": {"batch_size": 64}})
    run._write({"t": "meta", "d": {"tags": ["baseline"]}})
    run.finish()
    got = hunchlab.get_run(run.id, project=project)
    assert got["params"] == {"lr": 0.1, "batch_size": 64} and got["tags"] == ["baseline"]
    assert got["group_key"] != before and got["status"] == "finished"
