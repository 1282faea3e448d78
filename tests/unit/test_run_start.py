"""hunchlab.start() and current_run(): which run a process logs into, and when it has none."""

from __future__ import annotations

import json

import pytest

import hunchlab
from hunchlab.errors import StoreError, WrongState
from hunchlab.run_start import create_run
from hunchlab.rundir import ENV_RUN_DIR, META_FILE


def test_a_started_run_is_current_until_its_with_block_ends(project, monkeypatch):
    monkeypatch.delenv(ENV_RUN_DIR, raising=False)
    with hunchlab.start(name="a") as run:
        assert hunchlab.current_run() is run
    with pytest.raises(WrongState, match="no active run in this process"):
        hunchlab.current_run()


def test_the_run_of_hunch_run_is_attached_from_its_folder_and_not_owned(project, monkeypatch):
    made = create_run(project, {"params": {"lr": 0.1}, "seed": 3, "spec": {"entry": "x"}})
    monkeypatch.setenv(ENV_RUN_DIR, str(made.dir))
    try:
        attached = hunchlab.current_run()
        assert attached is not made and attached.id == made.id
        assert attached.config["lr"] == 0.1 and attached.seed == 3
        assert hunchlab.current_run() is attached  # attached once, then kept
        attached.finish()
        assert json.loads((made.dir / META_FILE).read_text())["id"] == made.id
        assert "status" not in (made.dir / "events.jsonl").read_text()  # not the owner: no end line from it
    finally:
        with attached:
            pass  # leaving the block clears the current run for the next test
        made.finish()


def test_when_every_id_taken_is_an_existing_folder_no_run_is_written_over_it(project, monkeypatch):
    taken = create_run(project, {"params": {}, "seed": 0})
    before = (taken.dir / META_FILE).read_text()
    monkeypatch.setattr(type(project), "run_dir", lambda self, run_id: taken.dir)
    with pytest.raises(StoreError, match="could not take a run id"):
        create_run(project, {"params": {"lr": 0.2}, "seed": 1})
    assert (taken.dir / META_FILE).read_text() == before
    taken.finish()
