"""Scalars from TensorBoard event files, read with TensorBoard's own ``EventAccumulator``.

Used while a run runs (the runner polls the folders its entry writes event files to),
at its end, and by ``hunch import tensorboard LOGDIR``. The reader is the ``tensorboard``
package's (an optional extra: ``pip install 'hunchlab[tensorboard]'``), never a parser
of our own: it handles torch's ``SummaryWriter``, tensorboardX and TF2's tensor summaries.

Keys: a scalar's tag (``train/loss``). A writer's ``add_scalars("loss", {"a": …})`` puts
each series in a sub-folder (``loss_a``); those keys are ``loss_a/loss``. When several
writers' folders are found, each key starts with its folder's path (``run1/train/loss``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import MissingPackage

# Folders never searched for event files: version control, environments, hunchlab's own store.
SKIP_DIRS = {".git", ".hunch", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"}


def _accumulator(folder: Path) -> Any:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise MissingPackage("reading TensorBoard files needs the tensorboard package",
                             fix="pip install 'hunchlab[tensorboard]'") from None
    return EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})


def event_folders(root: Path, since: float | None = None, max_depth: int | None = None) -> list[Path]:
    """Folders under ``root`` (at most ``max_depth`` below it) holding event files modified at or after ``since``."""
    found = set()
    top = len(root.parts)
    for folder, dirs, files in os.walk(root):
        too_deep = max_depth is not None and len(Path(folder).parts) - top >= max_depth
        dirs[:] = [] if too_deep else [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if "tfevents" in name and (since is None or _mtime(Path(folder, name)) >= since):
                found.add(Path(folder))
                break
    return sorted(found)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass
class TensorBoardFollower:
    """Reads new scalars from the event files under some folders, each call picking up where the last left off.

    ``since`` (a time) limits the search to files written from then on: a run reads the
    event files its entry writes, not the ones earlier runs left in the same folder.
    """

    roots: list[Path]
    since: float | None = None
    max_depth: int | None = None  # how far below each root to look (a run's working folder may be large)
    points: int = 0
    _accumulators: dict[Path, Any] = field(default_factory=dict)
    _seen: dict[tuple[Path, str], int] = field(default_factory=dict)

    def poll(self) -> list[tuple[int, dict[str, float]]]:
        """New (step, {key: value}) rows, in step order, since the last call."""
        for root in self.roots:
            if root.is_dir():
                for folder in event_folders(root, self.since, self.max_depth):
                    if folder not in self._accumulators:
                        self._accumulators[folder] = _accumulator(folder)
        rows: dict[int, dict[str, float]] = {}
        names = _key_prefixes(list(self._accumulators))
        for folder, acc in self._accumulators.items():
            acc.Reload()
            for tag, events in _scalar_series(acc):
                seen = self._seen.get((folder, tag), 0)
                for step, value in events[seen:]:
                    rows.setdefault(step, {})[names[folder] + tag] = value
                    self.points += 1
                self._seen[(folder, tag)] = len(events)
        return sorted(rows.items())


def _scalar_series(acc: Any) -> Iterable[tuple[str, list[tuple[int, float]]]]:
    """Each scalar tag's (step, value) points: v1 ``simple_value`` scalars and TF2 scalar tensors."""
    tags = acc.Tags()
    for tag in tags.get("scalars", []):
        yield tag, [(e.step, float(e.value)) for e in acc.Scalars(tag)]
    if tags.get("tensors"):
        from tensorboard.util import tensor_util

        for tag in tags["tensors"]:
            values = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            if values and all(v.size == 1 and v.dtype.kind in "fiub" for _, v in values):
                yield tag, [(step, float(v.reshape(()))) for step, v in values]


def _key_prefixes(folders: list[Path]) -> dict[Path, str]:
    """A key prefix per folder: '' for a writer's own folder, 'sub/' for its add_scalars sub-folders.

    A folder is a writer's when no other found folder is above it; with several writers
    each prefix starts with the writer folder's name, so their series stay apart.
    """
    writers = [f for f in folders if not any(o != f and o in f.parents for o in folders)]
    out = {}
    for f in folders:
        writer = next(w for w in writers if w == f or w in f.parents)
        head = f"{writer.name}/" if len(writers) > 1 else ""
        rel = f.relative_to(writer).as_posix()
        out[f] = head + ("" if rel == "." else rel + "/")
    return out


def read_logdir(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series under ``logdir``: key → [(step, value)], for ``hunch import tensorboard``."""
    series: dict[str, list[tuple[int, float]]] = {}
    for step, values in TensorBoardFollower([logdir]).poll():
        for key, value in values.items():
            series.setdefault(key, []).append((step, value))
    return series
