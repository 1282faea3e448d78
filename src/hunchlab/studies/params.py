"""A study's params, read into its settings dataclass with clear errors.

Every study keeps its knobs in a frozen dataclass whose defaults say the type of
each knob; ``from_params`` fills one from a run's params (the spec's ``params``
after the command line's overrides). An unknown name gets a did-you-mean, a
value of the wrong type says what was expected and the default, so
``hunch study run NAME n_valus=[1,4]`` stops before anything trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, ClassVar, Self, TypeVar

from hunchlab.errors import HunchError, did_you_mean

T = TypeVar("T")


def from_params(cls: type[T], config: Mapping[str, Any], where: str) -> T:
    """``cls(**config)`` with each value checked against the type of the field's default.

    ``where`` names the study in the error (e.g. ``"debate study"``). Lists
    become sorted tuples, since a study's lists are sets of values to try.
    """
    known = {f.name: f.default for f in fields(cls) if f.default is not MISSING}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in config.items():
        if name not in known:
            raise HunchError(f"unknown param '{name}'{did_you_mean(name, known)}", where=where,
                             fix=f"known params: {', '.join(known)}")
        values[name] = _typed(name, value, known[name], where)
    return cls(**values)


class StudySettings:
    """A base for a study's frozen settings dataclass: ``from_config`` reads and validates a run's params."""

    where: ClassVar[str]  # the study, as errors name it (e.g. "debate study")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        return from_params(cls, config, cls.where).validated()

    def validated(self) -> Self:
        """The settings, or a HunchError (``self.invalid``) for values out of range; override to check."""
        return self

    def invalid(self, what: str, fix: str) -> HunchError:
        return HunchError(what, where=self.where, fix=fix)


def _typed(name: str, value: Any, default: Any, where: str) -> Any:
    """``value`` as the type of the param's default, or a HunchError saying what was expected."""
    converted: Any = value
    if isinstance(default, tuple):
        floats = any(isinstance(v, float) for v in default)
        ok = isinstance(value, (list, tuple)) and all(_is(v, float if floats else int) for v in value)
        expected = "a list of numbers" if floats else "a list of integers"
        converted = tuple(sorted(float(v) if floats else v for v in value)) if ok else None
    elif isinstance(default, float):
        ok, expected = _is(value, float), "a number"
        converted = float(value) if ok else None
    elif isinstance(default, int):
        ok, expected = _is(value, int), "an integer"
    else:
        ok, expected = isinstance(value, str), "a string"
    if not ok:
        raise HunchError(f"param '{name}' is {value!r}, expected {expected}", where=where,
                         fix=f"the default is {list(default) if isinstance(default, tuple) else default!r}")
    return converted


def _is(value: Any, kind: type) -> bool:
    """An int, or for ``float`` any number; never a bool (YAML's ``yes`` is not 1)."""
    numbers = (int, float) if kind is float else (int,)
    return isinstance(value, numbers) and not isinstance(value, bool)
