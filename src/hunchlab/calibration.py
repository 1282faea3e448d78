"""Scoring predictions once they resolve: are your hunches any good?

Each resolved prediction is a stated probability ``p`` that a claim holds and
the ``outcome`` (did it hold). Two proper scoring rules say how good the
probabilities were, and the report adds what a user needs to act on that:

* reference scores, so a number means something: always saying 50%, and
  always saying the observed base rate (a hindsight baseline that knows the
  overall frequency but nothing about individual claims);
* a reliability table: of the claims you gave ~70%, how many held;
* one line saying over- or under-confident, only when the data can tell;
* a rolling Brier score, to see whether you are getting better.

Pure standard library: this module is importable on the light path and the
sizes involved (hundreds of predictions) need nothing faster.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

from hunchlab.errors import BadInput

__all__ = [
    "CHANCE_BRIER",
    "CHANCE_LOG_SCORE",
    "INTERVAL_METHOD",
    "MIN_FOR_VERDICT",
    "CalibrationReport",
    "ReliabilityBin",
    "TrendPoint",
    "brier",
    "calibration_report",
    "log_score",
    "wilson_interval",
]

CHANCE_BRIER = 0.25
"""Brier score of always saying 50%: (0.5 - outcome)^2 = 0.25 whatever happens."""
CHANCE_LOG_SCORE = math.log(0.5)
"""Log score of always saying 50%: ln 0.5 ~ -0.693 whatever happens."""
INTERVAL_LEVEL = 0.90
INTERVAL_METHOD = "Wilson score interval, 90%"
MIN_FOR_VERDICT = 5
"""Below this many resolved predictions the over/under-confidence line declines to judge."""


def brier(p: float, outcome: bool) -> float:
    """Squared error ``(p - outcome)^2``: 0 is perfect, 0.25 is a coin flip, 1 is certain and wrong.

    Bounded, so one confident miss cannot dominate a mean of hundreds.
    """
    return (_probability(p) - float(_outcome(outcome))) ** 2


def log_score(p: float, outcome: bool, eps: float = 1e-4) -> float:
    """``ln(p)`` if the claim held, else ``ln(1 - p)``; higher (closer to 0) is better.

    ``p`` is first clipped to ``[eps, 1 - eps]``, so a certain and wrong
    prediction (p = 0 or 1) scores ``ln(eps)`` (about -9.21 for the default
    1e-4) instead of minus infinity: the mean stays finite and comparable.
    Claims themselves cannot be certain; the clip guards imported or hand-built data.
    """
    if not 0 < eps < 0.5:
        raise BadInput(f"eps={eps!r} must be in (0, 0.5)", where="log_score")
    clipped = min(max(_probability(p), eps), 1 - eps)
    return math.log(clipped) if _outcome(outcome) else math.log(1 - clipped)


def wilson_interval(successes: float, n: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Two-sided Wilson score interval for a frequency ``successes / n``.

    Chosen over the plain normal interval because it stays inside [0, 1] and
    is sensible at 0/n and n/n, which small reliability bins hit often.
    ``successes`` may be fractional (a 50% prediction counts half a hit).
    """
    if n <= 0:
        raise BadInput(f"an interval needs at least one observation, got n={n}", where="wilson_interval")
    if not 0 <= successes <= n:
        raise BadInput(f"successes={successes!r} must lie in [0, n={n}]", where="wilson_interval")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    phat = successes / n
    denominator = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, not 1e-17 round-off
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class ReliabilityBin:
    """Predictions whose stated p fell in ``[lower, upper)`` (the last bin includes 1)."""

    lower: float
    upper: float
    count: int
    mean_p: float
    observed: float
    observed_low: float
    observed_high: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_p": self.mean_p,
            "observed": self.observed,
            "observed_low": self.observed_low,
            "observed_high": self.observed_high,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReliabilityBin:
        """Inverse of ``to_dict``."""
        return cls(**data)


@dataclass(frozen=True)
class TrendPoint:
    """Mean Brier of the ``window_n`` predictions resolved up to and including ``resolved_at``."""

    resolved_at: str
    index: int
    window_n: int
    brier: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"resolved_at": self.resolved_at, "index": self.index, "window_n": self.window_n, "brier": self.brier}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrendPoint:
        """Inverse of ``to_dict``."""
        return cls(**data)


