"""How an eval log's samples become records: correctness, epochs, ids, fields (samples built in memory)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai.log import EvalError, EvalSample  # noqa: E402
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, ModelOutput, ModelUsage  # noqa: E402
from inspect_ai.scorer import Score  # noqa: E402

from hunchlab.compat.inspect_log import sample_records  # noqa: E402


def sample(id: str | int, value: Any, *, epoch: int = 1, output: str = "out", **extra: Any) -> EvalSample:
    scores = {"match": Score(value=value, answer=output, explanation="why")} if value is not None else None
    return EvalSample(id=id, epoch=epoch, input="What is 2 + 2?", target="4", output=ModelOutput.from_content(
        "mockllm/model", output), scores=scores,
        model_usage={"m": ModelUsage(input_tokens=10, output_tokens=3, total_tokens=13)}, **extra)


def records(samples: list[EvalSample], reduced: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in sample_records(samples, "match", reduced or {}, "arith")}


@pytest.mark.parametrize(("value", "correct", "score"), [
    ("C", True, 1.0), ("I", False, 0.0), ("P", False, 0.5), ("N", False, 0.0),
    (True, True, 1.0), (0, False, 0.0), (1.0, True, 1.0),
    (0.7, None, 0.7),  # a continuous score (F1, a grade) says nothing about "correct"
])
def test_correct_is_full_credit_on_categorical_values_only(value: Any, correct: bool | None, score: float) -> None:
    r = records([sample("a", value)])["arith:a"]
    assert r["correct"] is correct and r["score"] == pytest.approx(score)


def test_epochs_fold_into_one_record_with_a_majority_rule_and_the_reduced_score() -> None:
    epochs = [sample(7, v, epoch=e, output=o) for e, (v, o) in enumerate([("C", "4"), ("I", "5"), ("C", "4")], 1)]
    r = records(epochs, {"7": 0.6667})["arith:7"]
    assert r["correct"] is True and r["score"] == 0.6667  # inspect's reduction, as its metrics used it
    assert (r["epochs"], r["epochs_correct"], r["epoch_outputs"]) == (3, 2, ["4", "5", "4"])
    assert r["output"] == "4" and r["input_tokens"] == 30


def test_a_tie_is_not_a_majority_and_a_wrong_record_shows_a_wrong_output() -> None:
    r = records([sample("t", "C", epoch=1, output="4"), sample("t", "I", epoch=2, output="5")])["arith:t"]
    assert r["correct"] is False and r["score"] == 0.5 and r["output"] == "5"


def test_ids_carry_the_task_so_other_tasks_never_pair() -> None:
    assert list(records([sample(1, "C"), sample(2, "I")])) == ["arith:1", "arith:2"]


def test_metadata_become_fields_without_shadowing_the_records_own() -> None:
    r = records([sample("m", "C", metadata={"topic": "sums", "score": 3, "answer": "x"})])["arith:m"]
    assert r["topic"] == "sums" and r["metadata_score"] == 3 and r["metadata_answer"] == "x" and r["score"] == 1.0


def test_chat_input_other_scorers_errors_and_list_targets() -> None:
    s = sample("c", "C", output="ok")
    s.input = [ChatMessageSystem(content="Be brief."), ChatMessageUser(content="Hi")]
    s.target = ["4"]
    assert s.scores is not None
    s.scores["judge"] = Score(value="P")
    r = records([s])["arith:c"]
    assert r["input"] == "system: Be brief.\n\nuser: Hi" and r["target"] == "4" and r["score_judge"] == 0.5
    broken = sample("e", None, error=EvalError(message="RuntimeError('boom')", traceback="", traceback_ansi=""))
    r = records([broken])["arith:e"]
    assert r["correct"] is None and r["score"] is None and r["error"] == "RuntimeError('boom')"
