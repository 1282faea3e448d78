"""hunchlab.prerun: what `hunch run` and `hunch study run` settle before a run is recorded, by one rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunchlab import prerun
from hunchlab.claims import ClaimError, parse_claim
from hunchlab.errors import HunchError, SpecError
from hunchlab.project import Project
from hunchlab.spec import Spec, load_spec


def _never() -> list:
    raise AssertionError("asked, though the rule says not to")


def test_given_claims_win_over_no_predict_and_the_prompt(project: Project) -> None:
    given = [parse_claim("acc > 0.8 @ 70%")]
    gathered = prerun.gather_predictions(project, given, no_predict=True, ask=_never)
    assert gathered == prerun.Predictions(given, None)


def test_without_claims_the_note_says_why_there_are_none(project: Project) -> None:
    assert prerun.gather_predictions(project, [], no_predict=True, ask=_never).note == prerun.NO_PREDICT
    assert prerun.gather_predictions(project, [], no_predict=False, ask=None).note == prerun.NOT_A_TERMINAL
    declined = prerun.gather_predictions(project, [], no_predict=False, ask=lambda: [])
    assert declined == prerun.Predictions([], prerun.DECLINED)


def test_claims_typed_at_the_prompt_are_the_runs(project: Project) -> None:
    typed = [parse_claim("loss in [0.3, 0.4] @ 80%")]
    assert prerun.gather_predictions(project, [], no_predict=False, ask=lambda: typed) == prerun.Predictions(typed)


def test_a_given_comparison_with_a_reference_that_can_never_resolve_is_refused(project: Project) -> None:
    with pytest.raises(HunchError, match="'nothing' names no run"):
        prerun.gather_predictions(project, [parse_claim("acc > nothing.acc @ 60%")], no_predict=False, ask=None)


def test_a_prompted_claim_is_parsed_and_its_reference_checked(project: Project) -> None:
    assert prerun.prompted_claim(project, "acc > 0.5 @ 60%").metric == "acc"
    with pytest.raises(ClaimError):
        prerun.prompted_claim(project, "acc >> 0.5")
    with pytest.raises(HunchError, match="names no run"):
        prerun.prompted_claim(project, "acc > nothing.acc @ 60%")


def test_spec_claims_come_from_the_spec_then_the_flag_and_name_their_source(project: Project) -> None:
    spec = Spec(name="exp", params={}, predict=["acc > 0.8 @ 70%"], path="exp.yaml")
    claims = prerun.spec_claims(spec, ["loss < 0.5 @ 60%"])
    assert [c.metric for c in claims] == ["acc", "loss"]
    with pytest.raises(ClaimError, match="exp.yaml: predict"):
        prerun.spec_claims(Spec(name="exp", params={}, predict=["acc >"], path="exp.yaml"), [])


def test_an_entry_that_cannot_be_found_fails_before_the_run(project: Project) -> None:
    prerun.check_runnable(load_spec("exp.yaml"), Path.cwd())  # train:main exists
    with pytest.raises(SpecError, match="defines no 'nope'"):
        prerun.check_runnable(Spec(name="exp", params={}, entry="train:nope", path="exp.yaml"), Path.cwd())
    with pytest.raises(SpecError, match="'missing_module' not found"):
        prerun.check_runnable(Spec(name="exp", params={}, entry="missing_module:main", path="exp.yaml"), Path.cwd())


def test_a_command_with_a_placeholder_no_param_fills_fails_before_the_run(project: Project) -> None:
    prerun.check_runnable(Spec(name="c", params={"lr": 0.1}, command="python t.py --lr {lr}"), Path.cwd())
    with pytest.raises(HunchError, match="width"):
        prerun.check_runnable(Spec(name="c", params={"lr": 0.1}, command="python t.py --w {width}"), Path.cwd())


def test_the_specs_question_must_be_in_the_tree_and_none_asks_whoever_can_pick(project: Project) -> None:
    from hunchlab import tree

    goal = tree.add("Goal", project=project)
    assert prerun.run_question(project, Spec(name="e", params={}, question=goal["id"]), where="q") == goal["id"]
    with pytest.raises(SpecError, match="exp.yaml: question"):
        prerun.run_question(project, Spec(name="e", params={}, question="q404"), where="exp.yaml: question")
    unnamed = Spec(name="e", params={})
    assert prerun.run_question(project, unnamed, where="q") is None
    assert prerun.run_question(project, unnamed, where="q", pick=lambda: goal["id"]) == goal["id"]
    assert prerun.run_question(project, unnamed, where="q", pick=lambda: "") is None