@dataclass(frozen=True)
class CalibrationReport:
    """Everything ``hunch calibration`` shows; scores are ``None`` when nothing has resolved.

    ``verdict`` is the one-line over/under-confidence judgement. ``stated``
    is the mean confidence in the predicted direction (``max(p, 1 - p)``) and
    ``hit_rate`` how often that direction was right.
    """

    n: int
    brier: float | None
    log_score: float | None
    base_rate: float | None
    base_rate_brier: float | None
    base_rate_log_score: float | None
    stated: float | None
    hit_rate: float | None
    verdict: str
    reliability: tuple[ReliabilityBin, ...]
    trend: tuple[TrendPoint, ...]
    bins: int
    window: int
    eps: float
    chance_brier: float = CHANCE_BRIER
    chance_log_score: float = CHANCE_LOG_SCORE
    interval_method: str = INTERVAL_METHOD

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, nested records as dicts."""
        return {
            "n": self.n,
            "brier": self.brier,
            "log_score": self.log_score,
            "base_rate": self.base_rate,
            "base_rate_brier": self.base_rate_brier,
            "base_rate_log_score": self.base_rate_log_score,
            "stated": self.stated,
            "hit_rate": self.hit_rate,
            "verdict": self.verdict,
            "reliability": [row.to_dict() for row in self.reliability],
            "trend": [point.to_dict() for point in self.trend],
            "bins": self.bins,
            "window": self.window,
            "eps": self.eps,
            "chance_brier": self.chance_brier,
            "chance_log_score": self.chance_log_score,
            "interval_method": self.interval_method,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationReport:
        """Inverse of ``to_dict``."""
        fields = dict(data)
        fields["reliability"] = tuple(ReliabilityBin.from_dict(row) for row in data["reliability"])
        fields["trend"] = tuple(TrendPoint.from_dict(point) for point in data["trend"])
        return cls(**fields)

    def render(self) -> str:
        """Plain-text summary for the CLI, which only prints it."""
        if self.n == 0:
            return self.verdict
        lines = [
            f"{self.n} resolved predictions",
            f"  Brier {self.brier:.3f}   (always 50%: {self.chance_brier:.3f}, "
            f"base rate {self.base_rate:.0%}: {self.base_rate_brier:.3f}; lower is better)",
            f"  log   {self.log_score:.3f}  (always 50%: {self.chance_log_score:.3f}, "
            f"base rate: {self.base_rate_log_score:.3f}; higher is better)",
            f"  {self.verdict}",
            f"  stated p     n  observed  ({self.interval_method})",
        ]
        for row in self.reliability:
            lines.append(
                f"  {row.lower:.0%}-{row.upper:.0%}".ljust(14)
                + f"{row.count:>4}  {row.observed:>7.0%}  [{row.observed_low:.0%}, {row.observed_high:.0%}]"
                + f"  (mean stated {row.mean_p:.0%})"
            )
        last = self.trend[-1]
        lines.append(f"  rolling Brier (last {last.window_n}): {last.brier:.3f}")
        return "\n".join(lines)


def calibration_report(
    items: Iterable[tuple[float, bool, datetime | str]],
    bins: int = 10,
    window: int = 10,
    eps: float = 1e-4,
) -> CalibrationReport:
    """Score resolved predictions given as ``(p, outcome, resolved_at)``.

    ``resolved_at`` is a datetime or ISO-8601 text; naive times are taken as
    UTC so that mixed inputs still sort. ``bins`` equal-width bins cover
    [0, 1]; only non-empty bins appear in the table. The trend is the mean
    Brier over the last ``window`` predictions at each resolution, oldest
    first; the first points average fewer than ``window`` (see ``window_n``).
    """
    if bins < 1 or window < 1:
        raise BadInput(f"bins={bins} and window={window} must both be at least 1", where="calibration_report")
    rows = _resolved_rows(items)
    if not rows:
        return _empty_report(bins, window, eps)
    probs = [p for p, _, _ in rows]
    outcomes = [o for _, o, _ in rows]
    n = len(rows)
    base_rate = sum(outcomes) / n
    stated, hit_rate = _direction_stats(probs, outcomes)
    return CalibrationReport(
        n=n,
        brier=_mean(brier(p, o) for p, o in zip(probs, outcomes, strict=True)),
        log_score=_mean(log_score(p, o, eps) for p, o in zip(probs, outcomes, strict=True)),
        base_rate=base_rate,
        base_rate_brier=_mean(brier(base_rate, o) for o in outcomes),
        base_rate_log_score=_mean(log_score(base_rate, o, eps) for o in outcomes),
        stated=stated,
        hit_rate=hit_rate,
        verdict=_verdict(stated, hit_rate, n),
        reliability=_reliability(probs, outcomes, bins),
        trend=_trend(rows, window),
        bins=bins,
        window=window,
        eps=eps,
    )


def _empty_report(bins: int, window: int, eps: float) -> CalibrationReport:
    """The report before any prediction has resolved: no scores, and a line saying so."""
    return CalibrationReport(
        n=0,
        brier=None,
        log_score=None,
        base_rate=None,
        base_rate_brier=None,
        base_rate_log_score=None,
        stated=None,
        hit_rate=None,
        verdict="nothing resolved yet: predictions are scored once their runs finish",
        reliability=(),
        trend=(),
        bins=bins,
        window=window,
        eps=eps,
    )


def _resolved_rows(items: Iterable[tuple[float, bool, datetime | str]]) -> list[tuple[float, bool, datetime]]:
    """Validated rows sorted by resolution time; ties keep their input order (stable sort)."""
    rows = []
    for position, item in enumerate(items):
        try:
            p, outcome, resolved_at = item
        except (TypeError, ValueError):
            raise BadInput(
                f"item {position} is {item!r}, expected (p, outcome, resolved_at)", where="calibration_report"
            ) from None
        rows.append((_probability(p), _outcome(outcome), _utc(resolved_at)))
    rows.sort(key=lambda row: row[2])
    return rows


def _probability(p: float) -> float:
    """``p`` as a float in [0, 1], or a HunchError naming the bad value."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise BadInput(f"probability {p!r} must be a number in [0, 1]", where="calibration")
    return float(p)


