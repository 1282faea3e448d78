"""A code-state capture is reused only while nothing git could see has changed."""

from __future__ import annotations

import pytest

from hunchlab import capture, codecache


@pytest.fixture
def calls(project, monkeypatch):
    """Counts the git processes a capture starts."""
    codecache.forget_all()
    count = {"git": 0}
    real = capture._git

    def counting(*args, **kw):
        count["git"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(capture, "_git", counting)
    yield count
    codecache.forget_all()


def _capture(project, calls, n):
    calls["git"] = 0
    state = capture.capture_code(project.root, project.hunch_dir / f"code{n}")
    return state, calls["git"]


def test_an_unchanged_tree_is_captured_once_and_reused_without_git(project, calls):
    _capture(project, calls, 1)  # the first capture from a folder is not remembered (one run: no extra cost)
    (project.root / "train.py").write_text("x = 1\n")
    second, used = _capture(project, calls, 2)
    third, reused = _capture(project, calls, 3)
    assert used > 0 and reused == 0 and third == second and second["dirty"]
    assert (project.hunch_dir / "code3" / "diff.patch").read_bytes() == (project.hunch_dir / "code2" / "diff.patch").read_bytes()


def test_any_change_git_could_see_sends_the_capture_back_to_git(project, calls):
    for n in (1, 2):
        _capture(project, calls, n)
    (project.root / "train.py").write_text("changed = True\n")  # a tracked file
    edited, used = _capture(project, calls, 3)
    assert used > 0 and edited["diff_bytes"] > 0
    (project.root / "data").mkdir()  # an empty folder git does not list
    _capture(project, calls, 4)
    assert _capture(project, calls, 5)[1] == 0
    (project.root / "data" / "new.py").write_text("y = 2\n")
    found, used = _capture(project, calls, 6)
    assert used > 0 and "data/new.py" in found["untracked"]
    (project.root / ".gitignore").write_text("logs/\n")
    _capture(project, calls, 7)
    (project.root / "logs").mkdir()
    _capture(project, calls, 8)
    assert _capture(project, calls, 9)[1] == 0
    (project.root / "logs" / "out.txt").write_text("ignored\n")  # inside an ignored folder: nothing to see
    assert _capture(project, calls, 10)[1] == 0
