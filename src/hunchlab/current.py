"""The one way the library's commands open the store: ``with current_store(project) as store:``.

A light module below every library module that reads or writes records: it imports the store
(and so SQLAlchemy) only when called, so ``import hunchlab`` and ``hunch --help`` stay light
(issue 13: five modules each had their own copy of this, and six imported ``records._store``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hunchlab.project import Project
    from hunchlab.store import Store


def current_store(project: Project | None = None, *, wait: bool = False) -> Store:
    """The project's store (found from the working folder when not given) with every pending run
    folded in, so that what a command shows is current; using it as a context manager closes it.

    ``wait``: wait out a team store that is restarting instead of failing at once.
    """
    from hunchlab.store import current  # SQLAlchemy: imported only when a command opens the store

    return current(project, wait=wait)
