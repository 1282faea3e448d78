"""What the studies' tests share: a ``FakeRun`` that records what an entry logs (no project, no
store: a study's method is tested in process, in seconds) and a smoke run of an entry on its spec
with command-line overrides. The temporary model cache they share is ``model_cache`` in conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hunchlab.spec import load_spec


class FakeConfig(dict):  # type: ignore[type-arg]
    """``run.config``: a mapping that also reads as attributes."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class FakeRun:
    """The Run methods an entry uses, recording everything."""

    def __init__(self, config: dict[str, Any], seed: int, folder: Path) -> None:
        self.config = FakeConfig(config)
        self.seed = seed
        self.dir = folder
        self.summary: dict[str, float] = {}
        self.logged: list[tuple[int | None, dict[str, float]]] = []
        self.examples: list[dict[str, Any]] = []

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.logged.append((step, metrics))

    def example(self, **record: Any) -> None:
        self.examples.append(record)

    def artifact(self, path: Path) -> None:
        pass


def smoke_run(specs: Path, entry: Callable[[Any], None], spec: str, folder: Path, *overrides: str) -> FakeRun:
    """Run ``entry`` on ``specs/<spec>.yaml`` at its smoke budget, with command-line overrides such as
    ``relu=false`` (read as ``hunch study run`` reads them). Bind ``specs`` per area with ``partial``."""
    resolved = load_spec(specs / f"{spec}.yaml", list(overrides), smoke=True)
    folder.mkdir()
    run = FakeRun(resolved.params, resolved.seed, folder)
    entry(run)
    return run
