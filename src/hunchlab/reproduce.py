"""``hunch rerun``: re-execute a run from its stored code, config and seed, and check it reproduced.

A check that compares nothing proves nothing: a run with no metrics used to print an
empty table and "all 0 metrics match: reproduced". So the check compares everything a
run records that a rerun should repeat exactly (wall-clock times aside):

- each summary value (numbers within ``rtol``/``atol``, anything else exactly);
- each metric's whole history: the same steps, the same values;
- the per-example records: the same ids, and per id the same ``correct``, ``score``
  (within tolerance) and ``output``;

says how much it compared, and with nothing to compare says so (the CLI exits 1).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hunchlab.capture import restore_code
from hunchlab.errors import WrongState
from hunchlab.execute import run_spec
from hunchlab.project import Project, find_project
from hunchlab.run_records import get_run, histories

if TYPE_CHECKING:
    from hunchlab.shapes import ExampleRecord, MetricPoint, RunRecord

REPRODUCED, NOT_REPRODUCED, NOTHING = "reproduced", "not reproduced", "nothing to compare"


@dataclass(frozen=True)
class Check:
    """One thing compared between the original and the rerun."""

    kind: str  # "summary", "history" or "examples"
    name: str  # the metric, or "records"
    original: str  # what the original has, in short ("0.812", "100 points", "1,000 records")
    rerun: str
    match: bool
    detail: str | None = None  # where they first differ


@dataclass(frozen=True)
class Reproduction:
    """The checks of a rerun against its original, and the verdict they add up to."""

    original: str
    rerun: str
    status: str  # the rerun's status
    checks: list[Check] = field(default_factory=list)

    @property
    def compared(self) -> dict[str, int]:
        """How many of each kind were compared (summary values, histories, example records)."""
        out: dict[str, int] = {}
        for c in self.checks:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out

    @property
    def verdict(self) -> str:
        if self.status != "finished":
            return NOT_REPRODUCED
        if not self.checks:
            return NOTHING
        return REPRODUCED if all(c.match for c in self.checks) else NOT_REPRODUCED

    def conclusion(self, error: str | None = None) -> str:
        """The verdict in one sentence: what was compared and whether it matched, or why nothing could be
        (``error``: the rerun's own, when it did not finish)."""
        if self.status != "finished":
            return f"the rerun {self.status}: {error or ''}"
        if self.verdict == NOTHING:
            return (f"nothing to compare: {self.original} recorded no summary, metric or example, so a rerun "
                    "cannot show it reproduces (log what the run computes: run.summary, run.log, run.example)")
        if self.verdict == NOT_REPRODUCED:
            bad = sum(not c.match for c in self.checks)
            return f"{bad} of {len(self.checks)} checks differ (compared {self._compared_text()}): not reproduced"
        return f"compared {self._compared_text()}: all match, reproduced"

    def _compared_text(self) -> str:
        """``3 summary values, 1 metric histories, 1,000 example records``: the kinds compared, with counts."""
        counts = self.compared
        examples = next((c.original.replace("records", "example records") for c in self.checks
                         if c.kind == "examples"), None)
        return ", ".join([f"{n} {what}" for what, n in (("summary values", counts.get("summary", 0)),
                                                       ("metric histories", counts.get("history", 0))) if n]
                         + ([examples] if examples else []))

    def to_dict(self) -> dict[str, Any]:
        return {"original": self.original, "rerun": self.rerun, "status": self.status, "verdict": self.verdict,
                "compared": self.compared, "checks": [vars(c) for c in self.checks]}


def rerun(ref: str, *, project: Project | None = None, echo: bool = True, argv: list[str] | None = None,
          rtol: float = 1e-9, atol: float = 1e-12) -> tuple[RunRecord, RunRecord, Reproduction]:
    """Re-execute a run from its stored code state, resolved config and seed, and check the result.

    Returns the original record, the new one, and the reproduction check.
    """
    from hunchlab.spec import Spec  # lazy: loads pydantic, yaml only when called

    project = project or find_project()
    original = get_run(ref, examples=False, metrics=False, project=project)
    spec_meta = dict(original.get("spec") or {})
    if spec_meta.get("entry") == "python-api":
        raise WrongState(f"run {original['id']} was started from Python with hunchlab.start(), not from a spec",
                         fix="rerun it by running the script again")
    if original.get("imported"):
        raise WrongState(f"run {original['id']} was imported from {original['imported']['from']}: "
                         "hunchlab has its numbers, not its code", fix="rerun it where it was first run")
    # Stored by Spec.to_meta, so each is the str (or None) the Spec had.
    texts: dict[str, Any] = {k: spec_meta.get(k)
                             for k in ("name", "entry", "command", "question", "description", "path")}
    spec = Spec(params=original["params"], seed=original["seed"] or 0, **texts,
                predict=spec_meta.get("predict") or [], smoke=bool(spec_meta.get("smoke")),
                overrides=spec_meta.get("overrides") or [], metrics=spec_meta.get("metrics") or {},
                metrics_from=spec_meta.get("metrics_from"), capture=spec_meta.get("capture"),
                tensorboard_dir=spec_meta.get("tensorboard_dir"), log_dir=spec_meta.get("log_dir"),
                outputs=spec_meta.get("outputs") or [])
    code = original.get("code") or {}
    extra = {"rerun_of": original["id"], "code": code}
    scratch = Path(tempfile.mkdtemp(prefix=f"rerun-{original['id']}-", dir=project.hunch_dir))
    try:
        if code.get("git"):
            cwd = restore_code(code, project.run_dir(original["id"]) / "code", scratch / "tree")
        else:
            cwd = Path(code.get("cwd") or project.root)
        outcome = run_spec(project, spec, cwd=cwd, argv=argv or [], echo=echo, extra_meta=extra,
                           capture_code_state=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    src = project.run_dir(original["id"]) / "code"
    if src.exists():
        shutil.copytree(src, project.run_dir(outcome.run_id) / "code", dirs_exist_ok=True)
    a, b = (get_run(i, project=project) for i in (original["id"], outcome.run_id))
    return original, b, check_reproduction(a, b, rtol=rtol, atol=atol)


def check_reproduction(a: RunRecord, b: RunRecord, *, rtol: float, atol: float) -> Reproduction:
    """Every summary value, metric history and example record of ``a`` against ``b``."""
    def same(x: Any, y: Any) -> bool:
        return _same(x, y, rtol, atol)

    checks = [_summary_check(k, a["summary"], b["summary"], same)
              for k in list(a["summary"]) + [k for k in b["summary"] if k not in a["summary"]]]
    ha, hb = histories(a), histories(b)
    checks += [_history_check(k, ha.get(k, []), hb.get(k, []), same)
               for k in list(ha) + [k for k in hb if k not in ha]]
    if a.get("examples") or b.get("examples"):
        checks.append(_examples_check(a.get("examples") or [], b.get("examples") or [], same))
    return Reproduction(a["id"], b["id"], b["status"], checks)


def _same(x: Any, y: Any, rtol: float, atol: float) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y))
    if not numbers:
        return bool(x == y)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=rtol, abs_tol=atol)


