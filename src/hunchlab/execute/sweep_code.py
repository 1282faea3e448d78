"""The code a sweep runs, rebuilt in any project folder on its store.

A sweep runs the code as it was submitted: its commit, the diff of tracked files and
the untracked files. ``store_files`` puts the diff and the untracked files into the
store (``store/codefiles.py``) in the transaction that records the sweep, and notes
their digests in the sweep's code state. ``restore_snapshot`` rebuilds the tree from
*this* clone's repository (the commit) and those files (from ``.hunch/sweeps/<id>/code/``
when they are there and match, else from the store). What cannot be found (a commit
this clone lacks, files no store holds) stops the resume with one line saying what is
missing: a resumed trial once ran the bare commit while its record said "dirty".
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.capture import ignored_paths, restore_code
from hunchlab.codecache import CODE_FILES
from hunchlab.errors import CodeMissing
from hunchlab.project import Project
from hunchlab.rundir import tmp_beside

if TYPE_CHECKING:
    from sqlalchemy import Connection

# Ignored paths that are never linked into a rebuilt tree: the repository, the project, caches.
NOT_DATA = {".git", ".hunch", "__pycache__"}


def sweep_dir(project: Project, sweep_id: str) -> Path:
    return project.hunch_dir / "sweeps" / sweep_id


def store_files(conn: Connection, folder: Path) -> dict[str, str]:
    """Put the code files captured in ``folder`` into the store; ``{name: sha256}`` for the sweep's code state."""
    from hunchlab.store import codefiles  # lazy: loads sqlalchemy only when called

    return {name: codefiles.put(conn, (folder / name).read_bytes()) for name in CODE_FILES
            if (folder / name).is_file()}


def restore_snapshot(project: Project, sweep: dict[str, Any], dest: Path, *, link_ignored: bool) -> Path:
    """Rebuild the code a sweep was submitted with in ``dest``; returns the folder trials start in.

    With ``link_ignored``, files git ignores (data, checkpoints) are symlinked in from
    this clone's work tree: the code is frozen, the data is this machine's. Not a git
    repo: the work tree as is.
    """
    code = sweep["code"]
    if not code.get("git"):
        return Path(code.get("cwd") or project.root)
    code_dir = sweep_dir(project, sweep["id"]) / "code"
    fetch_files(project, sweep, code_dir)
    repo = local_repo(project, sweep)
    shutil.rmtree(dest, ignore_errors=True)
    cwd = restore_code(code, code_dir, dest, repo=repo)
    if link_ignored:
        for name in data_paths(repo):
            link = dest / name
            if not link.exists() and not link.is_symlink():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(repo / name)
    return cwd


def check_code(project: Project, sweep: dict[str, Any]) -> None:
    """Raise ``CodeMissing`` unless this folder can rebuild the sweep's code (before a resume takes it over)."""
    if sweep["code"].get("git"):
        fetch_files(project, sweep, sweep_dir(project, sweep["id"]) / "code")
        local_repo(project, sweep)


def data_paths(repo: Path) -> list[str]:
    """What git ignores in ``repo`` that may be data a trial reads (caches and the project left out)."""
    out = []
    for name in (p.rstrip("/") for p in ignored_paths(repo)):
        if not NOT_DATA & set(Path(name).parts) and not name.endswith(".pyc"):
            out.append(name)
    return out


def fetch_files(project: Project, sweep: dict[str, Any], code_dir: Path) -> None:
    """Make ``code_dir`` hold the sweep's diff and untracked files, from the store where needed."""
    code = sweep["code"]
    wanted: dict[str, str] = code.get("files") or {}
    missing = [name for name, digest in wanted.items() if _digest(code_dir / name) != digest]
    if missing:
        from hunchlab.store import codefiles, open_store  # lazy: loads sqlalchemy only when called

        with open_store(project, wait=True) as store, store.read() as conn:
            found = {name: codefiles.get(conn, wanted[name]) for name in missing}
        code_dir.mkdir(parents=True, exist_ok=True)
        for name, data in found.items():
            if data is not None:
                tmp = tmp_beside(code_dir / name)
                tmp.write_bytes(data)
                os.replace(tmp, code_dir / name)
        missing = [name for name, data in found.items() if data is None]
    elif not wanted:  # a sweep from before its files were stored: only this folder can have them
        needs = (("diff.patch", code.get("diff_bytes")), ("untracked.tar", code.get("untracked")))
        missing = [name for name, recorded in needs if recorded and not (code_dir / name).is_file()]
    if missing:
        raise CodeMissing(f"{sweep['id']} runs uncommitted changes ({', '.join(missing)}) that are neither in this "
                          "project folder nor in the store", where=str(code_dir),
                          fix=f"resume it from the project folder that started it ({code.get('root')})")


def local_repo(project: Project, sweep: dict[str, Any]) -> Path:
    """This clone's git work tree, checked to hold the commit the sweep runs."""
    code = sweep["code"]
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=project.root, capture_output=True,
                             text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise CodeMissing(f"{project.root} is not in a git work tree, so the commit {sweep['id']} runs cannot be read",
                          fix="resume it from a clone of the repository it was started in") from None
    repo = Path(out.strip())
    commit = code.get("commit")
    if commit and subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo,
                                 capture_output=True).returncode != 0:
        branch = f" (it was on branch {code['branch']})" if code.get("branch") else ""
        raise CodeMissing(f"commit {commit[:12]}, the code {sweep['id']} runs, is not in this clone{branch}",
                          where=str(repo), fix="push it from the clone that started the sweep and `git fetch` it "
                                               "here, then resume again")
    return repo


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
