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

from hunchlab.errors import HunchError, NotFound, did_you_mean
from hunchlab.project import Project, find_project
from hunchlab.records import RUN_FIELDS, _MISSING, _store, filter_runs, flatten, lookup

SORTABLE_FIELDS = {"created": "created_at", **RUN_FIELDS}
MAX_COLUMNS = 6
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}
DIFF_LIMIT = 200_000  # characters of a code diff shown on the run page; the rest is in the file


# ============================================================ the runs table


def runs_table(*, where: Sequence[str] = (), search: str | None = None, status: str | None = None,
               question: str | None = None, sort: str = "-created", page: int = 1, per_page: int = 50,
               grouped: bool = True, project: Project | None = None) -> dict[str, Any]:
    """One page of the runs table: filtered, sorted, and (by default) grouped by seed group.

    Filtering and sorting see every run; only the page's groups get their statistics
    (mean and t-interval per metric column over the group's runs), so 10,000 runs cost
    one listing plus 50 small intervals. ``sort`` is a key (``acc``, ``lr``, ``created``)
    with ``-`` for descending; groups sort by their mean, or their first run's value.
    """
    from hunchlab.store.web import runs_with_entries

    with _store(project) as store:
        everything = _listing(store)
        with store.read() as conn:
            noted = runs_with_entries(conn)
    statuses = sorted({r["status"] for r in everything})
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
    key, descending = _sort_key(sort)
    blocks = _group(runs) if grouped else [[r] for r in runs]
    blocks.sort(key=lambda b: _order(b, key), reverse=descending)
    if descending:  # missing values last either way
        blocks.sort(key=lambda b: _order(b, key)[0] == 1)
    pages = max(1, math.ceil(len(blocks) / per_page))
    page = min(max(1, page), pages)
    shown = blocks[(page - 1) * per_page: page * per_page]
    return {
        "total": len(everything), "matched": len(runs), "groups": len(blocks), "grouped": grouped,
        "page": page, "pages": pages, "per_page": per_page, "sort": sort,
        "where": list(where), "search": search, "status": status, "question": question,
        "statuses": statuses, "questions": questions, "params": params, "metrics": metrics,
        "rows": [_block_row(b, params, metrics, noted, grouped) for b in shown],
    }


_LISTING: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
_LISTING_LOCK = threading.Lock()


def _listing(store: Any) -> list[dict[str, Any]]:
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
    runs = store.list_runs()
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


