"""A study's params, read from a run's config into a frozen dataclass of typed defaults.

Every study area declares its knobs as a dataclass whose field defaults say the
type (a tuple of ints, a float, an int, a string); ``from_config`` fills it from
``run.config`` and turns a misspelt name or a wrong type into a ``HunchError``
that names the param, offers the closest known name and gives the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from hunchlab.errors import HunchError, did_you_mean

T = TypeVar("T")


def from_config(cls: type[T], config: Mapping[str, Any], where: str) -> T:
    """``cls`` with ``config``'s values over its defaults; unknown names and wrong types are HunchErrors."""
    known = {f.name: f.default for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in config.items():
        if name not in known:
            raise HunchError(f"unknown param '{name}'{did_you_mean(name, known)}", where=where,
                             fix=f"known params: {', '.join(known)}")
        values[name] = typed(name, value, known[name], where)
    return cls(**values)


def typed(name: str, value: Any, default: Any, where: str) -> Any:
    """``value`` as the type of the param's default, or a HunchError saying what was expected."""
    converted: Any
    if isinstance(default, tuple):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        expected, converted = "a list of integers", tuple(sorted(value)) if ok else None
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
        expected, converted = "true or false", value
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        expected, converted = "a number", float(value) if ok else None
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected, converted = "an integer", value
    else:
        ok = isinstance(value, str)
        expected, converted = "a string", value
    if not ok:
        raise HunchError(f"param '{name}' is {value!r}, expected {expected}", where=where,
                         fix=f"the default is {list(default) if isinstance(default, tuple) else default!r}")
    return converted
