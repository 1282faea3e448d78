"""inspect_ai eval logs as runs: ``hunch import inspect LOG...``, and by themselves after ``hunch run``.

An eval log (inspect's ``.eval`` or ``.json``) becomes one run:

- params: ``task``, ``model``, ``epochs``, ``task_args.*``, ``generate.*`` (the generation
  config as given, its ``seed`` included) and ``model_args.*``;
- summary: every scorer metric, named as inspect names it (``accuracy``, ``stderr``), or
  ``scorer/metric`` when the task has more than one scorer;
- per-example records, one per sample (below), with the sample's metadata fields as columns;
- the run record's ``models``: token usage per model, and its cost from the settings'
  price table (``hunchlab.models.usage``); ``inspect``: the log's path, task, eval id and
  sample counts.

**Ids.** A record's id is ``task:sample_id`` (``arith:q7``; the task's last name part). Paired
comparisons pair records by id, and inspect numbers the samples of a dataset without ids
1, 2, 3…, so two evals of different tasks would otherwise be paired sample by unrelated
sample. Evals of the same task (two models, two prompts) pair sample by sample.

**Epochs.** A sample scored over several epochs is one record, not one per epoch: the
epochs of a sample are repeated measurements of one example, and a paired test that took
them as independent examples would count each sample ``epochs`` times and report an
interval too narrow by about ``sqrt(epochs)``. The record's ``score`` is inspect's own
reduction of the epochs (the task's ``epochs_reducer``, the mean by default: what its
metrics are computed from), and ``correct`` is true when the sample was right in more than
half its epochs, the rule ``hunch compare`` applies to a side with several seeds. Fields
``epochs`` and ``epochs_correct`` keep the count, ``epoch_outputs`` every epoch's answer,
and ``output`` is the answer of the first epoch that agrees with ``correct`` (a sample
counted wrong shows a wrong answer). ``hunch compare`` then runs its accuracy and McNemar
tests on the majority rule and its score test on the reduced scores.

**correct** is filled when the primary scorer (the first) gives inspect's categorical
values (``C``/``I``/``P``/``N``, booleans, or 0/1): true for full credit, false otherwise
(partial credit is not correct). A scorer with continuous values (F1, a 0-10 grade) fills
``score`` only; the other scorers' values are fields ``score_<name>``.

Logs are read with inspect_ai's own reader (``inspect_ai.log``), never parsed by hand, so
every log version inspect reads is read the same way here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from hunchlab.compat.importers import ImportedRun, ImportResult, save_all
from hunchlab.errors import BadInput, MissingPackage, NotFound
from hunchlab.models.usage import Usage, cost
from hunchlab.project import Project

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog, EvalSample

SOURCE = "inspect"
# inspect's log status -> the run's: "started" is a log whose eval is still running or died.
STATUS = {"success": "finished", "error": "failed", "cancelled": "interrupted", "started": "interrupted"}
CATEGORICAL = {"C": True, "I": False, "P": False, "N": False}
RESERVED = {"id", "input", "output", "target", "correct", "score", "answer", "explanation", "epochs",
            "epochs_correct", "epoch_outputs", "input_tokens", "output_tokens", "error"}
SKIPPED_FIELDS = {"messages", "events", "store"}  # what a record does not need; big in agent evals


def inspect_log_module() -> ModuleType:
    """``inspect_ai.log``, or a HunchError saying how to install it."""
    try:
        import inspect_ai.log
    except ImportError:
        raise MissingPackage("reading inspect_ai eval logs needs the inspect_ai package",
                             fix="pip install 'hunchlab[inspect]'") from None
    return inspect_ai.log


def import_inspect(project: Project, paths: Iterable[str]) -> ImportResult:
    """Import eval logs: files, or folders searched for them (as ``inspect view`` lists a log dir)."""
    prices = project.setting("model_prices")
    return save_all(project, (read_log(location, prices) for location in find_logs(paths)))


def find_logs(paths: Iterable[str]) -> list[str]:
    """The eval logs named: a file as given, a folder's logs oldest first; a HunchError when none."""
    log_api = inspect_log_module()
    found: list[str] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            listed = log_api.list_eval_logs(str(p.resolve()), recursive=True, descending=False)
            if not listed:
                raise NotFound(f"no inspect_ai eval logs (*.eval, *.json) under {path}",
                               fix="give a log file, or the --log-dir the eval wrote to (default ./logs)")
            found += [info.name for info in listed]
        elif p.is_file():
            found.append(str(p.resolve()))
        else:
            raise NotFound(f"{path} does not exist", fix="give an eval log file or a log folder")
    return found


