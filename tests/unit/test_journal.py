"""hunchlab.journal: writing a note and editing an entry from Python, as `hunch note` does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hunchlab import journal
from hunchlab.errors import HunchError
from hunchlab.project import Project


def _editor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, line: str) -> Path:
    """An $EDITOR that keeps a copy of what it was shown and appends ``line``."""
    seen = tmp_path / "seen.md"
    monkeypatch.setenv("EDITOR", f"{sys.executable} -c \"import sys, shutil; shutil.copy(sys.argv[1], '{seen}'); "
                                 f"open(sys.argv[1], 'a').write('{line}\\n')\"")
    monkeypatch.delenv("VISUAL", raising=False)
    return seen


def test_a_note_with_text_is_saved_as_given_without_an_editor(project: Project, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", "false")  # would fail if it were opened
    saved = journal.write_note("# Plan\nsweep the width", kind="plan", project=project)
    assert saved["title"] == "Plan" and saved["kind"] == "plan" and saved["body"] == "sweep the width"


def test_a_note_without_text_is_written_in_the_editor_over_the_draft(project: Project, monkeypatch, tmp_path) -> None:
    seen = _editor(monkeypatch, tmp_path, "Width looks fine.")
    saved = journal.write_note(None, kind="result", project=project)
    assert "## Assumptions" in seen.read_text(), "the editor is opened on the draft"
    assert "Width looks fine." in saved["body"]


def test_a_draft_saved_unchanged_is_refused(project: Project, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", "true")
    with pytest.raises(HunchError, match="empty"):
        journal.write_note(None, project=project)
    assert journal.entries(project=project) == []


def test_editing_an_entry_opens_it_with_its_title_and_saves_what_was_written(project: Project, monkeypatch,
                                                                            tmp_path) -> None:
    entry = journal.write_note("# Decision\ndrop the lr question", kind="decision", project=project)
    seen = _editor(monkeypatch, tmp_path, "because width matters more")
    saved = journal.edit_entry(entry["id"], project)
    assert seen.read_text() == "# Decision\n\ndrop the lr question\n"
    assert saved["id"] == entry["id"] and saved["title"] == "Decision"
    assert saved["body"] == "drop the lr question\nbecause width matters more"
