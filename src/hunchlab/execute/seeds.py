"""Seed groups: the same resolved config run under several seeds, behind ``hunch run --seeds N``.

One seed says nothing about how much a number moves from seed to seed, so a
comparison needs several. The runs share every param and differ only in the seed,
which is exactly what makes the store put them in one group (``runs.group_key``);
nothing else marks them, so runs started one by one with ``seed=N`` group the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hunchlab.claims import Claim
from hunchlab.errors import BadInput
from hunchlab.execute.local import RunOutcome, run_spec
from hunchlab.project import Project
from hunchlab.spec import Spec


def run_seeds(project: Project, spec: Spec, n: int, *, predictions: Sequence[Claim] = (),
              **run_kwargs: Any) -> list[RunOutcome]:
    """Run ``spec`` under seeds ``spec.seed``, ``spec.seed + 1``, … ``n`` of them, one after another.

    ``run_kwargs`` (cwd, argv, echo, …) go to ``run_spec`` for every seed. Predictions
    are about the group: they are recorded once, on its first run, to be resolved on
    the mean of all ``n``. A failed seed does not stop the others (divergence on one
    seed is a result); Ctrl-C does.
    """
    if n < 1:
        raise BadInput(f"--seeds must be at least 1, got {n}", fix="e.g. --seeds 5")
    outcomes = []
    for i in range(n):
        first = i == 0
        outcome = run_spec(project, replace(spec, seed=spec.seed + i), predictions=list(predictions) if first else [],
                           group_size=n if first and n > 1 else None, **run_kwargs)
        outcomes.append(outcome)
        if outcome.status == "interrupted":
            break
    return outcomes
