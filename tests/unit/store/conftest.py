"""Fixtures of the store's unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background folder: the runs of ``hunchlab.start`` are folded by the test's own reads, in
    the chunks it sets (``run`` and ``run_start`` hold their own reference to ``fold_soon``)."""
    for module in ("hunchlab.run", "hunchlab.run_start", "hunchlab.background"):
        monkeypatch.setattr(f"{module}.fold_soon", lambda hunch_dir: None)
