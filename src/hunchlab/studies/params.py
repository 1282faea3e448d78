"""A study's params, from a run's config into its settings dataclass, with errors a user can act on.

Every study keeps its knobs in a frozen dataclass whose field defaults are the
documented defaults. ``from_params`` fills it from ``run.config`` (the spec's
``params`` after overrides such as ``hunch study run NAME filter=none``): an
unknown name gets a did-you-mean, a value of the wrong type says what was
expected and what the default is, both as a ``SpecError`` naming the study.
Range checks stay with each study (its ``validated`` method), since only it
knows them; ``StudySettings`` is a base that wires the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, ClassVar, Self, TypeVar

from hunchlab.errors import SpecError, did_you_mean

T = TypeVar("T")


def from_params(cls: type[T], config: Mapping[str, Any], where: str) -> T:
    """``cls(**config)`` with each value converted to the type of its field's default.

    ``where`` names the study in error messages, e.g. ``"star study"``.
    """
    known = {f.name: f.default for f in fields(cls) if f.default is not MISSING}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in config.items():
        if name not in known:
            raise SpecError(f"unknown param '{name}'{did_you_mean(name, known)}", where=where,
                            fix=f"known params: {', '.join(known)}")
        values[name] = typed(name, value, known[name], where)
    return cls(**values)


class StudySettings:
    """A base for a study's frozen settings dataclass: ``from_config`` reads and validates a run's params."""

    where: ClassVar[str]  # the study, as errors name it (e.g. "debate study")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        return from_params(cls, config, cls.where).validated()

    def validated(self) -> Self:
        """The settings, or a SpecError (``self.invalid``) for values out of range; override to check."""
        return self

    def invalid(self, what: str, fix: str) -> SpecError:
        return SpecError(what, where=self.where, fix=fix)


def typed(name: str, value: Any, default: Any, where: str) -> Any:
    """``value`` as the type of the param's default, or a SpecError saying what was expected.

    A tuple default takes a list (kept in the order given; callers sort when
    order means nothing) of integers, or of numbers when any default element is
    a float (a grid of sparsities or penalties); a bool takes true or false, a
    float any number, an int an integer, anything else a string.
    """
    converted: Any
    if isinstance(default, tuple):
        floats = any(isinstance(v, float) for v in default)
        element = _is_number if floats else _is_int
        ok = isinstance(value, (list, tuple)) and all(element(v) for v in value)
        expected = f"a list of {'numbers' if floats else 'integers'}"
        converted = tuple(float(v) if floats else v for v in value) if ok else None
    elif isinstance(default, bool):
        ok, expected, converted = isinstance(value, bool), "true or false", value
    elif isinstance(default, float):
        ok = _is_number(value)
        expected, converted = "a number", float(value) if ok else None
    elif isinstance(default, int):
        ok, expected, converted = _is_int(value), "an integer", value
    else:
        ok = isinstance(value, str)
        expected, converted = "a string", value
    if not ok:
        raise SpecError(
            f"param '{name}' is {value!r}, expected {expected}",
            where=where,
            fix=f"the default is {list(default) if isinstance(default, tuple) else default!r}",
        )
    return converted


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
