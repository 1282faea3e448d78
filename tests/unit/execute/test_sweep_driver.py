"""hunchlab.execute.sweep_driver: what a drive reports, and when a sweep is not complete in the store."""

from __future__ import annotations

from hunchlab.errors import WrongState
from hunchlab.execute.sweep_driver import Progress, Result


def test_a_drive_where_every_trial_ran_and_was_recorded_has_no_fault():
    assert Result(["sweep-1"], 3, {"finished": 2, "failed": 1}, 1.0, False, ["x failed"]).fault() is None


def test_trials_that_could_not_run_or_be_recorded_are_a_fault_that_says_resume():
    fault = Result(["sweep-1", "sweep-2"], 4, {"error": 2, "finished": 2}, 1.0, False, [],
                   unrecorded=["trial 3"]).fault()
    assert isinstance(fault, WrongState)
    assert fault.what == "2 trial(s) could not run and 1 ran but could not be recorded (listed above)"
    assert fault.where == "sweep-1 + sweep-2" and "hunch sweep resume sweep-1" in (fault.fix or "")


def test_progress_counts_every_ended_trial_as_done():
    assert Progress(10, {"finished": 3, "pruned": 1, "error": 1}, running=2, elapsed=5.0, eta=None).done == 5
