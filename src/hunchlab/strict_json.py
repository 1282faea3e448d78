"""Machine output every strict JSON parser reads: NaN and ±Infinity are written as ``null``.

JSON has no NaN or infinity; Python's ``json`` writes bare ``NaN``/``Infinity`` by
default, which ``jq``, JavaScript's ``JSON.parse`` and ``json.loads(parse_constant=...)``
reject, and a diverged loss is exactly such a value. ``null`` is what JavaScript's
``JSON.stringify`` writes for them, so the CLI's ``--json``/``--jsonl`` and the
dashboard's ``.json`` twins say it the same way (docs/json.md). Human views still
show ``nan`` and ``inf``.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists, tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(data: Any, *, indent: int | None = None, ensure_ascii: bool = True,
          separators: tuple[str, str] | None = None) -> str:
    """Strict JSON text of ``data`` (objects it cannot encode are written with ``str``).

    The C encoder refuses a non-finite value in one pass; only then is the data walked
    and encoded again, so output without NaN (nearly all) costs one encoding.
    """
    try:
        return json.dumps(data, indent=indent, ensure_ascii=ensure_ascii, separators=separators, default=str,
                          allow_nan=False)
    except ValueError:
        return json.dumps(finite(data), indent=indent, ensure_ascii=ensure_ascii, separators=separators,
                          default=str, allow_nan=False)
