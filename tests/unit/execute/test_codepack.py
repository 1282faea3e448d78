"""The code archive shipped to Ray workers: the same tree gives the same bytes, whatever its files' times."""

from __future__ import annotations

import os
import time

from hunchlab.execute.codepack import digest_of, pack_tree, unpack


def _tree(root):
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('hi')\n")
    (root / "pkg" / "model.py").write_text("WIDTH = 64\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o755)


def test_the_same_tree_packs_to_the_same_bytes_and_a_changed_file_does_not(tmp_path):
    _tree(tmp_path / "a")
    first = pack_tree(tmp_path / "a")
    time.sleep(1.1)  # a second later, as a resume rebuilds the tree: new mtimes, a new gzip clock
    _tree(tmp_path / "b")
    assert pack_tree(tmp_path / "b") == first
    (tmp_path / "b" / "pkg" / "model.py").write_text("WIDTH = 65\n")
    assert digest_of(pack_tree(tmp_path / "b")) != digest_of(first)


def test_unpacking_gives_the_files_back_with_their_modes(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    _tree(tmp_path / "a")
    data = pack_tree(tmp_path / "a")
    tree = unpack(data, digest_of(data))
    assert tree.parent == tmp_path / "tmp" / "hunch-ray-code"
    assert (tree / "pkg" / "model.py").read_text() == "WIDTH = 64\n" and os.access(tree / "run.sh", os.X_OK)
    assert unpack(data, digest_of(data)) == tree  # once per machine and code state
