"""Outputs are not code: what a run writes into the project is its output, not the next run's source.

A script that saves ``./out/model.pt`` leaves an untracked file in the work tree; without
care the next run would capture it as "untracked code" and ``compare --code`` would show
``Binary files … differ``. So:

- after a run, the untracked files it created or changed (modified since it started, and
  not source by their extension) are its outputs: listed in its record and in
  ``.hunch/outputs.txt``, which code capture skips from then on;
- code capture also skips binary untracked files (a NUL byte in the first 8 KiB, git's
  own test), whoever wrote them;
- a code diff drops the sections of binary files;
- the spec's ``outputs:`` globs keep matching files the run wrote as artifacts.
"""

from __future__ import annotations

import fcntl
import glob
import os
import re
import subprocess
from pathlib import Path

from hunchlab.project import HUNCH
from hunchlab.rundir import tmp_beside

OUTPUTS_FILE = "outputs.txt"
OUTPUTS_LOCK = "outputs.lock"  # flock'd around remember()'s read-add-replace
# Untracked files with these endings are taken for code even when a run wrote them.
SOURCE = {".py", ".ipynb", ".pyx", ".sh", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".md", ".rst", ".c", ".cc",
          ".cpp", ".h", ".hpp", ".cu", ".js", ".ts", ".rs", ".go", ".java", ".jl", ".r", ".R", ".lua", ".sql"}
SNIFF_BYTES = 8192


def is_binary(path: Path) -> bool:
    """git's test: a NUL byte in the first 8 KiB."""
    try:
        with open(path, "rb") as f:
            return b"\0" in f.read(SNIFF_BYTES)
    except OSError:
        return False


def untracked(root: Path) -> list[str]:
    """Untracked, not-ignored files of the git work tree at ``root`` (relative paths)."""
    try:
        out = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return []
    return [n for n in out.split("\0") if n]


def git_root(cwd: Path) -> Path | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True,
                             check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    return Path(out.strip())


def written_since(root: Path, since: float) -> list[str]:
    """Untracked non-source files under ``root`` modified at or after ``since``: a run's outputs."""
    found = []
    for name in untracked(root):
        path = root / name
        try:
            if path.is_file() and path.stat().st_mtime >= since and path.suffix not in SOURCE:
                found.append(name)
        except OSError:
            continue
    return found


def _outputs_files(cwd: Path, root: Path) -> list[Path]:
    """``.hunch/outputs.txt`` of every project from ``cwd`` up to the git root."""
    here = cwd.resolve()
    files = []
    for folder in (here, *here.parents):
        if (folder / HUNCH / OUTPUTS_FILE).is_file():
            files.append(folder / HUNCH / OUTPUTS_FILE)
        if folder == root.resolve():
            break
    return files


def known_outputs(cwd: Path, root: Path) -> set[str]:
    """Paths (relative to the git root) that earlier runs wrote: not code."""
    names: set[str] = set()
    for path in _outputs_files(cwd, root):
        names.update(line for line in path.read_text().splitlines() if line)
    return names


def remember(hunch_dir: Path, names: list[str]) -> None:
    """Add paths to the project's list of run outputs (kept sorted, each once).

    Read, add, replace: under an ``flock`` of ``.hunch/outputs.lock``, since a sweep's trials
    (threads of one process) and runs in parallel terminals (processes) add theirs at the same
    time, and two that read the list at once would each drop what the other added. The lock is
    the open file's, so it keeps threads apart as well as processes."""
    if not names:
        return
    path = hunch_dir / OUTPUTS_FILE
    fd = os.open(hunch_dir / OUTPUTS_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = set(path.read_text().splitlines()) if path.exists() else set()
        new = old | set(names)
        if new != old:
            tmp = tmp_beside(path)
            tmp.write_text("".join(f"{n}\n" for n in sorted(new) if n))
            os.replace(tmp, path)
    finally:
        os.close(fd)  # closing releases the lock


def kept_by_globs(cwd: Path, patterns: list[str], since: float) -> list[Path]:
    """Files matching the spec's ``outputs:`` globs (relative to ``cwd``) that the run wrote."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        for name in sorted(glob.glob(pattern, root_dir=cwd, recursive=True)):
            path = cwd / name
            if path.is_file() and path.stat().st_mtime >= since:
                found[path] = None
    return list(found)


_SECTION = re.compile(r"^diff --git ", re.MULTILINE)


def drop_binary_sections(diff: str) -> str:
    """A ``git diff`` without the sections of binary files (``Binary files … differ``, binary patches)."""
    starts = [m.start() for m in _SECTION.finditer(diff)]
    if not starts:
        return diff
    sections = [diff[a:b] for a, b in zip(starts, [*starts[1:], len(diff)])]
    kept = [s for s in sections if not re.search(r"^(Binary files .* differ|GIT binary patch)$", s, re.MULTILINE)]
    return diff[:starts[0]] + "".join(kept)


def gitignore_hint(skipped: list[str], max_file: int, max_total: int) -> str:
    """One line for large untracked files: how many, a few names, and the .gitignore line that would do."""
    folders = sorted({n.split("/", 1)[0] + "/" if "/" in n else n for n in skipped})
    shown = ", ".join(skipped[:3]) + (" …" if len(skipped) > 3 else "")
    return (f"{len(skipped)} large untracked file(s) not captured as code ({shown}; over {max_file >> 20} MiB each "
            f"or {max_total >> 20} MiB in all): if they are data or outputs, add {' '.join(folders[:3])} to .gitignore")
