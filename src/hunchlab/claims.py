"""Predictions as one-line claims: ``acc > 0.8 @ 70%``.

The point of hunchlab is the loop "predict, run, get corrected", repeated
hundreds of times, so writing a prediction must cost seconds. One small grammar
serves every place a prediction is written (a spec's ``predict:`` list, the
``--predict`` flag, ``run.predict(...)``), so a user learns it once and a claim
stored by one path reads the same in the others.

A claim is a statement about a metric plus the probability the user gives it:

* threshold   ``acc > 0.8 @ 70%``           (``>``, ``>=``, ``<``, ``<=``)
* interval    ``loss in [0.30, 0.40] @ 80%`` (both endpoints included)
* comparison  ``acc > baseline.acc @ 60%``  (this run's ``acc`` against the
  ``acc`` of ``baseline``, a run id, group id or spec name resolved later)

This module only parses, renders and decides claims; resolving ``baseline`` to
a number is the store's job. It imports nothing outside the standard library
because it is loaded whenever a run starts.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from hunchlab.errors import BadInput

__all__ = ["GRAMMAR_HELP", "Claim", "ClaimError", "parse_claim"]

GRAMMAR_HELP = """\
a claim is METRIC CONDITION @ PROBABILITY, one of:
  acc > 0.8 @ 70%              threshold: >, >=, <, <=
  loss in [0.30, 0.40] @ 80%   interval, both endpoints included
  acc > baseline.acc @ 60%     against REF.METRIC (REF = run id, group id or spec name)
