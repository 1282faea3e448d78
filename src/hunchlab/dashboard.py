"""The data behind ``hunch ui``'s pages, as plain data.

The web layer parses a request, calls one function here (or one of the library's
own: ``compare.compare``, ``tree.tree``, ``predict.calibration``) and renders what comes
back, as HTML or as the page's JSON twin. Everything a page shows is therefore also
one Python call away, and is tested without a browser.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hunchlab.current import current_store
from hunchlab.errors import HunchError, NotFound, did_you_mean
from hunchlab.project import Project, find_project
from hunchlab.records import MISSING, RUN_FIELDS, filter_runs, flatten, lookup

SORTABLE_FIELDS = {"created": "created_at", **RUN_FIELDS}
RUN_STATUSES = ("running", "finished", "failed", "crashed", "interrupted")
MAX_COLUMNS = 6
# A runs page holds at most this many table rows, and a seed group shows at most its
# MEMBERS_SHOWN newest runs. At 10,000 runs in 200 groups of 50 that is 17 groups, about
# 100 KB of HTML (bench_ui.py); 3,000 rows were 1.8 MB and took 5-7 s to load.
ROWS_PER_PAGE = 100
MEMBERS_SHOWN = 5
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}
DIFF_LIMIT = 200_000  # characters of a code diff shown on the run page; the rest is in the file


# ============================================================ the runs table


def runs_table(*, where: Sequence[str] = (), search: str | None = None, status: str | None = None,
               question: str | None = None, sort: str = "-created", page: int = 1, per_page: int = ROWS_PER_PAGE,
               grouped: bool = True, project: Project | None = None) -> dict[str, Any]:
    """One page of the runs table: filtered, sorted, and (by default) grouped by seed group.

    Filtering and sorting see every run; only the page's groups get their statistics
    (mean and t-interval per metric column over all the group's runs). A page holds at most
    ``per_page`` table rows, not groups: a group shows its MEMBERS_SHOWN newest runs and how
    many more it has (40 configs of ~70 reruns once made a 1.8 MB page of 3,000 rows).
    ``sort`` is a key (``acc``, ``lr``, ``created``) with ``-`` for descending; groups sort by
    their mean, or their first run's value. An unknown key is an error, not ignored.
    """
    from hunchlab.store.web import runs_with_entries

    with current_store(project) as store:
        everything = cached_runs(store)
        with store.read() as conn:
            noted = runs_with_entries(conn)
    statuses = sorted({r["status"] for r in everything})
    if status and status not in {*RUN_STATUSES, *statuses}:
        raise HunchError(f"status={status[:40]!r} is not a run status", fix=f"statuses: {', '.join(RUN_STATUSES)}")
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
    from hunchlab.store.web import runs_fingerprint

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
        raise HunchError(f"sort={sort[:60]!r}: no run has '{key[:60]}'{did_you_mean(key, names)}",
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
               grouped: bool) -> dict[str, Any]:
    from hunchlab.intervals import mean_ci

    runs = block
    if len(block) > MEMBERS_SHOWN:  # the newest, then shown in seed order like the rest
        runs = sorted(block, key=lambda r: r["seq"], reverse=True)[:MEMBERS_SHOWN]
    runs = sorted(runs, key=lambda r: (r["seed"] is None, r["seed"] or 0, r["seq"]))
    stats = {}
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


# ============================================================ one run


def run_page(ref: str, *, log_lines: int = 40, project: Project | None = None) -> dict[str, Any]:
    """Everything the run page shows except the metric points (fetched per chart, downsampled)."""
    from hunchlab.records import get_run, log_tail, quarantine_note
    from hunchlab.store.journal import list_entries
    from hunchlab.store.web import example_counts
    from hunchlab.tree import why_node

    project = project or find_project()
    run = get_run(ref, metrics=False, examples=False, project=project)
    with current_store(project) as store, store.read() as conn:
        entries = list_entries(conn, run_ids=[run["id"]])
        examples = example_counts(conn, run["id"])
    run_dir = project.run_dir(run["id"])
    for a in run["artifacts"]:
        a["image"] = Path(a["name"]).suffix.lower() in IMAGE_TYPES
    return {
        "run": run,
        "unreadable": quarantine_note(run),
        "params": flatten(run["params"]),
        "logs": log_tail(project, run["id"], log_lines),
        "diff": _diff_lines(run_dir / "code" / "diff.patch"),
        "entries": entries,
        "examples": examples,
        "chain": why_node(run["question"], project) if run.get("question") else [],
    }


def _diff_lines(path: Path) -> dict[str, Any]:
    """A unified diff as (kind, text) lines, kind from the first character, so it can be coloured."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return {"lines": [], "truncated": False, "bytes": 0}
    shown = text[:DIFF_LIMIT]
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    lines = []
    for line in shown.splitlines():
        kind = "file" if line.startswith(("diff ", "+++", "---", "index ")) else kinds.get(line[:1], "ctx")
        lines.append((kind, line))
    return {"lines": lines, "truncated": len(text) > DIFF_LIMIT, "bytes": len(text)}


# ------------------------------------------------------------ metric series

def metric_series(run_id: str, key: str, *, lo: float | None = None, hi: float | None = None,
                  buckets: int = 1000, project: Project | None = None) -> dict[str, Any]:
    """One metric of one run for a chart ``buckets`` pixels wide: every point with
    ``lo <= step <= hi``, or the M4 selection (first, last, min, max per bucket) when
    there are more than ``4 * buckets``.

    Up to ``lod.MIN_POINTS`` (or ``4 * buckets``) points are read and thinned in numpy;
    a longer range is read from the metric pyramid that folding keeps (``store.lod``):
    fewer than ``8 * buckets`` rows plus a few dozen at the edges, whatever the metric's
    length, so a 10-million-point metric charts as fast as a 10-thousand-point one, and
    zooming in refetches the narrower range until it is shown point for point.
    """
    from hunchlab.downsample import bucket_bounds, m4, m4_of_pieces
    from hunchlab.store import lod
    from hunchlab.store import web as q

    if not 1 <= buckets <= 20_000:
        raise HunchError(f"buckets={buckets} must be between 1 and 20000")
    with current_store(project) as store, store.read() as conn:
        run_id = store.resolve_run(run_id)
        first, last = lod.step_span(conn, run_id, key)
        if first is None or last is None:
            known = sorted(store.get_run(run_id, metrics=False, examples=False)["metrics"])
            raise NotFound(f"run {run_id} logged no metric '{key}'{did_you_mean(key, known)}",
                           fix=f"logged: {', '.join(known) or 'nothing yet'}")
        start = first if lo is None else max(first, math.ceil(lo))
        stop = last if hi is None else min(last, math.floor(hi))
        cap = max(4 * buckets, lod.MIN_POINTS)
        n = q.count_points(conn, run_id, key, start, stop, cap + 1)
        if n <= cap:
            steps, values = q.metric_range(conn, run_id, key, start, stop)
            keep = m4(steps, [math.nan if v is None else v for v in values], buckets).tolist()
            xs, ys = [steps[i] for i in keep], [values[i] for i in keep]
        else:
            kept = m4_of_pieces(lod.pieces(conn, run_id, key, start, stop, buckets),
                                bucket_bounds(start, stop, buckets))
            xs, ys = [p[0] for p in kept], [p[1] for p in kept]
    return {"run": run_id, "key": key, "first": first, "last": last, "lo": start, "hi": stop,
            "in_range": n if n <= cap else None, "shown": len(xs),
            "downsampled": n > len(xs), "method": "m4" if n > len(xs) else None, "x": xs, "y": ys}


# ------------------------------------------------------------ artifacts and examples


def artifact_file(run_id: str, name: str, *, project: Project | None = None) -> Path:
    """The file of a recorded artifact, refusing anything that resolves outside the run's
    ``artifacts/`` folder (``..`` in the name, an absolute name, a symlink pointing out)."""
    from hunchlab.records import get_run

    project = project or find_project()
    run = get_run(run_id, metrics=False, examples=False, project=project)
    if name not in {a["name"] for a in run["artifacts"]}:
        raise NotFound(f"run {run['id']} has no artifact '{name}'", fix="the run page lists its artifacts")
    folder = (project.run_dir(run["id"]) / "artifacts").resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise NotFound(f"artifact '{name}' of run {run['id']} is not a file inside the run's folder",
                       fix="the run page lists its artifacts")
    return path


def examples_page(run_id: str, *, correct: bool | None = None, search: str | None = None, page: int = 1,
                  per_page: int = 50, project: Project | None = None) -> dict[str, Any]:
    """A page of a run's example records, filtered by correctness and by text."""
    from hunchlab.records import get_run
    from hunchlab.store.web import example_counts, example_page

    project = project or find_project()
    run = get_run(run_id, metrics=False, examples=False, project=project)
    with current_store(project) as store, store.read() as conn:
        total, rows = example_page(conn, run["id"], correct=correct, search=search,
                                   offset=(max(1, page) - 1) * per_page, limit=per_page)
        counts = example_counts(conn, run["id"])
    return {"run": {k: run[k] for k in ("id", "name", "status")}, "counts": counts, "matched": total,
            "page": max(1, page), "pages": max(1, math.ceil(total / per_page)), "per_page": per_page,
            "correct": correct, "search": search, "examples": rows}


# ============================================================ journal


def journal_entries(*, search: str | None = None, kind: str | None = None, run: str | None = None,
                    project: Project | None = None) -> dict[str, Any]:
    """Journal entries, newest first (or best match first for ``search``), optionally about one run."""
    from hunchlab import journal

    found = journal.search(search, project=project) if search else journal.entries(kind=kind, project=project)
    if search and kind:
        found = [e for e in found if e["kind"] == kind]
    if run:
        found = [e for e in found if e["run_id"] == run]
    return {"entries": found, "search": search, "kind": kind, "run": run, "kinds": list(journal.KINDS)}


# ============================================================ failure triage


def triage_page(ref: str, *, position: int = 0, project: Project | None = None) -> dict[str, Any]:
    """One example of the run's stored failure sample, the sample with its tags, and the
    categories largest first: the page ``hunch failures`` is on a terminal.

    Only reads: with no sample stored yet it says so (``sample`` is None) with what a draw
    needs, and ``draw_failures`` (a POST) stores one. A GET that drew let any page on the
    machine replace the sample with an ``<img>`` tag.
    """
    from hunchlab import triage
    from hunchlab.store.triage import load_sample
    from hunchlab.store.web import example_counts

    with current_store(project) as store, store.read() as conn:
        run_id = store.resolve_run(ref)
        stored = load_sample(conn, run_id) is not None
        if not stored:
            return {"run": {"id": run_id}, "sample": None, "examples": example_counts(conn, run_id),
                    "default_size": triage.DEFAULT_SAMPLE}
    drawn = triage.failures(run_id, resume=True, project=project)
    with triage.open_failures(drawn.run_id, resume=True, project=project) as session:
        position = min(max(0, position), len(session) - 1)
        example = session.example(position)
        progress, names, items = session.progress(), list(session.categories), session.items
    target, output = example.get("target"), example.get("output")
    diff = triage.text_diff(target, output) if isinstance(target, str) and isinstance(output, str) else None
    return {"run": {"id": drawn.run_id}, "sample": {k: v for k, v in drawn.to_dict().items() if k != "items"},
            "items": items, "position": position, "example": example, "diff": diff, "progress": progress,
            "categories": names, "report": triage.categories(drawn.run_id, project=project).to_dict()}


def draw_failures(ref: str, *, sample: int, seed: int = 0, by: str | None = None,
                  project: Project | None = None) -> dict[str, Any]:
    """Draw and store a failure sample (replacing the stored one; its tags are kept)."""
    from hunchlab import triage

    drawn = triage.failures(ref, sample=sample, seed=seed, by=by, project=project).to_dict()
    return {k: v for k, v in drawn.items() if k != "items"}


def triage_action(ref: str, position: int, action: str, *, category: str | None = None, note: str | None = None,
                  project: Project | None = None) -> int:
    """Tag (``tag``), skip (``skip``) or untag (``clear``) the sample's example at ``position``,
    saved as ``hunch failures`` saves it; returns the position to show next."""
    from hunchlab import triage

    with triage.open_failures(ref, resume=True, project=project) as session:
        if not 0 <= position < len(session):
            raise NotFound(f"position {position} is outside the sample of {len(session)}")
        if action == "tag":
            session.tag(position, category or "")
            if note:
                session.note(position, note)
        elif action == "skip":
            session.skip(position)
        elif action == "clear":
            session.untag(position)
            return position
        else:
            raise HunchError(f"unknown action {action!r}", fix="tag, skip or clear")
        return min(position + 1, len(session) - 1)
