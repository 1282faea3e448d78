"""Rebuilding a captured code state: the diff applies even inside the project's own repository."""

from __future__ import annotations

import subprocess

import pytest

from hunchlab.capture import capture_code, restore_code
from hunchlab.errors import CodeMissing


def _repo(root):
    root.mkdir()
    (root / "train.py").write_text("PATCHED = 0\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run([*git, *args], cwd=root, check=True)
    (root / "train.py").write_text("PATCHED = 1\n")  # never committed
    (root / "notes.py").write_text("NOTE = 1\n")  # untracked


def test_a_tree_rebuilt_inside_the_repository_has_the_uncommitted_diff_and_files(tmp_path):
    _repo(tmp_path / "repo")
    code = capture_code(tmp_path / "repo", tmp_path / "code")
    dest = tmp_path / "repo" / ".hunch" / "sweeps" / "sweep-1" / "tree"  # where a sweep rebuilds it
    cwd = restore_code(code, tmp_path / "code", dest)
    assert (cwd / "train.py").read_text() == "PATCHED = 1\n" and (cwd / "notes.py").read_text() == "NOTE = 1\n"


def test_a_code_state_whose_diff_is_not_here_is_refused_not_rebuilt_without_it(tmp_path):
    _repo(tmp_path / "repo")
    code = capture_code(tmp_path / "repo", tmp_path / "code")
    (tmp_path / "code" / "diff.patch").unlink()  # recorded in another project folder
    with pytest.raises(CodeMissing, match="uncommitted changes .diff.patch. are not in"):
        restore_code(code, tmp_path / "code", tmp_path / "dest")
