"""Stratified sampling of failures: how many to read per stratum, which ones, and what they say of all.

"Pick out a hundred failure cases and look at them all": the hundred must be a random sample, and
what they show must be stated as an estimate of *all* failures with its interval, or the largest
category of a sample is mistaken for the largest problem. Pure functions over counts (no store,
no records), so the statistics are tested on their own: ``allocate`` splits a sample over strata,
``draw_positions`` picks reproducibly in an order where every prefix is itself a random sample,
``estimate_share`` reweights by stratum size with the finite-population correction.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, TypeVar

from hunchlab.calibration import wilson_interval

CONFIDENCE = 0.95
K = TypeVar("K")


def allocate(sizes: Mapping[K, int], n: int) -> dict[K, int]:
    """How many of ``n`` sample slots each stratum gets.

    Proportional to the stratum's size (largest remainder), but at least one for every
    stratum when ``n`` allows, so a rare topic is never left out by chance; the
    estimate reweights (``estimate_share``), so the tilt costs no bias. Never more
    than a stratum holds; everything when ``n`` covers all.
    """
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    keys = sorted(sizes, key=stratum_order)
    floor = 1 if n >= len(keys) else 0
    alloc = {h: min(sizes[h], max(floor, math.floor(n * sizes[h] / total))) for h in keys}

    def deficit(h: K) -> float:
        return n * sizes[h] / total - alloc[h]

    while sum(alloc.values()) > n:  # the minimum of one overshot: take back where most over quota
        h = min((h for h in keys if alloc[h] > 1), key=deficit)
        alloc[h] -= 1
    while sum(alloc.values()) < n:
        h = max((h for h in keys if alloc[h] < sizes[h]), key=deficit)
        alloc[h] += 1
    return alloc


def draw_positions(sizes: Mapping[K, int], n: int, seed: int) -> dict[K, list[int]]:
    """Per stratum, the positions (0-based, in example-id order) the sample takes, in the order drawn.

    Reproducible from ``seed``, and drawn one at a time from each stratum's own stream,
    so the order is itself random and, for every n, a larger sample with the same seed
    starts with the smaller one (per stratum): reading further after ``--sample 100``
    with ``--sample 200`` keeps the first hundred, also when 200 is more than there are.
    """
    alloc = allocate(sizes, n)
    return {h: _distinct(random.Random(seed if h is None else f"{seed}:{h}"), sizes[h], alloc[h])
            for h in sorted(sizes, key=stratum_order)}


def _distinct(rng: random.Random, size: int, k: int) -> list[int]:
    """The first ``k`` of a random order of ``range(size)``, drawn one at a time (a lazy Fisher-Yates).

    The i-th draw does not depend on k, so every prefix is the smaller sample, and
    k >= size gives all of them in that same order (it used to be a fresh shuffle).
    """
    moved: dict[int, int] = {}  # position -> the value a swap left there
    out = []
    for i in range(min(k, size)):
        j = rng.randrange(i, size)
        out.append(moved.get(j, j))
        moved[j] = moved.get(i, i)
    return out


def estimate_share(hits: Mapping[K, int], tagged: Mapping[K, int], population: Mapping[K, int],
                   confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """A category's share of all failures, with an interval: ``(estimate, low, high)``.

    ``hits[h]`` of the ``tagged[h]`` examples read in stratum ``h`` (of ``population[h]``
    failures there) fell in the category. The estimate weights each stratum by its size
    (strata with nothing read yet are left out and the weights renormalised). The
    interval is Wilson's at the effective sample size of that weighting (Kish), with the
    finite-population correction, so having read every failure gives a zero-width interval
    and a 100-of-200 sample a narrower one than 100 of a million.
    """
    read = [h for h in population if tagged.get(h, 0) > 0]
    if not read:
        return math.nan, 0.0, 1.0
    total = sum(population[h] for h in read)
    weights = {h: population[h] / total for h in read}
    estimate = sum(weights[h] * hits.get(h, 0) / tagged[h] for h in read)
    # Variance factor of the weighted mean relative to p(1 - p): sum of w^2 * fpc / n.
    factor = sum(weights[h] ** 2 * _fpc(population[h], tagged[h]) / tagged[h] for h in read)
    if factor <= 0:
        return estimate, estimate, estimate
    n_eff = max(1, round(1 / factor))
    low, high = wilson_interval(min(n_eff, max(0.0, estimate * n_eff)), n_eff, confidence)
    return estimate, low, high


def _fpc(population: int, read: int) -> float:
    """Finite-population correction: 0 when every failure in the stratum has been read."""
    return 0.0 if population <= 1 else max(0.0, (population - read) / (population - 1))


def stratum_order(stratum: Any) -> tuple[bool, str]:
    """Sort key for strata, where None (no value, or no stratification) comes first."""
    return stratum is not None, str(stratum)
