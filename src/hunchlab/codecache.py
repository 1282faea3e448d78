"""Reusing a code-state capture while the work tree has not changed.

A script that starts many runs in one repository (a loop over configs) captured the
same commit, diff and untracked files for each: three git processes, ~10 ms a run on
the bench machine, most of what ``hunchlab.start`` cost. A capture is therefore
remembered with a fingerprint of everything it depends on: the ``stat`` (mtime,
ctime, size, inode, as git's own index compares them) of the repository's HEAD,
index and branch ref, of every tracked and untracked file, and of every folder
in the tree that git does not ignore (a new file changes its folder's mtime, even in
a folder that was empty). When the fingerprint of the next capture from the same
folder is unchanged, the earlier capture's files are linked into the new run and its
record reused; any change sends it back to git.

Only the second capture from a folder in a process is remembered (it takes one more
git call, for the ignored folders), so a script that starts one run pays nothing.
The fingerprint is taken before git reads the tree, so an edit made while git runs
shows as a change next time. Trees of more than ``MAX_FILES`` files and folders are
not remembered: stat-ing them all would cost what git does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

MAX_FILES = 5000
CODE_FILES = ("diff.patch", "untracked.tar")


class Watch(NamedTuple):
    """What a capture depends on: the files whose stat is its fingerprint."""

    files: tuple[str, ...]
    folders: tuple[str, ...]


class _Entry(NamedTuple):
    watch: Watch
    fingerprint: tuple[Any, ...]
    state: dict[str, Any]
    files: Path  # the folder holding that capture's diff.patch and untracked.tar


_entries: dict[str, _Entry] = {}
_seen: set[str] = set()


def watch(root: Path, git_files: list[Path], names: list[str], ignored: list[str]) -> Watch | None:
    """The watch list of a tree with these tracked and untracked ``names`` and ``ignored`` paths
    (as git lists them, folders ending in "/"); None when it is too big to be worth it."""
    skip = {str(root / p.rstrip("/")) for p in ignored} | {str(root / ".git")}
    folders = []
    for here, subdirs, _ in os.walk(root):
        folders.append(here)
        subdirs[:] = [d for d in subdirs if os.path.join(here, d) not in skip]
        if len(folders) + len(names) > MAX_FILES:
            return None
    if len(folders) + len(names) > MAX_FILES:
        return None
    return Watch(tuple([str(p) for p in git_files] + [str(root / n) for n in names]), tuple(folders))


def seen(cwd: Path) -> bool:
    """Whether this process captured from ``cwd`` before (the next capture is then remembered)."""
    return str(cwd) in _seen


def fingerprint(w: Watch) -> tuple[Any, ...]:
    def stat(path: str) -> tuple[int, int, int, int] | None:
        try:
            s = os.lstat(path)
        except OSError:
            return None
        return s.st_mtime_ns, s.st_ctime_ns, s.st_size, s.st_ino

    return tuple(stat(p) for p in w.files) + tuple(stat(p) for p in w.folders)


def remember(cwd: Path, w: Watch | None, before: tuple[Any, ...] | None, state: dict[str, Any],
             files: Path) -> None:
    """Keep a capture made from ``cwd``; ``before`` is the fingerprint taken before git ran."""
    _seen.add(str(cwd))
    if w is not None and before is not None:
        _entries[str(cwd)] = _Entry(w, before, state, files)


def recall(cwd: Path, dest: Path) -> dict[str, Any] | None:
    """The capture remembered for ``cwd`` with its files linked into ``dest``, if nothing changed."""
    entry = _entries.get(str(cwd))
    if entry is None or fingerprint(entry.watch) != entry.fingerprint:
        return None
    needs = [("diff.patch", entry.state.get("diff_bytes")), ("untracked.tar", entry.state.get("untracked"))]
    if any(wanted and not (entry.files / name).exists() for name, wanted in needs):
        return None  # the earlier run's folder lost its files: capture afresh
    dest.mkdir(parents=True, exist_ok=True)
    for name in CODE_FILES:
        src = entry.files / name
        if not src.exists():
            continue
        try:
            os.link(src, dest / name)
        except FileExistsError:
            pass
        except OSError:
            shutil.copy2(src, dest / name)
    return dict(entry.state)


def forget_all() -> None:
    """Drop every remembered capture (tests)."""
    _entries.clear()
    _seen.clear()
