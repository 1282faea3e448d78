"""The files of a sweep's code state (its diff and untracked files), kept in the store by content.

A sweep's code is its commit plus what was not committed. The commit any clone can
fetch; the rest lived only in the folder of the clone that started the sweep, so a
resume from another clone ran the commit without the diff and said otherwise. Kept
here, every project folder on the store can rebuild the exact tree. Rows are keyed by
sha256, so a file stored by many sweeps (the same diff) is stored once.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Connection, select

from hunchlab.store import schema


def put(conn: Connection, data: bytes) -> str:
    """Store ``data`` (once per content); returns its sha256."""
    digest = hashlib.sha256(data).hexdigest()
    values = {"sha256": digest, "size": len(data), "data": data, "created_at": time.time()}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        conn.execute(insert(schema.code_files).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(schema.code_files.insert().prefix_with("OR IGNORE").values(**values))
    return digest


def get(conn: Connection, digest: str) -> bytes | None:
    """The file with this sha256, or None when the store does not hold it."""
    data = conn.execute(select(schema.code_files.c.data).where(schema.code_files.c.sha256 == digest)).scalar()
    return None if data is None else bytes(data)
