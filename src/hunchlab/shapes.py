"""The shapes of the records that cross module boundaries: runs, examples, predictions, comparisons.

The store, the library, the CLI, the dashboard and the MCP tools pass these records as
plain dicts (JSON-able, so ``--json`` and the web's ``.json`` twins dump them as they
are). A ``TypedDict`` is a plain dict at run time — nothing here changes what is built
or costs an import — but it lets ``mypy --strict`` check every key a reader uses
against what the writer puts in. Each type is spelled from the code that builds it
(named in its docstring); ``tests/unit/test_shapes.py`` holds the run record a real run
produces to exactly the keys declared here, so the type and the code cannot drift.

Only ``typing`` is imported: this module is in the foundation layer, below everything
that builds or reads these records, and ``import hunchlab`` stays light. There is no
``from __future__ import annotations`` here on purpose: Python 3.11's ``TypedDict``
only sees ``NotRequired`` in an evaluated annotation (a string one counts as required,
and ``__optional_keys__``, which the test reads, comes out empty), so each type is
defined after the types it holds.
"""

from typing import Any, NotRequired, TypedDict

__all__ = ["Artifact", "CodeSummary", "ComparisonRecord", "ConfigRow", "ExampleRecord", "Flip", "Flips",
           "MetricPoint", "MetricStat", "PairedRecord", "PredictionRecord", "Quarantine", "RunRecord", "RunRow",
           "SideCode", "SideSummary"]


# -- runs ---------------------------------------------------------------------------------------
class RunRow(TypedDict):
    """A run as the run list holds it: one row of ``hunch runs``, ``hunchlab.runs()`` and the runs page.

    Built by ``Store.list_runs`` and its fast twin ``runlist.runs_page`` (the same
    columns, ``RUN_LIST_COLUMNS`` / ``runlist.COLUMNS``), with ``params`` and
    ``summary`` decoded from their JSON.
    """

    # Identity: the run id (``20261204-…``), its number in the project, and the name it was given.
    id: str
    seq: int
    name: str | None
    # Where it stands: running | finished | failed | interrupted | crashed | pruned, and how its process ended.
    status: str
    exit_code: int | None
    # What it was run for: the spec's name, the question it answers (the tree), its seed group and seed.
    spec_name: str | None
    question: str | None
    group_key: str | None
    seed: int | None
    # The config it ran with (nested as given) and its summary metrics ({metric: value}).
    params: dict[str, Any]
    summary: dict[str, Any]
    # When it started and ended (Unix seconds; ``ended_at`` None while it runs).
    created_at: float
    ended_at: float | None
    # The agent that started it (``hunch mcp``); None: the person.
    agent: str | None


class Artifact(TypedDict):
    """A file the run saved with ``run.save``: its name in the run folder, content hash and size in bytes."""

    name: str
    sha256: str
    size: int
    # ``run_page.run_page`` only: whether the page shows it inline (by its name's suffix).
    image: NotRequired[bool]


class MetricPoint(TypedDict):
    """One logged point of a metric's history (``get_run(metrics=True)``)."""

    step: int
    value: float | None
    time: float | None


class MetricStat(TypedDict):
    """A metric in brief (``get_run(metrics=False)``): how many points, and the last step and its value.

    Kept by the fold in the ``metric_stats`` column, so a run's page reads no history.
    """

    n: int
    step: int
    value: float | None


class Quarantine(TypedDict):
    """The event lines a fold could not read, set aside in the run's ``events.quarantined``:
    how many, that file's length at the last fold, and the first one's byte offset and reason."""

    lines: int
    bytes: int
    byte: int
    why: str


# -- examples -----------------------------------------------------------------------------------
class ExampleRecord(TypedDict):
    """One example a run scored (``run.example``), as ``Store.get_run`` and triage read it back.

    Built by ``store.example_record`` from an ``examples`` row: ``input``, ``output``
    and ``target`` decoded from JSON (any JSON value), ``fields`` the extra fields
    logged with it (``{}`` when none).
    """

    id: str
    input: Any
    output: Any
    target: Any
    # How it was judged: right or wrong, and/or a score (None when not logged).
    correct: bool | None
    score: float | None
    fields: dict[str, Any]


