"""A run's params as the run sees them: read-only, by attribute or by key, nested too.

Its own module because it is a value type with rules of its own (every way of assigning
refuses, copies and pickles rebuild it rather than assign), apart from the handle's logging:
the handle holds one (``run.config``), and ``compat/attach.py`` builds a new one when params
arrive late (``wandb.config.update``, a Trainer's arguments).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from hunchlab.errors import HunchError


class Config(Mapping[str, Any]):
    """Read-only resolved params: ``run.config.lr`` or ``run.config["lr"]``, nested too.

    The stored config is what ran and what ``hunch rerun`` runs again, so it cannot be
    changed from inside the run: ``run.config.lr = 5`` was once accepted, after which
    ``run.config.lr`` read 5 while ``run.config["lr"]`` and the stored config still read
    the old value. Every assignment, nested mappings and lists included, raises
    ``ConfigReadOnly`` with the way to change a param.
    """

    __slots__ = ("_data", "_path")

    def __init__(self, data: Mapping[str, Any], path: str = "") -> None:
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_path", path)

    def __getitem__(self, key: str) -> Any:
        return _frozen(self._data[key], f"{self._path}{key}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(
                f"no param '{self._path}{key}' in the run's config (params: {', '.join(self._data) or 'none'})"
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise ConfigReadOnly(f"{self._path}{key}")

    def __delattr__(self, key: str) -> None:
        raise ConfigReadOnly(f"{self._path}{key}")

    def __setitem__(self, key: str, value: Any) -> None:
        raise ConfigReadOnly(f"{self._path}{key}")

    def __delitem__(self, key: str) -> None:
        raise ConfigReadOnly(f"{self._path}{key}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Config({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle build a new one rather than assign to this one
        return Config, (self._data, self._path)

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable copy (a dict of JSON values) to change or pass on freely."""
        plain: dict[str, Any] = json.loads(json.dumps(self._data, default=str))
        return plain


class ConfigReadOnly(HunchError, TypeError):
    """An assignment to ``run.config``: params are set before the run starts, by an override or the spec."""

    def __init__(self, key: str) -> None:
        name = key.split("[")[0]
        super().__init__(f"run.config is read-only: cannot change '{key}'",
                         fix=f"set params before the run: `hunch run SPEC {name}=…` (an override) or the spec's "
                             "params; for a value of your own, copy it first (cfg = run.config.to_dict())")


class _FrozenList(list):  # type: ignore[type-arg]
    """A list param as the run sees it: reads like the list, refuses every change."""

    def __init__(self, items: list[Any], path: str) -> None:
        super().__init__(_frozen(v, f"{path}[{i}]") for i, v in enumerate(items))
        self._path = path

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise ConfigReadOnly(self._path)

    def __reduce__(self) -> tuple[Any, ...]:
        return _FrozenList, (list(self), self._path)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse


def _frozen(value: Any, path: str) -> Any:
    """A param's value, read-only: a mapping as a ``Config``, a list as a ``_FrozenList``."""
    if isinstance(value, Mapping):
        return Config(value, f"{path}.")
    if isinstance(value, list):
        return _FrozenList(value, path)
    return value

