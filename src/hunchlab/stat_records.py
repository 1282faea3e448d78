"""What a statistic returns: frozen records with their sample sizes, and ``None`` with a reason.

Every number ``hunch compare`` prints comes from one of these, and ``--json`` writes them as they
are, so they are the contract between the statistics and everything that shows them. A quantity
that cannot be computed (an interval from one seed, a test between two sides that never vary) is
``None`` with a ``reason`` rather than NaN or a made-up 0 or 1, because NaN is not valid JSON and
an invented p enters the Holm family as if it were a test. Plain dataclasses, no numpy: a module
that only reads results (``verdicts``, the pages) pays nothing for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

Bounds = tuple[float, float]

NO_INTERVAL_N1 = "n=1: no interval possible — run more seeds"
ZERO_VARIANCE = "zero variance on both sides: every seed gave the same value, so there is no noise estimate to test against"


@dataclass(frozen=True)
class Result:
    def to_dict(self) -> dict[str, Any]:
        """Nested plain dicts, so the CLI can ``json.dumps`` any result."""
        return asdict(self)


@dataclass(frozen=True)
class MeanCI(Result):
    """A mean with its spread and interval; ``lo``/``hi`` are None when n < 2.

    ``bounds`` is the range the metric lives in (accuracy: 0 to 1); an interval that
    would leave it is cut to it, and ``method`` says so.
    """

    n: int
    mean: float
    std: float | None
    lo: float | None
    hi: float | None
    confidence: float
    method: str
    n_resamples: int | None = None
    reason: str | None = None
    bounds: Bounds | None = None


@dataclass(frozen=True)
class BootstrapCI(Result):
    """A percentile-bootstrap interval, with the seed and resample count that reproduce it."""

    n: int
    estimate: float
    lo: float | None
    hi: float | None
    confidence: float
    n_resamples: int
    seed: int
    reason: str | None = None


@dataclass(frozen=True)
class WelchResult(Result):
    """Welch's t-test of ``mean(b) - mean(a)``; no interval, t, df or p when both variances are 0."""

    n_a: int
    n_b: int
    diff: float
    lo: float | None
    hi: float | None
    t: float | None
    df: float | None
    p: float | None
    confidence: float
    se: float = 0.0  # standard error of the difference
    note: str | None = None


@dataclass(frozen=True)
class McNemarResult(Result):
    """McNemar's test on paired correctness; ``method`` names the test actually used."""

    n: int
    b01: int
    b10: int
    statistic: float
    p: float
    method: str
