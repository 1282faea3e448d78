"""Verdicts: one line per comparison that never claims more than the numbers support.

``compare_groups`` compares per-seed values of two groups (Welch's t-test, a seed
is the unit); ``paired_verdict`` words a paired test on examples (``hunchlab.paired``,
an example is the unit). Both follow the same rules:

- a verdict and its interval agree: the interval shown is at level 1 - alpha, or,
  when the verdict uses a Holm-adjusted p, at 1 - alpha / (p_adjusted / p), the level
  at which this test was in effect judged; it then excludes 0 exactly when the verdict
  says significant, and says "Holm" beside it;
- "within noise" always comes with what the comparison could have detected (80%
  power), and, with ``detect``, how many seeds (or examples) would detect that size;
- no test, no p: n=1 on a side or zero variance on both sides give no p, no
  ``significant`` and no ``better``, with the reason in words (``reason``);
- an interval of a metric with a known range is cut to it, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from hunchlab.errors import BadInput
from hunchlab.intervals import mean_ci, range_text
from hunchlab.power import POWER, examples_needed, paired_detectable, seeds_needed, welch_detectable
from hunchlab.significance import welch_t
from hunchlab.stat_inputs import ArrayLike
from hunchlab.stat_records import Bounds, MeanCI

NO_TEST_N1 = "n=1 on a side: no interval or test possible — run more seeds"


@dataclass(frozen=True)
class Power:
    """What the comparison could detect with 80% power, and what detecting ``detect`` would take."""

    alpha: float  # the level the test was judged at (Holm: the effective level)
    power: float
    detectable: float | None  # the smallest difference detectable; None without spread
    detect: float | None = None  # the difference asked about (--detect)
    needed: int | None = None  # seeds per side (or examples) needed to detect it
    unit: str = "seeds per side"


@dataclass(frozen=True)
class Comparison:
    """Two groups of per-seed values compared: summaries, difference ``b - a``, test, verdict."""

    metric: str
    a: MeanCI
    b: MeanCI
    diff: float
    lo: float | None
    hi: float | None
    confidence: float  # the level of lo/hi: 1 - alpha, or 1 - the effective alpha under Holm
    p: float | None
    p_adjusted: float | None
    test: str | None
    alpha: float
    higher_is_better: bool | None
    significant: bool | None
    better: str | None
    labels: tuple[str, str]
    verdict: str
    reason: str | None = None  # why there is no test
    bounds: Bounds | None = None  # the metric's range; the interval of the difference is cut to its width
    unit: str = "seed"  # what the test counts as one sample
    power: Power | None = None

    @property
    def p_used(self) -> float | None:
        """The p-value significance was decided on: the adjusted one when given."""
        return self.p if self.p_adjusted is None else self.p_adjusted

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dicts, so the CLI can ``json.dumps`` any result."""
        return asdict(self)


def effective_alpha(alpha: float, p: float | None, p_adjusted: float | None, family: int = 1) -> float:
    """The level a test was in effect judged at: Holm-adjusted p < alpha exactly when p < this.

    A p of exactly 0 (a z beyond 38) says nothing of its multiplier, so it takes
    Bonferroni's alpha / ``family``, the strictest level Holm can apply.
    """
    if p is None or p_adjusted is None or p_adjusted <= p:
        return alpha
    return alpha * p / p_adjusted if p > 0.0 else alpha / max(family, 1)