def _outcome(outcome: bool) -> bool:
    """Accept ``True``/``False`` and the ``1``/``0`` a database column gives back."""
    if outcome not in (0, 1):
        raise BadInput(f"outcome {outcome!r} must be true or false", where="calibration")
    return bool(outcome)


def _utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime, so timestamps from different sources compare."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise BadInput(
                f"resolved_at {moment!r} is not an ISO-8601 time", where="calibration", fix="e.g. 2024-05-01T12:00:00Z"
            ) from None
    if not isinstance(moment, datetime):
        raise BadInput(f"resolved_at {moment!r} must be a datetime or ISO-8601 text", where="calibration")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _mean(values: Iterable[float]) -> float:
    """Accurate mean (``fsum``), so hand-computed expectations match to the last digits."""
    values = list(values)
    return math.fsum(values) / len(values)


def _direction_stats(probs: list[float], outcomes: list[bool]) -> tuple[float, float]:
    """Mean confidence in the predicted direction, and how often that direction was right.

    ``p = 0.3`` predicts "does not hold" with confidence 0.7. A prediction of
    exactly 0.5 picks no direction, so it counts as half a hit: its expected
    hit rate is 0.5, matching its stated confidence.
    """
    stated = _mean(max(p, 1 - p) for p in probs)
    hits = [0.5 if p == 0.5 else float((p > 0.5) == o) for p, o in zip(probs, outcomes, strict=True)]
    return stated, _mean(hits)


def _verdict(stated: float, hit_rate: float, n: int) -> str:
    """Over/under-confident only when stated confidence falls outside the hit rate's 90% interval."""
    if n < MIN_FOR_VERDICT:
        return f"too few resolved predictions to say (n={n} < {MIN_FOR_VERDICT})"
    low, high = wilson_interval(min(max(hit_rate * n, 0.0), float(n)), n)  # clamp float round-off
    if stated > high:
        label = "over-confident"
    elif stated < low:
        label = "under-confident"
    else:
        label = "no clear over- or under-confidence"
    return f"{label}: stated {stated:.0%} on average, right {hit_rate:.0%} of the time (n={n})"


def _reliability(probs: list[float], outcomes: list[bool], bins: int) -> tuple[ReliabilityBin, ...]:
    """Equal-width bins of stated p with the observed frequency and its Wilson interval."""
    edges = [i / bins for i in range(bins + 1)]
    members: dict[int, list[int]] = {}
    for index, p in enumerate(probs):
        slot = min(bisect_right(edges, p) - 1, bins - 1)  # p == 1 joins the last bin
        members.setdefault(slot, []).append(index)
    rows = []
    for slot in sorted(members):
        chosen = members[slot]
        hits = sum(outcomes[i] for i in chosen)
        low, high = wilson_interval(hits, len(chosen))
        rows.append(
            ReliabilityBin(
                lower=edges[slot],
                upper=edges[slot + 1],
                count=len(chosen),
                mean_p=_mean(probs[i] for i in chosen),
                observed=hits / len(chosen),
                observed_low=low,
                observed_high=high,
            )
        )
    return tuple(rows)


def _trend(rows: list[tuple[float, bool, datetime]], window: int) -> tuple[TrendPoint, ...]:
    """Rolling mean Brier over the last ``window`` resolved predictions, one point per resolution."""
    scores = [brier(p, o) for p, o, _ in rows]
    points = []
    for end in range(1, len(rows) + 1):
        recent = scores[max(0, end - window) : end]
        points.append(
            TrendPoint(resolved_at=rows[end - 1][2].isoformat(), index=end, window_n=len(recent), brier=_mean(recent))
        )
    return tuple(points)