def read_log(location: str, prices: dict[str, Any]) -> ImportedRun:
    """One eval log as a run, its samples streamed from the file one at a time."""
    log_api = inspect_log_module()
    try:
        header = log_api.read_eval_log(location, header_only=True)
    except Exception as e:  # inspect's reader raises many kinds for a file that is not a log
        raise BadInput(f"{location} is not an eval log inspect_ai can read ({type(e).__name__}: {e})",
                       fix="give a file inspect wrote (inspect view lists them); a log from a newer inspect "
                           "needs pip install -U inspect_ai") from None
    scorer = header.results.scores[0].name if header.results and header.results.scores else None
    records = list(sample_records(_samples(log_api, location, header), scorer, _reduced(header, scorer),
                                  _short_task(header.eval.task)))
    spec, stats = header.eval, header.stats
    return ImportedRun(
        source=SOURCE, source_id=spec.eval_id, location=location,
        name=f"{_short_task(spec.task)}-{spec.model.rsplit('/', 1)[-1]}",
        params=eval_params(header), summary=eval_summary(header), examples=records,
        tags=list(spec.tags or []), status=STATUS.get(header.status, "interrupted"),
        error=header.error.message if header.error else (
            None if header.status == "success" else f"inspect log status {header.status}"),
        started_at=_time(stats.started_at), ended_at=_time(stats.completed_at),
        commit=spec.revision.commit if spec.revision else None,
        artifacts=[{"path": Path(location).name, "uri": location}],
        extra={"task": spec.task, "eval_id": spec.eval_id, "inspect_run_id": spec.run_id},
        record={"inspect": log_facts(header, location, len(records)), "models": usage(header, prices)})


def eval_params(log: EvalLog) -> dict[str, Any]:
    """Task, model, epochs, task args, generation config and model args, as the eval was asked."""
    spec = log.eval
    generate = spec.model_generate_config.model_dump(exclude_none=True)
    params: dict[str, Any] = {"task": spec.task, "model": spec.model, "epochs": spec.config.epochs or 1}
    for key, value in (("task_args", spec.task_args), ("generate", generate),
                       ("model_args", {k: v for k, v in spec.model_args.items() if v is not None})):
        if value:
            params[key] = dict(value)
    return params


def eval_summary(log: EvalLog) -> dict[str, float]:
    """Every numeric scorer metric: ``metric``, or ``scorer/metric`` when there are several scorers."""
    scores = log.results.scores if log.results else []
    out: dict[str, float] = {}
    for score in scores:
        for name, metric in score.metrics.items():
            if isinstance(metric.value, (int, float)) and not isinstance(metric.value, bool):
                out[name if len(scores) == 1 else f"{score.name}/{name}"] = float(metric.value)
    return out


def log_facts(log: EvalLog, location: str, n_records: int) -> dict[str, Any]:
    """What the run record keeps about the log itself (``hunch show`` prints it)."""
    results = log.results
    return {"log": location, "task": log.eval.task, "eval_id": log.eval.eval_id, "status": log.status,
            "samples": n_records, "epochs": log.eval.config.epochs or 1,
            "completed_samples": results.completed_samples if results else 0,
            "scorer": results.scores[0].name if results and results.scores else None}


def usage(log: EvalLog, prices: dict[str, Any]) -> dict[str, Usage]:
    """Tokens per model over the whole eval, and their cost (inspect's own, else from the price table)."""
    out: dict[str, Usage] = {}
    for model, u in log.stats.model_usage.items():
        paid = u.total_cost if u.total_cost is not None else cost(model, u.input_tokens, u.output_tokens, prices)
        out[model] = {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "cost_usd": paid}
    return out


# ---------------------------------------------------------------------------------- samples


def _samples(log_api: ModuleType, location: str, header: EvalLog) -> Iterator[EvalSample]:
    if header.eval.dataset.sample_ids is None:  # an old log without the sample list: read it whole
        yield from log_api.read_eval_log(location, resolve_attachments=True).samples or []
        return
    yield from log_api.read_eval_log_samples(location, all_samples_required=False, resolve_attachments=True,
                                             exclude_fields=SKIPPED_FIELDS)