def _short(value: Any) -> str:
    if value is None:
        return "(missing)"
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _summary_check(key: str, a: dict[str, Any], b: dict[str, Any], same: Any) -> Check:
    x, y = a.get(key), b.get(key)
    return Check("summary", key, _short(x), _short(y), key in a and key in b and same(x, y))


def _history_check(key: str, a: list[MetricPoint], b: list[MetricPoint], same: Any) -> Check:
    """A metric's whole history: the same steps, each with the same value."""
    detail = None
    if len(a) != len(b):
        detail = f"{len(a)} points against {len(b)}"
    for pa, pb in zip(a, b):
        if pa["step"] != pb["step"] or not same(pa["value"], pb["value"]):
            detail = (f"first difference at step {pa['step']}: {_short(pa['value'])} against "
                      f"{_short(pb['value'])}" + (f" (step {pb['step']})" if pa["step"] != pb["step"] else ""))
            break
    return Check("history", key, f"{len(a):,} points", f"{len(b):,} points", detail is None, detail)


EXAMPLE_KEYS: tuple[Literal["correct", "score", "output"], ...] = ("correct", "score", "output")


def _examples_check(a: list[ExampleRecord], b: list[ExampleRecord], same: Any) -> Check:
    """The records by id: the same ids, and per id the same correct, score and output."""
    left, right = {e["id"]: e for e in a}, {e["id"]: e for e in b}
    differ = [(i, k) for i in left if i in right for k in EXAMPLE_KEYS
              if not same(left[i][k], right[i][k])]
    missing = [i for i in left if i not in right] + [i for i in right if i not in left]
    detail = None
    if missing:
        detail = f"{len(missing):,} ids in only one of them (first: {sorted(missing)[0]})"
    elif differ:
        i, k = differ[0]
        ids = len({d[0] for d in differ})
        detail = f"{ids:,} records differ (first: {i} {k} {_short(left[i][k])} → {_short(right[i][k])})"
    return Check("examples", "records", f"{len(a):,} records", f"{len(b):,} records", detail is None, detail)
