"""Seeding the random number generators a run uses."""

from __future__ import annotations

import random
import sys


def seed_everything(seed: int) -> None:
    """Seed ``random``, and numpy and torch if the process has imported them.

    ``hunch run`` calls this after importing the entry's module, so an entry that
    imports numpy or torch at the top is seeded without importing either for one
    that does not (torch alone costs a second per trial). An entry that imports
    them later calls ``hunchlab.seed_everything(run.seed)`` itself.
    """
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
