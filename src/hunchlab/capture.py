"""What a run needs to be reproduced: its code state and environment.

Code state is the git commit *and* everything that is not in it: the diff of
tracked files (binary-safe) and the content of untracked, not-ignored files,
because the experiment a researcher actually ran is usually uncommitted. Files that
earlier runs wrote, and binary files, are outputs, not code, and are left out
(``hunchlab.outputs``).
``restore_code`` rebuilds that exact tree in a scratch folder for ``hunch rerun``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, NamedTuple

from hunchlab import codecache
from hunchlab.errors import CodeMissing

MAX_UNTRACKED_FILE = 2 * 1024 * 1024  # bytes; larger untracked files are listed, not copied
MAX_UNTRACKED_TOTAL = 20 * 1024 * 1024


def _git(cwd: Path, *args: str, text: bool = True) -> Any:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, check=True).stdout


def capture_code(cwd: Path, dest: Path) -> dict[str, Any]:
    """Record the git state around ``cwd``; the diff and untracked files go under ``dest``.

    Within one process, a capture from the same folder is reused while nothing in the
    tree changed (``hunchlab.codecache``).
    """
    remembered = codecache.recall(cwd, dest)
    if remembered is not None:
        return remembered
    head = _head(cwd)
    if head is None:
        return {"git": False, "note": "not a git repo: code state not captured", "cwd": str(cwd)}
    tracked, others = _listing(head.root)
    w = codecache.watch(head.root, head.files, tracked + others, ignored_paths(head.root)) if codecache.seen(cwd) else None
    before = codecache.fingerprint(w) if w else None
    dest.mkdir(parents=True, exist_ok=True)
    diff = _git(head.root, "diff", "HEAD", "--binary", text=False) if head.commit else b""
    if diff:
        (dest / "diff.patch").write_bytes(diff)
    untracked, skipped, outputs = _copy_untracked(head.root, others, dest / "untracked.tar", cwd)
    state: dict[str, Any] = {
        "git": True,
        "root": str(head.root),
        "relcwd": os.path.relpath(cwd.resolve(), head.root),
        "commit": head.commit,
        "branch": head.branch,
        "dirty": bool(diff or untracked),
        "diff_bytes": len(diff),
        "untracked": untracked,
    }
    if outputs:
        state["outputs_skipped"] = len(outputs)  # written by runs, or binary: outputs, not code
    if skipped:
        from hunchlab.outputs import gitignore_hint  # lazy: loads glob, hunchlab.outputs only when called

        state["skipped"] = skipped
        state["warning"] = gitignore_hint(skipped, MAX_UNTRACKED_FILE, MAX_UNTRACKED_TOTAL)
    codecache.remember(cwd, w, before, state, dest)
    return state


class Head(NamedTuple):
    root: Path
    commit: str | None
    branch: str | None
    files: list[Path]  # HEAD, the index, the branch's ref: what a commit, checkout or add changes


def _head(cwd: Path) -> Head | None:
    """The work tree's root, commit and branch; None outside a git work tree.

    One ``git rev-parse`` answers all of it (a git process costs 2-4 ms to start, more
    on a loaded machine), and none is started when no folder up from ``cwd`` holds a
    ``.git`` and no ``GIT_DIR`` says otherwise: a run outside any repository used to
    pay a failing git call each time.
    """
    if not os.environ.get("GIT_DIR") and not any((p / ".git").exists() for p in (cwd, *cwd.resolve().parents)):
        return None
    dirs = ["--show-toplevel", "--absolute-git-dir", "--git-common-dir"]
    try:
        out = _git(cwd, "rev-parse", *dirs, "HEAD", "--abbrev-ref", "HEAD").splitlines()
        commit, branch = out[3], out[4]
    except subprocess.CalledProcessError:  # a repository with no commit yet (HEAD names nothing), or no work tree
        try:
            out = _git(cwd, "rev-parse", *dirs).splitlines()
        except subprocess.CalledProcessError:
            return None
        commit = branch = None
    except FileNotFoundError:
        return None
    root, git_dir = Path(out[0]), Path(out[1])
    common = (Path(out[0]) / out[2]) if not os.path.isabs(out[2]) else Path(out[2])
    files = [git_dir / "HEAD", git_dir / "index", common / "packed-refs"]
    if branch and branch != "HEAD":
        files.append(common / "refs" / "heads" / branch)
    return Head(root, commit, branch, files)


def _listing(root: Path) -> tuple[list[str], list[str]]:
    """Tracked files and untracked, not-ignored files, from one ``git ls-files``."""
    tracked: list[str] = []
    others: list[str] = []
    for entry in _git(root, "ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard").split("\0"):
        if entry:
            (others if entry[0] == "?" else tracked).append(entry[2:])
    return tracked, others


def ignored_paths(root: Path) -> list[str]:
    """What git ignores in the work tree at ``root`` (data, checkpoints, venvs), folders ending in "/"."""
    return [p for p in _git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                            "--directory").split("\0") if p]


def _copy_untracked(root: Path, names: list[str], tar_path: Path, cwd: Path) -> tuple[list[str], list[str], list[str]]:
    """Copy untracked code into ``tar_path``; returns (kept, skipped as too large, skipped as outputs)."""
    from hunchlab.outputs import is_binary, known_outputs  # lazy: loads glob, hunchlab.outputs only when called

    earlier_outputs = known_outputs(cwd, root)
    kept: list[str] = []
    skipped: list[str] = []
    outputs: list[str] = []
    total = 0
    for name in names:
        path = root / name
        if not path.is_file() or path.is_symlink():
            continue
        if name in earlier_outputs or is_binary(path):
            outputs.append(name)
            continue
        size = path.stat().st_size
        if size > MAX_UNTRACKED_FILE or total + size > MAX_UNTRACKED_TOTAL:
            skipped.append(name)
            continue
        total += size
        kept.append(name)
    if kept:
        with tarfile.open(tar_path, "w") as tar:
            for name in kept:
                tar.add(root / name, arcname=name)
    return kept, skipped, outputs


def restore_code(code: dict[str, Any], code_dir: Path, dest: Path, *, repo: Path | None = None) -> Path:
    """Rebuild the captured tree in ``dest`` from the commit in ``repo`` (default: the repository
    it was captured in) and the files in ``code_dir``; returns the folder the run was started from.

    A diff or untracked files the state records but ``code_dir`` lacks (the run was
    recorded in another project folder) stop it: a tree without them is not the code
    that ran, and was once rebuilt silently.
    """
    if not code.get("git"):
        raise CodeMissing("this run's code state was not captured (it was not started in a git repo)")
    for name, recorded in (("diff.patch", code.get("diff_bytes")), ("untracked.tar", code.get("untracked"))):
        if recorded and not (code_dir / name).is_file():
            raise CodeMissing(f"the code state's uncommitted changes ({name}) are not in {code_dir}",
                              fix=f"rebuild it in the project folder that recorded it ({code.get('root')})")
    root = repo or Path(code["root"])
    dest.mkdir(parents=True, exist_ok=True)
    if code.get("commit"):
        try:
            archive = subprocess.run(["git", "archive", code["commit"]], cwd=root, capture_output=True, check=True)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            raise CodeMissing(
                f"cannot read commit {code['commit'][:12]} from {root}",
                fix="the repository moved or the commit was lost (e.g. after a rebase); fetch it back",
            ) from e
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    patch = code_dir / "diff.patch"
    if patch.exists():
        # ``dest`` is often inside the project's own repository (.hunch/sweeps/<id>/tree): a git apply
        # that finds that repository applies the paths from its top and skips, silently, every path
        # outside ``dest``, i.e. all of them. Git must not look above ``dest`` for a repository.
        env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
        env["GIT_CEILING_DIRECTORIES"] = str(dest.resolve().parent)
        subprocess.run(["git", "apply", "--binary", "--whitespace=nowarn", str(patch.resolve())], cwd=dest,
                       check=True, capture_output=True, env=env)
    tar_path = code_dir / "untracked.tar"
    if tar_path.exists():
        with tarfile.open(tar_path) as tar:
            tar.extractall(dest, filter="data")
    relcwd: str = code.get("relcwd", ".")
    return dest / relcwd


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Python, platform, packages, host, CPU and GPU: what "works on my machine" depends on.

    Cached: it does not change within a process, and a script that starts many runs
    should not pay for it each time.
    """
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": _gpus(),
        "packages": installed_packages(),
    }


def installed_packages() -> dict[str, str]:
    """Name → version of every installed distribution, read from the ``*.dist-info`` folder names.

    Parsing each METADATA file (what ``importlib.metadata`` does) costs ~100 ms for a
    hundred packages; the folder names say the same in well under a millisecond.
    Folders that do not follow the pattern fall back to ``importlib.metadata``.
    """
    packages: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                stem = name.rsplit(".", 1)[0]
                dist, sep, version = stem.partition("-")
                if sep and version and "-" not in version:
                    packages.setdefault(dist.replace("_", "-"), version)
                else:
                    try:
                        meta = importlib.metadata.distribution(dist)
                    except importlib.metadata.PackageNotFoundError:
                        continue
                    packages.setdefault(meta.metadata["Name"], meta.version)
    return dict(sorted(packages.items(), key=lambda kv: kv[0].lower()))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]
