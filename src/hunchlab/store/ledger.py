"""The ledger: everything a person typed, appended to ``.hunch/ledger.jsonl`` as it is committed.

What runs logged lives twice, in the run folders (the source of truth) and in the
store. What people typed (predictions, forecasts, paper guesses, journal entries,
tree nodes, failure tags, sweep plans) lived only in the store, so a lost or
damaged ``store.db`` lost it. The ledger keeps a second copy as row operations, and
``hunch store rebuild`` replays it before folding the run folders in again.

Every write to a ledger table goes through :func:`insert`, :func:`update` or
:func:`delete`, which run the statement and queue its line on the connection;
``Store.write()`` appends the queued lines in one ``write()`` just before the
transaction commits (a ledger that cannot be written rolls the transaction back;
one that raised never reaches the ledger). Lines are whole rows and the keys of
the rows they change, so a replay gives the same ids, texts and timestamps.

Format (JSON lines; readers never depend on field order)::

    {"hunch_ledger": 1}
    {"op": "insert", "table": "journal", "row": {"id": 3, "kind": "note", ...}}
    {"op": "update", "table": "predictions", "key": {"id": 7}, "set": {"status": "resolved", ...}}
    {"op": "delete", "table": "tags", "key": {"run_id": "calm-otter-4", "example_id": "q17"}}

A project created before the ledger gets one the first time its store is opened for
writing: a snapshot of these tables, written whole before it is linked into place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, and_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update

from hunchlab.errors import StoreError, machine_error
from hunchlab.rundir import tmp_beside
from hunchlab.store import schema

VERSION = 1
FILENAME = "ledger.jsonl"
TABLES: dict[str, Table] = {t.name: t for t in (schema.predictions, schema.readings, schema.nodes, schema.journal,
                                                 schema.tags, schema.sweeps, schema.sweep_trials)}
PENDING = "hunch_ledger_lines"  # key in Connection.info: the lines of the open transaction


# -- writing through the ledger ----------------------------------------------------------------------
def insert(conn: Connection, table: Table, values: dict[str, Any]) -> Any:
    """Insert one row; returns its (first) primary key, as assigned by the database if not given."""
    key = conn.execute(table.insert().values(**values)).inserted_primary_key
    assert key is not None
    row = {**values, **{c.name: v for c, v in zip(table.primary_key.columns, key, strict=True)}}
    _queue(conn, {"op": "insert", "table": table.name, "row": row})
    return key[0]


def update(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any], *,
           only_if: Any = None) -> int:
    """Update the row with ``key`` (with ``only_if``: only if it also meets that condition, a
    compare-and-set); returns the rows changed. A change that changed nothing is not logged."""
    where = _match(table, key) if only_if is None else and_(_match(table, key), only_if)
    changed = conn.execute(sql_update(table).where(where).values(**values)).rowcount
    if changed:
        _queue(conn, {"op": "update", "table": table.name, "key": key, "set": values})
    return int(changed)


def delete(conn: Connection, table: Table, key: dict[str, Any]) -> None:
    conn.execute(sql_delete(table).where(_match(table, key)))
    _queue(conn, {"op": "delete", "table": table.name, "key": key})


def _match(table: Table, key: dict[str, Any]) -> Any:
    return and_(*(table.c[k] == v for k, v in key.items()))


def _queue(conn: Connection, line: dict[str, Any]) -> None:
    conn.info.setdefault(PENDING, []).append(line)


def flush(conn: Connection, path: Path, *, fsync: bool) -> None:
    """Append the transaction's queued lines (called just before it commits)."""
    lines = conn.info.pop(PENDING, None)
    if lines:
        _append(path, "".join(json.dumps(line, default=str) + "\n" for line in lines), fsync=fsync)


def discard(conn: Connection) -> None:
    conn.info.pop(PENDING, None)


def _append(path: Path, text: str, *, fsync: bool) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            data = memoryview(text.encode())
            while data:
                data = data[os.write(fd, data):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise machine_error(e, "writing the ledger (nothing was saved)", str(path)) or e from None


def ensure(conn: Connection, path: Path) -> None:
    """Start the ledger of a store that has none: a snapshot of the ledger tables as they are."""
    if path.exists():
        return
    lines = [json.dumps({"hunch_ledger": VERSION})]
    for table in TABLES.values():
        for row in conn.execute(select(table)):
            lines.append(json.dumps({"op": "insert", "table": table.name, "row": dict(row._mapping)}, default=str))
    tmp = tmp_beside(path)
    try:
        tmp.write_text("\n".join(lines) + "\n")
        os.link(tmp, path)  # never replaces a ledger another process started meanwhile
    except FileExistsError:
        pass
    except OSError as e:
        raise machine_error(e, "starting the ledger", str(path)) or e from None
    finally:
        tmp.unlink(missing_ok=True)


# -- reading it back ---------------------------------------------------------------------------------
def read(path: Path) -> list[dict[str, Any]]:
    """The ledger's operations in order (a torn last line, cut by a crash mid-write, is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    ops = []
    for number, raw in enumerate(data[: data.rfind(b"\n") + 1].splitlines(), 1):
        try:
            line = json.loads(raw)
        except ValueError:
            raise StoreError(f"line {number} of the ledger is not JSON", where=str(path),
                             fix="remove or repair that line (every other line is kept), then run the command again") \
                from None
        if "hunch_ledger" in line:
            if line["hunch_ledger"] > VERSION:
                raise StoreError(f"the ledger's format {line['hunch_ledger']} is newer than this hunchlab's "
                                 f"({VERSION})", where=str(path), fix="upgrade: pip install -U hunchlab")
        elif line.get("table") in TABLES:
            ops.append(line)
    return ops


def replay(conn: Connection, ops: list[dict[str, Any]]) -> None:
    """Apply the operations to a store (a rebuild's new one). An insert replaces a row with its key,
    so two snapshots, or a snapshot and the insert it already holds, give one row."""
    for op in ops:
        table = TABLES[op["table"]]
        if op["op"] == "insert":
            row = op["row"]
            conn.execute(sql_delete(table).where(_match(table, _key(table, row))))
            conn.execute(table.insert().values(**row))
        elif op["op"] == "update":
            conn.execute(sql_update(table).where(_match(table, op["key"])).values(**op["set"]))
        elif op["op"] == "delete":
            conn.execute(sql_delete(table).where(_match(table, op["key"])))
    if conn.dialect.name == "postgresql":  # explicit ids leave the serial counters behind
        for table in TABLES.values():
            column = table.c.get("id")
            if column is not None and column.autoincrement is True:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)")


def rows(ops: list[dict[str, Any]]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """What the store's ledger tables should hold after ``ops``: ``{table: {key: row}}`` (for ``store check``)."""
    state: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {name: {} for name in TABLES}
    for op in ops:
        table = TABLES[op["table"]]
        if op["op"] == "insert":
            state[table.name][tuple(_key(table, op["row"]).values())] = dict(op["row"])
        else:
            key = tuple(op["key"][c.name] for c in table.primary_key.columns)
            if op["op"] == "delete":
                state[table.name].pop(key, None)
            elif key in state[table.name]:
                state[table.name][key].update(op["set"])
    return state


def keys_in_store(conn: Connection, table: Table) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in conn.execute(select(*table.primary_key.columns))}


def _key(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    return {c.name: row[c.name] for c in table.primary_key.columns}
