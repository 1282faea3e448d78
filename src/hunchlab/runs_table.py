"""The dashboard's runs page as plain data: every run filtered, sorted, grouped by seed group, one page.

Also the run listing the sweep page reads (``cached_runs``: parsed once per change of the
runs table, since parsing 10,000 runs is most of a page's time) and the grouping it shares
(``seed_groups``). It lives in the library, not ``web/``, because it reads the store, which the
surfaces never import, and so that a page's contents are one Python call away and tested
without a browser.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any, TypedDict

from hunchlab.current import current_store
from hunchlab.errors import BadInput, did_you_mean
from hunchlab.intervals import mean_ci
from hunchlab.project import Project
from hunchlab.run_records import MISSING, RUN_FIELDS, filter_runs, flatten, lookup
from hunchlab.store.web import runs_fingerprint, runs_with_entries

SORTABLE_FIELDS = {"created": "created_at", **RUN_FIELDS}
RUN_STATUSES = ("running", "finished", "failed", "crashed", "interrupted")
MAX_COLUMNS = 6
# A runs page holds at most this many table rows, and a seed group shows at most its
# MEMBERS_SHOWN newest runs. At 10,000 runs in 200 groups of 50 that is 17 groups, about
# 100 KB of HTML (bench_ui.py); 3,000 rows were 1.8 MB and took 5-7 s to load.
ROWS_PER_PAGE = 100
MEMBERS_SHOWN = 5


class TableRun(TypedDict):
    """One run as a row of the table: its identity and state, whether the journal mentions it,
    who started it, and its values of the table's param and metric columns (None: it has none)."""

    id: str
    seq: int
    name: str | None
    status: str
    seed: int | None
    question: str | None
    spec: str | None
    created_at: float
    ended_at: float | None
    noted: bool
    agent: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]


class TableRow(TypedDict):
    """A seed group (or a lone run): its key, how many runs it has and how many are not shown, the
    mean and t-interval per metric column (``{metric: {mean, lo, hi, n}}``, lo and hi None without an
    interval; empty for one run), its runs."""

    group: str | None
    n: int
    more: int
    stats: dict[str, dict[str, float | None]]
    runs: list[TableRun]


class RunsTable(TypedDict):
    """The runs page's data (``/`` and ``/runs.json``): counts, the page, the filters and sort as
    applied, the choices for the filter menus, the param and metric columns, and the rows."""

    total: int
    matched: int
    groups: int
    grouped: bool
    page: int
    pages: int
    per_page: int
    sort: str
    where: list[str]
    search: str | None
    status: str | None
    question: str | None
    statuses: list[str]
    questions: list[str]
    params: list[str]
    metrics: list[str]
    rows: list[TableRow]


def runs_table(*, where: Sequence[str] = (), search: str | None = None, status: str | None = None,
               question: str | None = None, sort: str = "-created", page: int = 1, per_page: int = ROWS_PER_PAGE,
               grouped: bool = True, project: Project | None = None) -> RunsTable:
    """One page of the runs table: filtered, sorted, and (by default) grouped by seed group.

    Filtering and sorting see every run; only the page's groups get their statistics
    (mean and t-interval per metric column over all the group's runs). A page holds at most
    ``per_page`` table rows, not groups: a group shows its MEMBERS_SHOWN newest runs and how
    many more it has (40 configs of ~70 reruns once made a 1.8 MB page of 3,000 rows).
    ``sort`` is a key (``acc``, ``lr``, ``created``) with ``-`` for descending; groups sort by
    their mean, or their first run's value. An unknown key is an error, not ignored.
    """
    with current_store(project) as store:
        everything = cached_runs(store)
        with store.read() as conn:
            noted = runs_with_entries(conn)
    statuses = sorted({r["status"] for r in everything})
    if status and status not in {*RUN_STATUSES, *statuses}:
        raise BadInput(f"status={status[:40]!r} is not a run status", fix=f"statuses: {', '.join(RUN_STATUSES)}")
    questions = sorted({r["question"] for r in everything if r["question"]})
    runs = filter_runs(everything, list(where))
    if status:
        runs = [r for r in runs if r["status"] == status]
    if question:
        runs = [r for r in runs if r["question"] == question]
    if search:
        needle = search.lower()
        runs = [r for r in runs if any(needle in str(r.get(k) or "").lower()
                                       for k in ("id", "name", "spec_name", "question"))]
    params, metrics = _columns(runs)
    key, descending = _sort_key(sort, everything)
    blocks = seed_groups(runs) if grouped else [[r] for r in runs]
    blocks.sort(key=lambda b: _order(b, key), reverse=descending)
    if descending:  # missing values last either way
        blocks.sort(key=lambda b: _order(b, key)[0] == 1)
    bounds = _pages(blocks, per_page)
    page = min(max(1, page), len(bounds))
    shown = blocks[bounds[page - 1][0]:bounds[page - 1][1]]
    return {
        "total": len(everything), "matched": len(runs), "groups": len(blocks), "grouped": grouped,
        "page": page, "pages": len(bounds), "per_page": per_page, "sort": sort,
        "where": list(where), "search": search, "status": status, "question": question,
        "statuses": statuses, "questions": questions, "params": params, "metrics": metrics,
        "rows": [_block_row(b, params, metrics, noted, grouped) for b in shown],
    }


