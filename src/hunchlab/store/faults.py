"""What a store error means to a person, and waiting out a team store's outage.

Every error the database driver raises inside ``Store.read()``/``write()`` reaches
the user as one of a few messages that say what, where and what to do: the store
is damaged (SQLite's ``SQLITE_CORRUPT``/``SQLITE_NOTADB``, or text that no longer
decodes as UTF-8), the disk is full, the store is read-only, or the server does not
answer. A bug (a wrong query) is not translated: it stays a traceback.

Writes to a PostgreSQL store that is restarting wait for it: :func:`retrying`
repeats an operation that found the server unreachable, with exponential backoff
(0.25 s doubling to at most 5 s), for ``store_retry_seconds`` (default 60 s: a
``pg_ctl restart`` on the test machine leaves the server unreachable for 0.3–1.5 s,
a managed database's failover for 20–60 s).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from hunchlab.errors import (
    HunchError,
    HunchWarning,
    MachineError,
    NoSpace,
    ReadOnly,
    StoreDamaged,
    StoreError,
    StoreUnreachable,
)

T = TypeVar("T")
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 5.0
REBUILD_FIX = ("`hunch store check` says what is damaged; `hunch store rebuild` makes a new store from the run "
               "folders and the ledger (the old file is kept beside it)")
# PostgreSQL SQLSTATEs that mean "the server is not there right now": connection exceptions (class 08),
# the server shutting down or starting up (57P01-57P03).
UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
MAX_REASON = 100  # the driver's message, cut: SQLite's decode error quotes the whole damaged text


def store_fault(e: BaseException, where: str, url: str) -> HunchError | None:
    """The user-facing error for an exception raised while talking to the store, or None (a bug)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(e, UnicodeDecodeError):
        return StoreDamaged(f"the store is damaged: stored text no longer decodes ({e.reason})", where=where,
                            fix=REBUILD_FIX)
    if isinstance(e, json.JSONDecodeError):  # a flipped bit that still decodes as text
        return StoreDamaged(f"the store is damaged: stored JSON no longer parses ({e.msg})", where=where,
                            fix=REBUILD_FIX)
    if not isinstance(e, DBAPIError) or e.orig is None:
        return None
    orig = e.orig
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    reason = reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 1] + "…"
    if isinstance(orig, sqlite3.Error):
        return _sqlite_fault(orig, reason, where)
    return _server_fault(orig, reason, where, url)


def _sqlite_fault(orig: sqlite3.Error, reason: str, where: str) -> HunchError | None:
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "decode" in reason or "malformed" in reason \
            or reason.startswith(("no such table", "no such column")):
        return StoreDamaged(f"the store is damaged: {reason}", where=where, fix=REBUILD_FIX)
    if name == "SQLITE_FULL":
        return NoSpace("no space left on device for the store", where=where,
                       fix="free some space on that disk (`df -h` shows it), then try again")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return ReadOnly(f"cannot write the store: {reason}", where=where,
                        fix="make .hunch/ and store.db writable for your user (or remount the disk read-write)")
    if name.startswith("SQLITE_IOERR"):
        return MachineError(f"the disk failed while using the store: {reason}", where=where,
                            fix="check free space (`df -h`) and the disk (`dmesg`), then try again")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(f"the store stayed locked by another process: {reason}", where=where,
                          fix="a long operation holds it (a `hunch store rebuild`?): wait for it, then try again")
    return None


def _server_fault(orig: BaseException, reason: str, where: str, url: str) -> HunchError | None:
    state = getattr(orig, "sqlstate", None)
    operational = any(c.__name__ == "OperationalError" for c in type(orig).__mro__)  # psycopg's AdminShutdown, ...
    if operational and (state is None or state.startswith(UNREACHABLE_STATES)):
        return StoreUnreachable(f"cannot reach the store {url}: {reason}", where=where,
                                fix="check that the database server is running and that the `store:` URL is right")
    if state == "53100":
        return NoSpace(f"the store's server has no space left: {reason}", where=url,
                       fix="free space on the database server, then try again")
    if state in ("25006", "42501"):
        return ReadOnly(f"the store refused a write: {reason}", where=url,
                        fix="connect as a user allowed to write these tables (and not to a read-only replica)")
    return None


def retrying(fn: Callable[[], T], seconds: float) -> T:
    """``fn()``, repeated while the store is unreachable, for up to ``seconds`` (backoff in the docstring above)."""
    deadline = time.monotonic() + seconds
    delay = FIRST_DELAY_S
    while True:
        try:
            return fn()
        except StoreUnreachable as e:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            if delay == FIRST_DELAY_S:  # say why the command seems to hang, once per outage
                import warnings

                warnings.warn(HunchWarning(f"{e.what}; waiting for it up to {seconds:.0f} s (store_retry_seconds)"),
                              stacklevel=2)
            time.sleep(min(delay, left))
            delay = min(delay * 2, MAX_DELAY_S)
