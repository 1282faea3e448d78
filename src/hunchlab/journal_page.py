"""The dashboard's journal page as plain data: entries searched, or listed by kind, about one run or all.

In the library with the other pages' data (``runs_table``, ``run_page``, ``triage_page``), so a
page's contents are one Python call away and the web layer only parses and renders.
"""

from __future__ import annotations

from typing import Any

from hunchlab import journal
from hunchlab.project import Project


def journal_entries(*, search: str | None = None, kind: str | None = None, run: str | None = None,
                    project: Project | None = None) -> dict[str, Any]:
    """Journal entries, newest first (or best match first for ``search``), optionally about one run."""
    found = journal.search(search, project=project) if search else journal.entries(kind=kind, project=project)
    if search and kind:
        found = [e for e in found if e["kind"] == kind]
    if run:
        found = [e for e in found if e["run_id"] == run]
    return {"entries": found, "search": search, "kind": kind, "run": run, "kinds": list(journal.KINDS)}
