"""Tags: one category (and an optional note) per example per run, given one at a time or from a CSV.

A tag is saved the moment it is given, and carries across runs by example id: a later run's view
shows how the same example was tagged before. ``hunch tag`` and the MCP tool write here; an agent
tags with ``keep_others``, so it adds to the record and never overwrites a person's tag. A CSV is
all or nothing: every id is checked before anything is written.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.errors import BadInput, NotFound, Refused, did_you_mean
from hunchlab.triage.examples import open_run, require_examples
from hunchlab.who import label

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hunchlab.project import Project


def category_name(name: str) -> str:
    """A category as it is stored: whitespace collapsed, refusing an empty name."""
    name = " ".join(str(name).split())
    if not name:
        raise BadInput("a category needs a name", fix="e.g. hunch tag RUN q17 'wrong units'")
    return name


def tag(ref: str, example_id: str, category: str | None = None, *, note: str | None = None, clear: bool = False,
        agent: str | None = None, keep_others: bool = False, project: Project | None = None) -> dict[str, Any]:
    """Tag one example of a run with a category and/or a note; ``clear`` removes both.

    Giving only a category keeps the example's note, and the other way round.
    ``agent`` records who tagged it; with ``keep_others`` a tag someone else gave is
    never replaced (an agent adds to the record, it does not overwrite yours).
    Returns ``{"run_id", "example_id", "category", "note", "agent"}``.
    """
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    if category is None and note is None and not clear:
        raise BadInput("nothing to tag with", fix="give a CATEGORY, --note TEXT, or --clear")
    store, run_id = open_run(ref, project)
    with store:
        with store.read() as conn:
            require_examples(conn, run_id)
            if not q.existing_ids(conn, run_id, [example_id]):
                raise _unknown_example(conn, run_id, example_id)
            old = q.get_tag(conn, run_id, example_id) or {"category": None, "note": None, "agent": agent}
        if keep_others and old["agent"] != agent:
            raise Refused(f"example '{example_id}' of run {run_id} is already tagged "
                          f"{old['category'] or old['note']!r} by {label(old['agent'])}",
                          fix="tags made by someone else are kept as they are: write a journal note instead")
        new = {"category": None, "note": None} if clear else {
            "category": old["category"] if category is None else category_name(category),
            "note": old["note"] if note is None else (note.strip() or None)}
        with store.write() as conn:
            q.set_tag(conn, run_id, example_id, **new, agent=agent)
    return {"run_id": run_id, "example_id": example_id, **new, "agent": agent}


def _unknown_example(conn: Connection, run_id: str, example_id: str, where: str | None = None) -> NotFound:
    """No such example in the run, with the closest of the ids that share its first half."""
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    near = q.ids_like(conn, run_id, example_id[: max(1, len(example_id) // 2)])
    return NotFound(f"no example '{example_id}' in run {run_id}{did_you_mean(example_id, near)}", where=where,
                    fix=f"`hunch examples {run_id}` lists its examples")


def tag_from_csv(ref: str, path: str | Path, *, project: Project | None = None) -> int:
    """Tag many examples from a CSV with columns ``id`` (or ``example_id``), ``category`` and optionally ``note``.

    All or nothing: every id is checked before anything is written. Rows with neither
    a category nor a note are skipped. Returns how many examples were tagged.
    """
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    rows, line_of = _read_tag_csv(Path(path))
    store, run_id = open_run(ref, project)
    with store:
        with store.read() as conn:
            require_examples(conn, run_id)
            found = q.existing_ids(conn, run_id, list(rows))
            missing = [i for i in rows if i not in found]
            if missing:
                more = f" (and {len(missing) - 1} more unknown ids)" if len(missing) > 1 else ""
                err = _unknown_example(conn, run_id, missing[0], where=f"{path}:{line_of[missing[0]]}")
                raise NotFound(err.what + more, where=err.where, fix=err.fix)
        with store.write() as conn:
            for example_id, new in rows.items():
                q.set_tag(conn, run_id, example_id, **new)
    return len(rows)


def _read_tag_csv(path: Path) -> tuple[dict[str, dict[str, str | None]], dict[str, int]]:
    """The CSV's tags by example id (rows with neither category nor note left out), and each id's line."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            id_col = next((c for c in ("id", "example_id") if c in columns), None)
            cat_col = next((c for c in ("category", "tag") if c in columns), None)
            if id_col is None or cat_col is None:
                raise BadInput(f"needs columns 'id' and 'category' (it has: {', '.join(columns) or 'none'})",
                               where=str(path), fix="e.g. a header line: id,category,note")
            rows: dict[str, dict[str, str | None]] = {}
            line_of: dict[str, int] = {}
            for raw in reader:
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
                category, note = row.get(cat_col) or None, row.get("note") or None
                if row.get(id_col) and (category or note):
                    rows[row[id_col]] = {"category": category and category_name(category), "note": note}
                    line_of[row[id_col]] = reader.line_num
    except FileNotFoundError:
        raise NotFound("file not found", where=str(path), fix="give the path of a CSV with columns id,category") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise BadInput(f"not a readable CSV: {e}", where=str(path), fix="save it as UTF-8 CSV") from None
    return rows, line_of
