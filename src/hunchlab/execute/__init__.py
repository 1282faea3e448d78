"""Running specs: the local runner, sweeps, the local worker pool and the Ray executor.

Nothing is imported up front: every entry's process starts as
``python -m hunchlab.execute.child``, which imports this package first, and must not
pay for pydantic and YAML (a third of a second per run) before the user's code starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hunchlab.execute.local import RunOutcome, run_spec

__all__ = ["RunOutcome", "run_spec"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hunchlab.execute import local  # lazy: loads pydantic, yaml only when called

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
