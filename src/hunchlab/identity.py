"""Config identity by value: when two runs ran the same config.

A seed group is the runs whose resolved config differs only in the seed, "however they
were started" (docs/compare.md). Hashing the params as they were typed split groups on
how a number was written: ``lr: 2.0`` in a spec and ``lr=2`` on the command line, or
``{"lr": 2}`` and ``{"lr": 2.0}`` given to ``hunchlab.start``, hashed apart, and
``hunch compare`` then said the groups differ in ``lr`` while showing 2 for both. Here a
whole float and the integer it equals are one value; a value that is not whole (0.5), a
bool (True is not 1 here) and a string ("2") keep their identity.

The spec's type decides how the run *sees* the value (``hunchlab.spec.apply_override``
turns ``lr=2`` into ``2.0`` when the spec says ``lr: 2.0``); this module only decides
which configs are the same.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def by_value(value: Any) -> Any:
    """``value`` with every whole float, in dicts and lists too, written as the int it equals (2.0 → 2)."""
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, dict):
        return {k: by_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [by_value(v) for v in value]
    return value


def config_key(entry: str | None, command: str | None, params: dict[str, Any]) -> str:
    """The seed group's id: a short hash of what ran and its params, by value (the seed left out)."""
    basis = {"entry": entry, "command": command, "params": by_value(params)}
    return hashlib.sha1(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:10]


def same_text(value: Any) -> str:
    """A text that two values share exactly when they are the same value (for comparing configs)."""
    return repr(by_value(value))
