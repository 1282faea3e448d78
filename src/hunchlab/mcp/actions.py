"""The tools of ``hunch mcp`` that start runs or write to the record, each under the agent's name.

The rules that make an agent's research as auditable as a person's live here, in
front of the same library calls the CLI makes: a run is refused without a prediction
(the claim grammar of ``hunchlab.claims``), every start is charged to the session's
budget first, a path must stay inside the project, and nothing is deleted or
overwritten: a stored failure sample is not redrawn, a tag someone else gave is not
replaced, a run's question is not moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hunchlab import journal, run_records, triage
from hunchlab import tree as lib
from hunchlab.errors import Refused
from hunchlab.mcp.guard import Caller, inside
from hunchlab.predict import parse_claims
from hunchlab.sweeps import sweep_table
from hunchlab.tree import check_question

GRAMMAR = "'acc > 0.8 @ 70%', 'loss in [0.3, 0.4] @ 80%', 'acc > baseline.acc @ 60%'"


def run(c: Caller, spec: str, predict: list[str] | None = None, overrides: list[str] | None = None, seeds: int = 1,
        question: str | None = None, smoke: bool = False) -> dict[str, Any]:
    """Run an experiment from a spec file (like `hunch run`), under `seeds` seeds as one seed group.

    predict is REQUIRED: before anything runs, say what you expect, one or more claims with a probability,
    e.g. ["acc > 0.8 @ 70%"], "loss in [0.3, 0.4] @ 80%", "acc > baseline.acc @ 60%" (another spec's latest
    group). They are locked before the run starts and scored when it ends
    (over a seed group: on the mean of all seeds); your calibration is kept like a person's.
    spec: a YAML spec path inside the project. overrides: ["lr=3e-4", "model.width=128", "seed=3"].
    question: the id of the tree's question this run serves (`tree` lists them).
    Blocks until the runs end; returns each run's status, summary metrics and how the predictions scored.
    """
    from hunchlab.execute.local import outcome_fault  # lazy: loads pydantic, yaml only when called
    from hunchlab.execute.seeds import run_seeds  # lazy: loads pydantic, yaml only when called
    from hunchlab.spec import load_spec  # lazy: loads pydantic, yaml only when called

    if not predict:
        raise Refused("a run needs your prediction first: nothing was started",
                      fix=f"pass predict, one or more claims with a probability, e.g. {GRAMMAR}")
    claims = parse_claims(predict, source="predict")
    path = inside(c.project, spec, what="spec")
    resolved = load_spec(path, list(overrides or []), smoke=smoke)
    notes = ["the spec's own predict: lines are the person's, so they are not recorded as yours"] \
        if resolved.predict else []
    resolved = replace(resolved, predict=[], question=question or resolved.question)
    if resolved.question:
        check_question(c.project, resolved.question, where="question")
    c.budget.admit(seeds, f"running {path.name} under {seeds} seed(s)")
    try:
        outcomes = run_seeds(c.project, resolved, seeds, predictions=claims, cwd=c.project.root,
                             argv=["hunch", "mcp", "run", spec, *(overrides or [])], echo=False,
                             extra_meta={"agent": c.agent})
    except BaseException:
        c.budget.give_back(seeds)  # raised before any run was recorded (a bad entry, a full disk)
        raise
    c.budget.give_back(seeds - len(outcomes))  # seeds not started after an interruption
    fault = next((f for f in map(outcome_fault, outcomes) if f is not None), None)
    done = [run_records.get_run(o.run_id, metrics=False, examples=False, project=c.project) for o in outcomes]
    return {"runs": [_brief(r) for r in done], "group": done[0]["group_key"] if done else None,
            "notes": notes + ([fault.format_message()] if fault else []), "budget": c.budget.to_dict()}


def _brief(r: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "status", "seed", "group_key", "question", "summary", "metrics", "error", "predictions")
    return {k: r.get(k) for k in keys}


def sweep(c: Caller, spec: str, args: list[str] | None = None, seeds: int | None = None, budget: int | None = None,
          metric: str | None = None, goal: str | None = None, smoke: bool = False, jobs: int = 1) -> dict[str, Any]:
    """Sweep params (like `hunch sweep`): args with commas are axes ("lr=1e-4,3e-4"), the rest overrides
    ("steps=50"); every config runs under `seeds` seeds, `jobs` at a time, on this machine.

    Every trial is a run charged to this session's budget, and the whole sweep is refused up front if its
    trials do not fit. budget: exactly this many trials (with a baseline: this many for each side, the fair
    way to tune both). Returns the table: one row per config, mean and interval over seeds, best first.
    """
    from hunchlab.execute.sweep import run_sweep  # lazy: loads pydantic, yaml only when called

    path = inside(c.project, spec, what="spec")
    admitted = [0]

    def admit(n: int) -> None:
        c.budget.admit(n, f"sweeping {path.name} ({n} trials)")
        admitted[0] = n

    try:
        result = run_sweep(path, list(args or []), seeds=seeds, budget=budget, metric=metric, goal=goal,
                           smoke=smoke, executor="local", jobs=jobs, project=c.project, cwd=c.project.root,
                           agent=c.agent, admit=admit)
    except BaseException:
        c.budget.give_back(admitted[0])  # nothing was recorded; a sweep that started is charged whole
        raise
    tables = [sweep_table(s, metric=metric, project=c.project) for s in result.sweeps]
    fault = result.fault()
    return {"sweeps": result.sweeps, "counts": result.counts, "problems": result.problems,
            "notes": result.notes + ([fault.format_message()] if fault else []), "tables": tables,
            "budget": c.budget.to_dict()}


def failures(c: Caller, run: str, sample: int = 20, seed: int = 0, where: list[str] | None = None,
             by: str | None = None) -> dict[str, Any]:
    """A reproducible random sample of a run's failing examples (like `hunch failures`), each with its tag.

    Read each one (the `examples` tool with where=["id=..."] shows the whole record) and tag it with a
    category. A run keeps one stored sample: asking again with the same sample, seed, where and by returns it
    with the tags so far; a different one is refused rather than replacing it. by: stratify by a logged field.
    """
    drawn = triage.failures(run, sample=sample, seed=seed, where=where or [], by=by, replace=False,
                            project=c.project)
    return drawn.to_dict()


def tag(c: Caller, run: str, example: str, category: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Tag one example of a run with a failure category and/or a note (like `hunch tag`), under your name.

    Reuse a category's exact name for the same kind of failure (`categories` lists them) so counts add up.
    A tag someone else gave is kept as it is: that is refused, not overwritten.
    """
    return triage.tag(run, example, category, note=note, agent=c.agent, keep_others=True, project=c.project)


def note(c: Caller, text: str, kind: str = "note", run: str | None = None,
         question: str | None = None) -> dict[str, Any]:
    """Write a journal entry under your name (like `hunch note -m`): why a run exists, what you expected, what you
    found, what you now believe. kind: note, plan, result, surprise or decision. The first line (or a leading
    "# title") is its title. run / question link it to a run or a question of the tree."""
    return journal.add_note(text, kind=kind, run_ref=run, question_id=question, agent=c.agent, project=c.project)


def tree_add(c: Caller, title: str, under: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Add a goal, project or question to the theory-of-change tree under your name (like `hunch tree add`).

    under: the parent's id (none: a goal; under a goal: a project; else a question). why: how answering it
    moves its parent; a node without one is allowed but is the first thing a reviewer asks about."""
    return lib.add(title, under=under, why=why, agent=c.agent, project=c.project)


def attach(c: Caller, run: str, question: str) -> dict[str, Any]:
    """Make an existing run serve a question of the tree (like `hunch tree attach`), so `hunch why RUN` can
    trace it up to its goal. A run that already serves another question keeps it (refused)."""
    return lib.attach(run, question, project=c.project)