def _sort_key(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    return sort.lstrip("-+") or "created", descending


def _group(runs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
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
    values = [v for r in block if (v := _value(r, key)) is not _MISSING and v is not None]
    numbers = [float(v) for v in values if _is_number(v)]
    if numbers:
        return 0, 0, sum(numbers) / len(numbers)
    if values:
        return 0, 1, str(values[0])
    return 1, 0, 0


def _block_row(block: list[dict[str, Any]], params: list[str], metrics: list[str], noted: set[str],
               grouped: bool) -> dict[str, Any]:
    from hunchlab.stats import mean_ci

    runs = sorted(block, key=lambda r: (r["seed"] is None, r["seed"] or 0, r["seq"]))
    stats = {}
    if grouped and len(runs) > 1:
        for m in metrics:
            vals = [float(v) for r in runs if _is_number(v := r["summary"].get(m)) and math.isfinite(float(v))]
            if vals:
                ci = mean_ci(vals)
                stats[m] = {"mean": ci.mean, "lo": ci.lo, "hi": ci.hi, "n": ci.n}
    return {
        "group": runs[0]["group_key"], "n": len(runs), "stats": stats,
        "runs": [{"id": r["id"], "seq": r["seq"], "name": r["name"], "status": r["status"], "seed": r["seed"],
                  "question": r["question"], "spec": r["spec_name"], "created_at": r["created_at"],
                  "ended_at": r["ended_at"], "noted": r["id"] in noted,
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
    with _store(project) as store, store.read() as conn:
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
    with _store(project) as store, store.read() as conn:
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
    with _store(project) as store, store.read() as conn:
        total, rows = example_page(conn, run["id"], correct=correct, search=search,
                                   offset=(max(1, page) - 1) * per_page, limit=per_page)
        counts = example_counts(conn, run["id"])
    return {"run": {k: run[k] for k in ("id", "name", "status")}, "counts": counts, "matched": total,
            "page": max(1, page), "pages": max(1, math.ceil(total / per_page)), "per_page": per_page,
            "correct": correct, "search": search, "examples": rows}


# ============================================================ compare, journal


def compare_curves(selectors: Sequence[str], metrics: Sequence[str] = (), *,
                   project: Project | None = None) -> dict[str, Any]:
    """Per logged metric, each selected group's mean curve over its seeds with a 95% band from
    ``plots.BAND_FROM`` seeds on (None below), on one shared x axis (what overlaid charts need)."""
    import numpy as np

    from hunchlab.compare import labels_for, pick_sides
    from hunchlab.plots import _learning_rows
    from hunchlab.selectors import resolve
    from hunchlab import readsql as q

    project = project or find_project()
    with _store(project) as store, store.read() as conn:
        picked = pick_sides(resolve(selectors, q.all_runs(conn), store.resolve_run))
        ids = [r["id"] for _, g in picked for r in g.runs]
        logged = sorted({k for values in q.last_values(conn, ids).values() for k in values})
        wanted = [m for m in metrics if m in logged] if metrics else logged
        history = q.histories(conn, ids, wanted)
    labels = labels_for(picked)
    series = [{"label": label, "runs": [{"run_id": r["id"], "metrics": {
        m: [(step, v) for step, _, v in history.get(r["id"], {}).get(m, ())] for m in wanted}} for r in g.runs]}
        for label, (_, g) in zip(labels, picked, strict=True)]
    charts = []
    for m in wanted:
        try:
            rows = _learning_rows(series, m, smooth=0, band="ci")
        except HunchError:
            continue
        rows = [row for row in rows if row["line"] == "mean"]  # the dashboard draws means (and bands from 5 seeds)
        xs = sorted({row["step"] for row in rows})
        index = {x: i for i, x in enumerate(xs)}
        lines = []
        for label in labels:
            mean, lo, hi = ([None] * len(xs) for _ in range(3))
            for row in rows:
                if row["group"] == label:
                    i = index[row["step"]]
                    mean[i], lo[i], hi[i] = (_finite(row.get(k)) for k in ("value", "band_lo", "band_hi"))
            lines.append({"label": label, "mean": mean, "lo": lo, "hi": hi})
        charts.append({"metric": m, "x": [float(x) for x in np.asarray(xs)], "groups": lines})
    return {"labels": labels, "charts": charts}


def _finite(v: Any) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


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


def triage_page(ref: str, *, position: int = 0, sample: int | None = None, seed: int = 0, by: str | None = None,
                project: Project | None = None) -> dict[str, Any]:
    """One example of the run's failure sample, the sample with its tags, and the categories
    largest first: the page ``hunch failures`` is on a terminal.

    Without ``sample`` the stored sample is resumed (the one the CLI drew, if any), else a
    default one is drawn; with it, a sample of that size is drawn or reused.
    """
    from hunchlab import triage

    if sample is None:
        try:
            drawn = triage.failures(ref, resume=True, project=project)
        except NotFound:
            raise
        except HunchError:  # no sample stored yet (or no examples: drawing says so again)
            drawn = triage.failures(ref, project=project)
    else:
        drawn = triage.failures(ref, sample=sample, seed=seed, by=by, project=project)
    with triage.open_failures(drawn.run_id, resume=True, project=project) as session:
        position = min(max(0, position), len(session) - 1)
        example = session.example(position)
        progress, names, items = session.progress(), list(session.categories), session.items
    target, output = example.get("target"), example.get("output")
    diff = triage.text_diff(target, output) if isinstance(target, str) and isinstance(output, str) else None
    return {"run": {"id": drawn.run_id}, "sample": {k: v for k, v in drawn.to_dict().items() if k != "items"},
            "items": items, "position": position, "example": example, "diff": diff, "progress": progress,
            "categories": names, "report": triage.categories(drawn.run_id, project=project).to_dict()}


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