# -- predictions --------------------------------------------------------------------------------
class PredictionRecord(TypedDict):
    """A prediction, forecast or paper guess: one ``predictions`` row, as every reader of them gets it.

    Built by ``store.predictions._row`` (``claim`` and ``tags`` decoded) and
    ``_with_refs`` (``ref``); ``predict.scored`` adds ``brier`` and ``surprise``.
    """

    # Identity: the row id, and the name people type (``f3`` a forecast, ``r3`` a run's; None: a paper guess).
    id: int
    ref: str | None
    # What it is about: run | forecast | read; the run (a seed group's first run, with the group's size)
    # or the paper reading it belongs to.
    kind: str
    run_id: str | None
    group_size: int | None
    reading_id: int | None
    # The claim as written and parsed (``claims.Claim`` as a dict; None for a yes/no forecast), the stated
    # probability, tags, when it was made (locked from then on), who made it, and a forecast's resolve-by date.
    text: str
    claim: dict[str, Any] | None
    probability: float
    tags: list[str]
    created_at: float
    agent: str | None
    resolve_by: str | None
    # How it turned out: open | resolved | void | unresolvable; whether it held, the values judged,
    # when, and a note (how it was resolved, or why it could not be).
    status: str
    outcome: bool | None
    actual: float | None
    ref_value: float | None
    resolved_at: float | None
    note: str | None
    # ``predict.scored`` only: the Brier score once resolved (else None), and whether a confident
    # prediction came out wrong.
    brier: NotRequired[float | None]
    surprise: NotRequired[bool]


# -- the whole run (after the examples and predictions it holds: these annotations are evaluated) ------
class RunRecord(RunRow):
    """The whole record of one run: ``hunchlab.get_run``, ``hunch show --json``, the run page and the MCP tool.

    Built by ``Store.get_run`` from the run's row (every ``runs`` column but ``meta``
    and ``folded_bytes``), the keys of its ``run.json`` (``meta``) merged over it, its
    artifacts, metrics, predictions and examples; ``run_records.get_run`` scores the
    predictions and adds ``files_elsewhere``. The keys of ``run.json`` and of the
    ``meta`` events a run writes while it runs (``compat.attach.add_record``) are
    declared below, each where hunchlab writes it.
    """

    # Its process, from the row: the machine, the pid and that pid's start time (liveness), the error it ended with.
    host: str | None
    pid: int | None
    pid_start: str | None
    error: str | None
    # The fold's bookkeeping: the last event's time, the raw ``metric_stats`` JSON text, and set-aside lines.
    last_event_at: float | None
    metric_stats: str | None
    quarantine: Quarantine | None
    # What was run, from ``run.json``: the spec as resolved (entry, command, question, smoke, metrics…),
    # the command line, the environment (python, packages, machine) and where the project folder was.
    spec: NotRequired[dict[str, Any]]
    argv: NotRequired[list[str]]
    env: NotRequired[dict[str, Any]]
    project_root: NotRequired[str]
    # The code state (git commit, dirty, diff) when it was captured.
    code: NotRequired[dict[str, Any]]
    # How it came to be: a rerun of that run, a sweep's trial, a run imported from another tool
    # (MLflow, W&B, inspect), and the note a person gave with its predictions.
    rerun_of: NotRequired[str]
    sweep: NotRequired[dict[str, Any]]
    imported: NotRequired[dict[str, Any]]
    prediction: NotRequired[str]
    # A study's run (``studies.runner``): the study's name and the budget it ran at (smoke | full …).
    study: NotRequired[str]
    budget: NotRequired[str]
    # What ``hunch run`` captured around the entry (``execute.captures``): points read from stdout,
    # TensorBoard and inspect logs, and the files it wrote into the project (the first 200, and how many).
    captured: NotRequired[dict[str, Any]]
    outputs: NotRequired[list[str]]
    n_outputs: NotRequired[int]
    # Fields other tools' habits left: the wandb stand-in's run info, tags and notes; the model client's
    # token usage and cost (``models``).
    # An imported run's tags are what its tool kept: a list (W&B) or {name: value} (MLflow), and its notes may be None.
    wandb: NotRequired[dict[str, Any]]
    tags: NotRequired[list[str] | dict[str, str]]
    notes: NotRequired[str | None]
    models: NotRequired[dict[str, Any]]
    # What it holds: saved files, metrics (full histories, or ``MetricStat`` without ``metrics=True``),
    # how many example records, its predictions and (with ``examples=True``) the examples themselves.
    artifacts: list[Artifact]
    metrics: dict[str, list[MetricPoint]] | dict[str, MetricStat]
    n_examples: int
    predictions: list[PredictionRecord]
    examples: NotRequired[list[ExampleRecord]]
    # ``run_records.get_run`` only: where the run's files are when this folder lacks them (a shared store), else None.
    files_elsewhere: NotRequired[str | None]


