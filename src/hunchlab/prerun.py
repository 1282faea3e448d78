"""What is settled before a run is recorded: its entry can run, its question is in the tree, its predictions.

Order matters to the person at the terminal: a typo in the entry or the question fails
first, before anyone types a prediction that would then be lost. ``hunch run`` and
``hunch study run`` gather predictions by the one rule here (given claims win, then
``--no-predict``, then a prompt on a terminal), so a run's recorded note says the same
thing whichever command made it. Asking is the caller's (the CLI's prompts): this
module decides what is needed and what is valid, and never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hunchlab.claims import Claim, parse_claim
from hunchlab.execute.local import child_argv, search_path
from hunchlab.predict import check_references, parse_claims
from hunchlab.project import Project
from hunchlab.spec import Spec
from hunchlab.tree import check_question

# The note a run records as its `prediction` when it has none, by why.
NO_PREDICT = "no prediction (--no-predict)"
NOT_A_TERMINAL = "no prediction (not a terminal)"
DECLINED = "no prediction (declined at the prompt)"


@dataclass(frozen=True)
class Predictions:
    """The claims a run starts with, or (with none) the note that says why."""

    claims: list[Claim] = field(default_factory=list)
    note: str | None = None


def check_runnable(spec: Spec, cwd: Path) -> None:
    """Raise ``SpecError`` now if the spec's entry cannot be found or its command cannot be filled in,
    as the runner would once the run is recorded."""
    child_argv(spec, search_path(spec, cwd))


def run_question(project: Project, spec: Spec, *, where: str,
                 pick: Callable[[], str | None] | None = None) -> str | None:
    """The question the run serves: the spec's, checked against the tree (``where`` names the source
    in the error), else what ``pick`` offers (None: nobody to ask)."""
    if spec.question:
        check_question(project, spec.question, where=where)
        return spec.question
    return (pick() if pick is not None else None) or None


def spec_claims(spec: Spec, texts: list[str]) -> list[Claim]:
    """The spec's ``predict:`` lines, then ``--predict``, each parse error naming where it came from."""
    return parse_claims(spec.predict, source=f"{spec.path}: predict") + parse_claims(texts, source="--predict")


def prompted_claim(project: Project, text: str) -> Claim:
    """A claim typed at the prompt; a reference that can never resolve raises like a typo, so it is re-asked."""
    claim = parse_claim(text, source="prediction")
    check_references(project, [claim])
    return claim


def gather_predictions(project: Project, given: list[Claim], *, no_predict: bool,
                       ask: Callable[[], list[Claim]] | None) -> Predictions:
    """The run's predictions: ``given`` (checked: a comparison must name a run that has its metric),
    else none for ``--no-predict``, else what ``ask`` gets (None: not a terminal, so nobody to ask)."""
    if given:
        check_references(project, given)
        return Predictions(given)
    if no_predict:
        return Predictions(note=NO_PREDICT)
    if ask is None:
        return Predictions(note=NOT_A_TERMINAL)
    claims = ask()
    return Predictions(claims) if claims else Predictions(note=DECLINED)
