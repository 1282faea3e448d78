"""Holm's correction: p-values adjusted for testing many metrics (or sweep cells) at once.

``hunch compare`` tests every metric two runs share, and an ablation table every variant against
the full config; at 20 tests of α = 0.05 one looks significant by chance alone. Both adjust their
family here, so a verdict is judged at the level the whole family earns. A module of its own because it acts on the p-values any test gives, not on data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hunchlab.errors import BadInput


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order.

    Comparing many metrics at once makes some look significant by chance; Holm
    controls that family-wise error without Bonferroni's loss of power.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise BadInput("p-values must be a flat list", where="stats")
    if not ((p >= 0.0) & (p <= 1.0)).all():
        raise BadInput("p-values must be between 0 and 1", where="stats")
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return [float(v) for v in adjusted]
