"""How the library opens the store: ``with current_store(project) as store:`` for a command, and
``process_store(project)``, opened once per process, for the runs a process writes.

A light module below every library module that reads or writes records: it imports the store
(and so SQLAlchemy) only when called, so ``import hunchlab`` and ``hunch --help`` stay light
(issue 13: five modules each had their own copy of this, and six imported ``records._store``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from hunchlab.project import Project, find_project

if TYPE_CHECKING:
    from hunchlab.store import Store


def current_store(project: Project | None = None, *, wait: bool = False) -> Store:
    """The project's store (found from the working folder when not given) with every pending run
    folded in, so that what a command shows is current; using it as a context manager closes it.

    ``wait``: wait out a team store that is restarting instead of failing at once.
    """
    from hunchlab.store import open_store  # SQLAlchemy: imported only when a command opens the store

    store = open_store(project or find_project(), wait=wait)
    store.sync()
    return store


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def process_store(project: Project) -> Store:
    """The store runs of this process fold into, opened once: a sweep's trials each opened it
    anew, and a new engine compiles every statement again (31 ms of a trial's 38 ms in the
    driver, on the loaded machine)."""
    # lazy: loads hashlib, hunchlab.claims, hunchlab.downsample and more only when called
    from hunchlab.store import open_store

    with _stores_lock:
        store = _stores.get(project.hunch_dir)
        if store is None:
            store = _stores[project.hunch_dir] = open_store(project, wait=True)
        return store


def drop_process_store(project: Project) -> None:
    """Forget this process's store after a fault (a restarted server, a full disk): the next run opens it anew."""
    with _stores_lock:
        store = _stores.pop(project.hunch_dir, None)
    if store is not None:
        store.close()