PROBABILITY is a percent (70%) or a fraction (0.7), strictly between 0 and 1;
METRIC names use letters, digits and _ - / . (e.g. eval/acc)"""

Kind = Literal["threshold", "interval", "comparison"]
Op = Literal[">", ">=", "<", "<="]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

_WS = re.compile(r"\s*")
_METRIC = re.compile(r"[A-Za-z_][A-Za-z0-9_\-/.]*")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_\-/.]")
_REF = re.compile(r"([A-Za-z0-9_\-]+)\.([A-Za-z_][A-Za-z0-9_\-/.]*)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OP = re.compile(r">=|<=|>|<")
_IN = re.compile(r"in(?=\s|\[)")
_PERCENT = re.compile("%")
_REF_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_NUMERIC_FIELDS = ("probability", "value", "lower", "upper")
_TEXT_FIELDS = ("metric", "kind", "op", "ref", "ref_metric")

_CERTAINTY = "certainty cannot be scored (a wrong certain claim has an infinite log loss)"


class ClaimError(BadInput):
    """A claim that does not parse; ``column`` is 1-based, as editors count."""

    def __init__(self, text: str, column: int, problem: str, *, source: str = "claim") -> None:
        self.text = text
        self.column = column
        shown = re.sub(r"\s", " ", text)  # tabs/newlines as one space keep the caret aligned
        caret = " " * (column - 1) + "^"
        what = f"{problem}\n    {shown}\n    {caret}"
        fix = GRAMMAR_HELP.replace("\n", "\n  ")
        super().__init__(what, where=f"{source}, column {column}", fix=fix)


@dataclass(frozen=True)
class Claim:
    """A parsed prediction; fields not used by ``kind`` are ``None``.

    Kept as one flat record (rather than a class per form) so it stores as a
    single JSON object and the store can query ``metric`` and ``probability``
    without knowing the form.
    """

    metric: str
    kind: Kind
    probability: float
    op: Op | None = None
    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    ref: str | None = None
    ref_metric: str | None = None

    def __post_init__(self) -> None:
        """Reject impossible claims even when built from stored JSON, not from text.

        Numbers are normalised to ``float`` so a JSON ``1`` and ``1.0`` give equal claims.
        """
        problem = _normalise_types(self) or _claim_problem(self)
        if problem:
            raise BadInput(problem, where=f"claim on '{self.metric}'", fix=GRAMMAR_HELP)

    def render(self) -> str:
        """Canonical text; ``parse_claim(c.render()) == c`` for every valid claim."""
        if self.kind == "threshold":
            condition = f"{self.op} {_number_text(self.value)}"  # type: ignore[arg-type]
        elif self.kind == "interval":
            condition = f"in [{_number_text(self.lower)}, {_number_text(self.upper)}]"  # type: ignore[arg-type]
        else:
            condition = f"{self.op} {self.ref}.{self.ref_metric}"
        return f"{self.metric} {condition} @ {_probability_text(self.probability)}"

    def metrics(self) -> tuple[str, ...]:
        """Metric names this run must report for the claim to resolve.

        A comparison also needs ``ref_metric`` from ``ref``; that is another
        run's metric, so it is not listed here (see ``ref`` / ``ref_metric``).
        """
        return (self.metric,)

    def holds(self, actual: float, ref_value: float | None = None) -> bool:
        """Whether the claim came true, given this run's value of ``metric``.

        ``ref_value`` is the resolved ``ref.ref_metric`` and is required for a
        comparison, refused otherwise (passing it elsewhere hides a bug).
        Interval endpoints are inclusive. A NaN on either side makes every claim
        false: a diverged run did not deliver what was predicted.
        """
        actual = float(actual)
        if self.kind == "comparison":
            if ref_value is None:
                raise BadInput(
                    f"'{self.render()}' needs the value of {self.ref}.{self.ref_metric}",
                    where="claim",
                    fix="resolve the reference and pass it as ref_value",
                )
            return bool(_OPS[self.op](actual, float(ref_value)))  # type: ignore[index]
        if ref_value is not None:
            raise BadInput(
                f"'{self.render()}' has no reference, but ref_value={ref_value!r} was given",
                where="claim",
                fix="pass ref_value only for REF.METRIC comparisons",
            )
        if self.kind == "interval":
            return bool(self.lower <= actual <= self.upper)  # type: ignore[operator]
        return bool(_OPS[self.op](actual, self.value))  # type: ignore[index,arg-type]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; unused ones are omitted to keep stored rows small."""
        fields = {
            "metric": self.metric,
            "kind": self.kind,
            "probability": self.probability,
            "op": self.op,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "ref": self.ref,
            "ref_metric": self.ref_metric,
        }
        return {key: val for key, val in fields.items() if val is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        """Inverse of ``to_dict``; validation runs again, so a corrupt row fails loudly."""
        known = ("metric", "kind", "probability", "op", "value", "lower", "upper", "ref", "ref_metric")
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise BadInput(f"unknown claim fields {unknown}", where="stored claim")
        return cls(**{key: data[key] for key in known if key in data})


def parse_claim(text: str, *, source: str = "claim") -> Claim:
    """Parse one claim; ``source`` (e.g. ``"spec.yaml predict[2]"``) prefixes error locations."""
    return _Parser(text, source).claim()


class _Parser:
    """A hand-written scanner, so every error can point at the exact column."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0

    def fail(self, problem: str, pos: int | None = None) -> ClaimError:
        column = (self.pos if pos is None else pos) + 1
        return ClaimError(self.text, column, problem, source=self.source)

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """Match ``pattern`` after optional whitespace and advance past it."""
        self.skip_ws()
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match

    def expect(self, literal: str, after: str) -> None:
        self.skip_ws()
        if not self.text.startswith(literal, self.pos):
            raise self.fail(f"expected '{literal}' {after}")
        self.pos += len(literal)

    def number(self, what: str) -> float:
        self.skip_ws()
        start = self.pos
        match = self.take(_NUMBER)
        if not match:
            raise self.fail(f"expected {what} (a number)")
        if _NAME_CHAR.match(self.text, self.pos):
            raise self.fail(f"expected {what} (a number)", start)
        return self.finite(match.group(), start)

    def finite(self, literal: str, start: int) -> float:
        """``float(literal)``, refusing overflow to infinity (``1e999``), which no metric reaches."""
        value = float(literal)
        if not math.isfinite(value):
            raise self.fail(f"{literal} is too large for a number", start)
        return value

    def claim(self) -> Claim:
        metric = self.metric()
        self.skip_ws()
        if self.take(_IN):
            lower, upper = self.interval()
            fields: dict[str, Any] = {"kind": "interval", "lower": lower, "upper": upper}
        else:
            op = self.take(_OP)
            if not op:
                raise self.fail(f"expected >, >=, <, <= or 'in [LO, HI]' after '{metric}'")
            fields = {"op": op.group(), **self.right_side()}
        probability = self.probability()
        self.skip_ws()
        if self.pos < len(self.text):
            raise self.fail("unexpected text after the probability")
        return Claim(metric=metric, probability=probability, **fields)

    def metric(self) -> str:
        if not self.text.strip():
            raise self.fail("empty claim: expected METRIC CONDITION @ PROBABILITY", 0)
        match = self.take(_METRIC)
        if not match:
            raise self.fail("expected a metric name (letters, digits, _ - / ., starting with a letter or _)")
        return match.group()

    def interval(self) -> tuple[float, float]:
        self.expect("[", "after 'in'")
        self.skip_ws()
        lower_pos = self.pos
        lower = self.number("the lower bound")
        self.expect(",", "between the bounds")
        upper = self.number("the upper bound")
        self.expect("]", "after the upper bound")
        if lower > upper:
            raise self.fail(f"interval [{lower:g}, {upper:g}] is empty: lower bound > upper bound", lower_pos)
        return lower, upper

    def right_side(self) -> dict[str, Any]:
        """A number (threshold) or ``REF.METRIC`` (comparison)."""
        self.skip_ws()
        start = self.pos
        number = _NUMBER.match(self.text, start)
        if number and not _NAME_CHAR.match(self.text, number.end()):
            self.pos = number.end()
            return {"kind": "threshold", "value": self.finite(number.group(), start)}
        ref = _REF.match(self.text, start)
        if ref:
            self.pos = ref.end()
            return {"kind": "comparison", "ref": ref.group(1), "ref_metric": ref.group(2)}
        word = re.match(r"[^\s@]*", self.text[start:]).group()  # type: ignore[union-attr]
        if word and _REF_NAME.fullmatch(word):
            raise self.fail(f"'{word}' is not a number; to compare with another run write REF.METRIC, e.g. {word}.acc")
        raise self.fail("expected a number or REF.METRIC (e.g. baseline.acc)")

    def probability(self) -> float:
        self.expect("@", "before the probability, as in '@ 70%'")
        self.skip_ws()
        start = self.pos
        value = self.number("a probability")
        percent = self.take(_PERCENT) is not None
        if percent:
            if 0 < value < 100:
                return value / 100
            raise self.fail(_range_problem(value, percent=True), start)
        if 0 < value < 1:
            return value
        if 1 < value < 100:
            raise self.fail(f"probability {value:g} is above 1: write {value:g}% or {value / 100:g}", start)
        raise self.fail(_range_problem(value, percent=False), start)


def _range_problem(value: float, *, percent: bool) -> str:
    """Why a probability outside (0, 1) is refused; the bounds themselves get the reason."""
    shown = f"{value:g}%" if percent else f"{value:g}"
    certain = (0, 100) if percent else (0, 1)
    if value in certain:
        instead = "1%" if value == 0 else "99%"
        return f"probability {shown} is not allowed: {_CERTAINTY}; use {instead}"
    allowed = "(0%, 100%)" if percent else "(0, 1)"
    return f"probability {shown} is outside {allowed}: write e.g. 70% or 0.7"


def _normalise_types(claim: Claim) -> str | None:
    """Coerce numeric fields to float in place, or say which field has the wrong type."""
    for name in _TEXT_FIELDS:
        value = getattr(claim, name)
        if value is not None and not isinstance(value, str):
            return f"claim field {name!r} must be text, got {value!r}"
    for name in _NUMERIC_FIELDS:
        value = getattr(claim, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"claim field {name!r} must be a number, got {value!r}"
        object.__setattr__(claim, name, float(value))
    return None


def _claim_problem(claim: Claim) -> str | None:
    """Why a claim built from fields is invalid, or ``None``; parsing catches these earlier."""
    expected = {
        "threshold": {"op", "value"},
        "interval": {"lower", "upper"},
        "comparison": {"op", "ref", "ref_metric"},
    }
    if claim.kind not in expected:
        return f"unknown claim kind {claim.kind!r}"
    optional = ("op", "value", "lower", "upper", "ref", "ref_metric")
    present = {name for name in optional if getattr(claim, name) is not None}
    if present != expected[claim.kind]:
        return f"a {claim.kind} claim needs exactly {sorted(expected[claim.kind])}, got {sorted(present)}"
    if not _METRIC.fullmatch(claim.metric) or (claim.ref_metric and not _METRIC.fullmatch(claim.ref_metric)):
        return "metric names use letters, digits and _ - / ., starting with a letter or _"
    if claim.ref is not None and not _REF_NAME.fullmatch(claim.ref):
        return f"reference {claim.ref!r} may use only letters, digits, _ and -"
    if claim.op is not None and claim.op not in _OPS:
        return f"unknown comparison {claim.op!r}; use >, >=, < or <="
    if not 0 < claim.probability < 1:
        return f"probability {claim.probability!r} must be strictly between 0 and 1: {_CERTAINTY}; use 0.01 to 0.99"
    bounds = [b for b in (claim.value, claim.lower, claim.upper) if b is not None]
    if not all(math.isfinite(b) for b in bounds):
        return "thresholds and bounds must be finite numbers"
    if claim.kind == "interval" and claim.lower > claim.upper:  # type: ignore[operator]
        return f"interval [{claim.lower}, {claim.upper}] is empty: lower bound > upper bound"
    return None


def _number_text(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (``1`` rather than ``1.0``)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _probability_text(probability: float) -> str:
    """A percent when it round-trips exactly (``70%``), else the exact fraction."""
    percent = f"{probability * 100:.12g}"
    if float(percent) / 100 == probability:
        return f"{percent}%"
    return repr(probability)