# -- comparisons --------------------------------------------------------------------------------
class SideSummary(TypedDict):
    """One side of a comparison (A, B, …): what was selected and which runs it holds (``compare._side_summary``)."""

    label: str
    selector: str | None
    group: str | None
    description: str | None
    # Its runs: how many, their ids and seeds, and how many ended in each status.
    n: int
    runs: list[str]
    seeds: list[int | None]
    statuses: dict[str, int]


class ConfigRow(TypedDict):
    """A config key whose value differs between the sides, with each side's value (None: not set)."""

    key: str
    values: list[Any]


class SideCode(TypedDict):
    """The distinct code states (``compare.code_state`` dicts) among one side's runs."""

    label: str
    states: list[dict[str, Any]]


class CodeSummary(TypedDict):
    """Whether the sides ran the same code: True, False, or None when it was not captured; in words too."""

    same: bool | None
    sides: list[SideCode]
    text: str


class Flip(TypedDict):
    """An example right on one side and wrong on the other: how many of each side's runs got it right,
    then (``compare_examples.add_flip_details``) its input, target and each side's output."""

    id: str
    a_right: int
    a_n: int
    b_right: int
    b_n: int
    input: NotRequired[Any]
    target: NotRequired[Any]
    a_output: NotRequired[Any]
    b_output: NotRequired[Any]


class Flips(TypedDict):
    """Both kinds of flip: how many, and the first few of each, largest change first."""

    n_right_to_wrong: int
    n_wrong_to_right: int
    right_to_wrong: list[Flip]
    wrong_to_right: list[Flip]


class PairedRecord(TypedDict):
    """The paired tests of one side against the first, on the examples both scored (``compare_examples.paired_sides``).

    Each test is a ``paired.PairedTest`` (or ``stats.McNemarResult``) as a dict, with
    its power and verdict and, after Holm, ``p_adjusted``.
    """

    # The two sides, how many examples they share (the unit is an example) and how many only one has.
    labels: list[str]
    n_shared: int
    unit: str
    only: dict[str, int]
    # The tests that had at least two examples: on correctness (sign-flip and McNemar) and on score.
    accuracy: NotRequired[dict[str, Any]]
    mcnemar: NotRequired[dict[str, Any]]
    score: NotRequired[dict[str, Any]]
    # With several runs a side: what "right" means (None with one run a side).
    right_rule: NotRequired[str | None]
    flips: Flips


class ComparisonRecord(TypedDict):
    """What ``hunch compare`` finds: ``compare.compare`` / ``compare.analyse``, rendered by
    ``compare_text`` (terminal, Markdown, CSV), the compare page and the MCP ``compare`` tool."""

    # The sides and how they differ before any test: config keys and code state.
    sides: list[SideSummary]
    config: list[ConfigRow]
    code: CodeSummary
    # Per metric, the seed-level test of each side against the first (``compare._metric_row``:
    # a ``Comparison`` as a dict with its labels, bounds and goal), and the paired example-level tests.
    metrics: list[dict[str, Any]]
    paired: list[PairedRecord]
    # The levels asked for: interval confidence, test alpha, the difference worth detecting (None: not asked),
    # and the size of the Holm family the p-values were adjusted over.
    confidence: float
    alpha: float
    detect: float | None
    holm_tests: int
    # What a reader should know: selection notes, skipped metrics, the units note.
    notes: list[str]