def _reduced(log: EvalLog, scorer: str | None) -> dict[str, Any]:
    """The primary scorer's value per sample id after inspect reduced the epochs."""
    for reduction in log.reductions or []:
        if reduction.scorer == scorer:
            return {str(s.sample_id): s.value for s in reduction.samples}
    return {}


@dataclass
class Epoch:
    """One epoch of one sample, reduced to what a record needs."""

    output: str
    value: Any  # the primary scorer's value, None when unscored
    correct: bool | None
    answer: str | None
    explanation: str | None
    others: dict[str, Any] = field(default_factory=dict)  # the other scorers' values
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None


def sample_records(samples: Iterable[EvalSample], scorer: str | None, reduced: dict[str, Any],
                   task: str) -> Iterator[dict[str, Any]]:
    """``run.example`` keyword arguments, one per sample id, its epochs folded in (see the module doc)."""
    firsts: dict[str, EvalSample] = {}
    epochs: dict[str, list[Epoch]] = {}
    for sample in samples:
        key = str(sample.id)
        firsts.setdefault(key, sample)
        epochs.setdefault(key, []).append(_epoch(sample, scorer))
    for key, sample in firsts.items():
        yield _record(f"{task}:{key}", sample, epochs[key], reduced.get(key))


def _epoch(sample: EvalSample, scorer: str | None) -> Epoch:
    scores = sample.scores or {}
    primary = scores.get(scorer) if scorer else None
    value = None if primary is None or sample.invalidation is not None else primary.value
    tokens = sample.model_usage.values()
    return Epoch(output=sample.output.completion if sample.output else "", value=value, correct=_correct(value),
                 answer=primary.answer if primary else None, explanation=primary.explanation if primary else None,
                 others={name: s.value for name, s in scores.items() if name != scorer},
                 input_tokens=sum(u.input_tokens for u in tokens), output_tokens=sum(u.output_tokens for u in tokens),
                 error=sample.error.message if sample.error else None)


def _correct(value: Any) -> bool | None:
    """Full credit on a categorical value; None for continuous values (and no value)."""
    if isinstance(value, str):
        return CATEGORICAL.get(value.upper())
    if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
        return bool(value)
    return None


def _record(record_id: str, sample: EvalSample, epochs: list[Epoch], reduced: Any) -> dict[str, Any]:
    judged = [e.correct for e in epochs if e.correct is not None]
    correct = sum(judged) * 2 > len(judged) if judged else None
    shown = next((e for e in epochs if e.correct == correct), epochs[0])
    fields: dict[str, Any] = {(f"metadata_{k}" if k in RESERVED else k): v for k, v in (sample.metadata or {}).items()}
    fields.update({k: v for k, v in (("answer", shown.answer), ("explanation", shown.explanation))
                   if v is not None and v != shown.output})  # match() repeats the output in both
    fields.update(input_tokens=sum(e.input_tokens for e in epochs), output_tokens=sum(e.output_tokens for e in epochs))
    errors = [e.error for e in epochs if e.error]
    if errors:
        fields["error"] = errors[0]
    if len(epochs) > 1:
        fields.update(epochs=len(epochs), epochs_correct=sum(judged), epoch_outputs=[e.output for e in epochs])
    for name in epochs[0].others:
        fields[f"score_{name}"] = _mean(_float(e.others.get(name)) for e in epochs)
    score = _float(reduced) if reduced is not None else _mean(_float(e.value) for e in epochs)
    target = sample.target if isinstance(sample.target, str) or len(sample.target) != 1 else sample.target[0]
    return {"id": record_id, "input": _text(sample.input), "output": shown.output, "target": target,
            "correct": correct, "score": score, **fields}


def _float(value: Any) -> float | None:
    """A score value as inspect's metrics read it (``C`` 1, ``P`` 0.5, ``I`` 0); None when it has none."""
    if value is None or isinstance(value, (list, dict)):
        return None
    from inspect_ai.scorer import value_to_float

    return float(value_to_float()(value))


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _text(value: Any) -> str:
    """A sample's input: its text, or its chat messages as ``role: text`` paragraphs."""
    if isinstance(value, str):
        return value
    return "\n\n".join(f"{m.role}: {m.text}" for m in value)


def _short_task(task: str) -> str:
    return task.rsplit("/", 1)[-1]


def _time(stamp: str | None) -> float | None:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp() if stamp else None