def _pages(blocks: list[list[dict[str, Any]]], rows: int) -> list[tuple[int, int]]:
    """Each page's [start, stop) in ``blocks``, packed so a page has at most ``rows`` table rows
    (a group costs a head row plus the members it shows; one larger than ``rows`` has a page
    to itself)."""
    bounds, start, used = [], 0, 0
    for i, block in enumerate(blocks):
        cost = 1 if len(block) == 1 else 1 + min(len(block), MEMBERS_SHOWN)
        if used and used + cost > rows:
            bounds.append((start, i))
            start, used = i, 0
        used += cost
    bounds.append((start, len(blocks)))
    return bounds


_LISTING: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
_LISTING_LOCK = threading.Lock()


def cached_runs(store: Any) -> list[dict[str, Any]]:
    """``store.list_runs()``, kept between calls until the runs table changes: parsing 10,000
    runs' params and summaries is most of a page's time, checking for a change is not."""
    with store.read() as conn:
        fingerprint = runs_fingerprint(conn)
    place = str(store.project.hunch_dir)
    with _LISTING_LOCK:
        held = _LISTING.get(place)
    if held and held[0] == fingerprint:
        return held[1]
    runs: list[dict[str, Any]] = store.list_runs()
    with _LISTING_LOCK:
        _LISTING[place] = (fingerprint, runs)
    return runs


def _columns(runs: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Params whose value differs across the runs, and numeric summary metrics, first seen first."""
    values: dict[str, set[str]] = {}
    for r in runs:
        for k, v in flatten(r["params"]).items():
            values.setdefault(k, set()).add(repr(v))
    params = [k for k, seen in values.items() if len(seen) > 1][:MAX_COLUMNS]
    metrics: dict[str, None] = {}
    for r in runs:
        metrics.update((k, None) for k, v in r["summary"].items() if _is_number(v))
    return params, list(metrics)[:MAX_COLUMNS]


def _sort_key(sort: str, runs: list[dict[str, Any]]) -> tuple[str, bool]:
    """``-acc`` → ("acc", descending); a key no run has is refused, with the close ones."""
    descending = sort.startswith("-")
    key = sort.lstrip("-+") or "created"
    if key in SORTABLE_FIELDS:
        return key, descending
    known: dict[str, None] = {}
    for r in runs:
        known.update(dict.fromkeys(flatten(r["params"])))
        known.update(dict.fromkeys(r["summary"]))
    if key not in known:
        names = sorted({*SORTABLE_FIELDS, *known})
        raise BadInput(f"sort={sort[:60]!r}: no run has '{key[:60]}'{did_you_mean(key, names)}",
                         fix=f"sort by a column: {', '.join(names[:20])} (with - for descending)")
    return key, descending


def seed_groups(runs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The runs by seed group, first seen first (a run without a group is a group of its own)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_key.setdefault(r["group_key"] or r["id"], []).append(r)
    return list(by_key.values())


def _value(run: dict[str, Any], key: str) -> Any:
    if key in SORTABLE_FIELDS:
        return run.get(SORTABLE_FIELDS[key])
    return lookup(run, key)


def _order(block: list[dict[str, Any]], key: str) -> tuple[int, int, Any]:
    """A sortable triple: (missing?, kind, value); numbers sort apart from text."""
    values = [v for r in block if (v := _value(r, key)) is not MISSING and v is not None]
    numbers = [float(v) for v in values if _is_number(v)]
    if numbers:
        return 0, 0, sum(numbers) / len(numbers)
    if values:
        return 0, 1, str(values[0])
    return 1, 0, 0


def _block_row(block: list[dict[str, Any]], params: list[str], metrics: list[str], noted: set[str],
               grouped: bool) -> TableRow:
    runs = block
    if len(block) > MEMBERS_SHOWN:  # the newest, then shown in seed order like the rest
        runs = sorted(block, key=lambda r: r["seq"], reverse=True)[:MEMBERS_SHOWN]
    runs = sorted(runs, key=lambda r: (r["seed"] is None, r["seed"] or 0, r["seq"]))
    stats: dict[str, dict[str, float | None]] = {}
    if grouped and len(block) > 1:
        for m in metrics:
            vals = [float(v) for r in block if _is_number(v := r["summary"].get(m)) and math.isfinite(float(v))]
            if vals:
                ci = mean_ci(vals)
                stats[m] = {"mean": ci.mean, "lo": ci.lo, "hi": ci.hi, "n": ci.n}
    return {
        "group": runs[0]["group_key"], "n": len(block), "more": len(block) - len(runs), "stats": stats,
        "runs": [{"id": r["id"], "seq": r["seq"], "name": r["name"], "status": r["status"], "seed": r["seed"],
                  "question": r["question"], "spec": r["spec_name"], "created_at": r["created_at"],
                  "ended_at": r["ended_at"], "noted": r["id"] in noted, "agent": r.get("agent"),
                  "params": {k: flatten(r["params"]).get(k) for k in params},
                  "metrics": {k: r["summary"].get(k) for k in metrics}} for r in runs],
    }


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