def _check_p(p: float, name: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise BadInput(f"{name} must be between 0 and 1, got {p}", where="stats")


def compare_groups(
    a: ArrayLike,
    b: ArrayLike,
    metric_name: str,
    higher_is_better: bool | None = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    p_adjusted: float | None = None,
    labels: tuple[str, str] = ("A", "B"),
    bounds: Bounds | None = None,
    detect: float | None = None,
) -> Comparison:
    """Compare per-seed values of two groups with Welch's t-test and word the result honestly.

    ``confidence`` is the level of each side's interval; the difference's interval
    is at 1 - alpha (or the Holm level) so that it agrees with the verdict. Pass
    ``p_adjusted`` (e.g. from ``stats.holm`` over every test of a comparison) to decide
    on it; ``bounds`` the metric's range; ``detect`` a difference to plan seeds for.
    """
    _check_p(alpha, "alpha")
    if p_adjusted is not None:
        _check_p(p_adjusted, "p_adjusted")
    sa, sb = mean_ci(a, confidence, bounds=bounds), mean_ci(b, confidence, bounds=bounds)
    common: dict[str, Any] = {"metric": metric_name, "a": sa, "b": sb, "diff": sb.mean - sa.mean, "alpha": alpha,
                              "higher_is_better": higher_is_better, "labels": labels, "bounds": bounds,
                              "lo": None, "hi": None, "confidence": 1.0 - alpha, "p": None, "p_adjusted": None,
                              "test": None, "significant": None, "better": None, "verdict": ""}
    if sa.n < 2 or sb.n < 2:
        draft = Comparison(**common, reason=NO_TEST_N1)
        return replace(draft, verdict=_verdict(draft))
    w = welch_t(a, b)
    if w.p is None:
        draft = Comparison(**{**common, "diff": w.diff}, reason=w.note)
        return replace(draft, verdict=_verdict(draft))
    level = effective_alpha(alpha, w.p, p_adjusted)
    judged = welch_t(a, b, confidence=1.0 - level)
    lo, hi = _cut(judged.lo, judged.hi, bounds)
    p_used = w.p if p_adjusted is None else p_adjusted
    sd_a, sd_b = sa.std or 0.0, sb.std or 0.0
    power = Power(level, POWER, welch_detectable(sd_a**2, sa.n, sd_b**2, sb.n, level), detect,
                  seeds_needed(sd_a**2, sd_b**2, detect, level) if detect else None)
    draft = Comparison(**{**common, "diff": w.diff, "lo": lo, "hi": hi, "confidence": 1.0 - level, "p": w.p,
                          "p_adjusted": p_adjusted, "test": "Welch t", "significant": p_used < alpha}, power=power)
    return replace(draft, better=_better(draft), verdict=_verdict(draft))


def _cut(lo: float | None, hi: float | None, bounds: Bounds | None) -> tuple[float | None, float | None]:
    """A difference of two values in [lo, hi] lies within +- (hi - lo)."""
    if bounds is None or lo is None or hi is None:
        return lo, hi
    width = bounds[1] - bounds[0]
    return max(lo, -width), min(hi, width)


def _better(c: Comparison) -> str | None:
    if not c.significant or c.higher_is_better is None or c.diff == 0.0:
        return None
    return c.labels[1] if (c.diff > 0) == c.higher_is_better else c.labels[0]


def _verdict(c: Comparison) -> str:
    """One line that never claims more than the numbers support."""
    seeds = f"{c.a.n} vs {c.b.n} seeds"
    if c.reason == NO_TEST_N1:
        return f"n=1 on a side ({seeds}): no interval possible — run more seeds"
    if c.lo is None or c.hi is None or c.p_used is None:
        return _constant_verdict(c, seeds)
    p_text = f"p{fmt_p(c.p_used, c.alpha)}"
    adjusted = c.p_adjusted is not None
    interval = interval_text(c.diff, c.lo, c.hi, c.confidence, holm=adjusted, signed=not c.significant)
    if not c.significant:
        return (f"difference within noise ({p_text}{', Holm-adjusted' if adjusted else ''}): {interval}, {seeds}; "
                f"{power_text(c.power, c.bounds)}")
    plan = f"; {needed_text(c.power)}" if c.power and c.power.detect else ""
    return f"{_direction(c)} by {interval}, {seeds}, Welch t {p_text}{' (Holm-adjusted)' if adjusted else ''}{plan}"


def _constant_verdict(c: Comparison, seeds: str) -> str:
    """Identical seeds usually mean the seed is not reaching the code, so say that, not "significant"."""
    caution = "zero variance on both sides, so no test — check that the seed changes anything"
    if c.diff == 0.0:
        return f"no difference: every seed gave {fmt(c.a.mean, None)} on both sides, {seeds}, {caution}"
    return f"{_direction(c)} by {fmt(abs(c.diff), None)} on every seed, {seeds}, {caution}"


def _direction(c: Comparison) -> str:
    """``"B higher"``, with ``" (better)"``/``" (worse)"`` when the metric's direction is known."""
    up = c.diff > 0
    quality = "" if c.higher_is_better is None else (" (better)" if up == c.higher_is_better else " (worse)")
    return f"{c.labels[1]} {'higher' if up else 'lower'}{quality}"


def interval_text(mean: float, lo: float, hi: float, confidence: float, *, holm: bool = False,
                  signed: bool = True) -> str:
    """``0.031 [0.012, 0.050]``, the level added when it is not 95% (``(98.3% CI, Holm)``).

    ``signed=False`` gives the magnitude in the direction the verdict names, so
    "lower by 0.03 [0.01, 0.05]" reads naturally.
    """
    decimals = decimals_for(hi - lo)
    if not signed:
        sign = 1.0 if mean > 0 else -1.0
        mean, (lo, hi) = abs(mean), sorted((sign * lo, sign * hi))
    text = f"{fmt(mean, decimals)} [{fmt(lo, decimals)}, {fmt(hi, decimals)}]"
    if holm or abs(confidence - 0.95) > 1e-9:
        text += f" ({100 * confidence:.3g}% CI{', Holm' if holm else ''})"
    return text


def power_text(power: Power | None, bounds: Bounds | None = None) -> str:
    """``could detect 0.045 or more (80% power)``, and the plan for ``--detect``."""
    if power is None or power.detectable is None:
        return "no spread to say what it could detect"
    size = power.detectable
    if bounds is not None and size >= bounds[1] - bounds[0]:
        text = f"it could not detect any difference possible in the range {range_text(bounds)} ({POWER:.0%} power)"
    else:
        text = f"could detect {fmt(size, _sig2(size))} or more ({power.power:.0%} power)"
    return text + (f"; {needed_text(power)}" if power.detect else "")


def needed_text(power: Power) -> str:
    """``13 seeds per side would detect 0.02``."""
    if power.needed is None:
        return f"no feasible number of {power.unit} would detect {power.detect:g}"
    return f"{power.needed:,} {power.unit} would detect {power.detect:g}"


def _sig2(x: float) -> int | None:
    """Decimals that show ``x`` to two significant digits."""
    return None if x <= 0.0 else max(0, 1 - math.floor(math.log10(x)))


# ---------------------------------------------------------------- paired (an example is the unit)


def paired_power(d_sd: float, n: int, min_p: float, alpha: float, detect: float | None) -> Power:
    """A paired test's power: nothing detectable when no p below ``alpha`` is possible at all."""
    detectable = None if min_p >= alpha else paired_detectable(d_sd, n, alpha)
    return Power(alpha, POWER, detectable, detect, examples_needed(d_sd, detect, alpha) if detect else None,
                 unit="examples")


def paired_verdict(kind: str, r: dict[str, Any], labels: Sequence[str], alpha: float) -> str:
    """One line per paired test, worded like ``compare_groups``' verdicts."""
    adjusted = r.get("p_adjusted") is not None
    p = r["p_adjusted"] if adjusted else r["p"]
    p_text = f"p{fmt_p(p, alpha)}{', Holm-adjusted' if adjusted else ''}"
    a, b = labels
    if kind == "mcnemar":
        counts = f"{r['b10']} wrong→right, {r['b01']} right→wrong"
        if r["b01"] + r["b10"] == 0:
            return f"no flips: {a} and {b} are right on the same examples"
        if p >= alpha:
            return f"flips balance within noise: {counts} (McNemar {r['method']}, {p_text})"
        more = "fixes more than it breaks" if r["b10"] > r["b01"] else "breaks more than it fixes"
        return f"{b} {more}: {counts}, McNemar {r['method']} {p_text}"
    over = f"over {r['n']:,} paired examples"
    if r["lo"] is None or r["hi"] is None:
        interval = f"{fmt(r['mean_diff'], None)} (no interval: {r['reason']})"
    else:
        interval = interval_text(r["mean_diff"], r["lo"], r["hi"], r["confidence"], holm=adjusted,
                                 signed=p >= alpha)
    if p >= alpha:
        power = Power(**r["power"]) if isinstance(r.get("power"), dict) else r.get("power")
        return f"{kind} difference within noise ({p_text}): {interval} {over}; {_paired_power_text(power, r)}"
    return f"{b} {kind} {'higher' if r['mean_diff'] > 0 else 'lower'} by {interval} {over}, {r['method']} {p_text}"


def _paired_power_text(power: Power | None, r: dict[str, Any]) -> str:
    if power is not None and power.detectable is None and r["min_p"] >= power.alpha:
        return (f"{r['n']} examples cannot show any difference at alpha={power.alpha:.2g}: "
                f"the smallest p they allow is {r['min_p']:.2g}")
    return power_text(power, tuple(r["bounds"]) if r.get("bounds") else None)


# ---------------------------------------------------------------- numbers as text


def decimals_for(width: float) -> int | None:
    """Decimals that show the interval's width to two significant digits: more would be noise."""
    if width <= 0.0:
        return None
    return min(15, max(0, 1 - math.floor(math.log10(width))))


def fmt(x: float, decimals: int | None) -> str:
    """Fixed decimals (or 4 significant digits when there is no width to judge by), with a true minus.

    A nonzero bound that would round to "0.0" gets one significant digit instead, so an
    interval that just excludes (or just includes) zero never reads as touching it.
    """
    x = 0.0 if x == 0.0 else x  # never print "-0.000"
    text = f"{x:.4g}" if decimals is None else f"{x:.{decimals}f}"
    if x != 0.0 and float(text) == 0.0:
        text = f"{x:.1g}"
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def fmt_p(p: float, alpha: float) -> str:
    """``=0.004``, ``=0.41`` or ``<0.001``, never rounded across ``alpha`` (0.0496 is not "0.05")."""
    if p < 0.001:
        return "<0.001"
    for digits in range(2, 6):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"={text}"
    return f"={p:.6g}"
