"""Queries for predictions, forecasts and paper readings, and resolving run predictions.

A run's predictions arrive as events (written before the entry starts, so they are
locked by construction) and are resolved here, in the same transaction that folds
the run's end: against the summary metric, else the last logged value; for a
prediction made over a seed group, against the group's mean once all its runs ended.
A prediction that cannot be resolved says why; it is never dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, and_, func, select

from hunchlab.claims import Claim
from hunchlab.store import ledger, points, schema

if TYPE_CHECKING:
    from hunchlab.shapes import PredictionRecord

P = schema.predictions.c
R = schema.runs.c
ENDED = ("finished", "failed", "interrupted", "crashed", "pruned")


def insert_prediction(conn: Connection, **values: Any) -> int:
    values.setdefault("created_at", time.time())
    values.setdefault("status", "open")
    values.setdefault("tags", "[]")
    return int(ledger.insert(conn, schema.predictions, values))


def insert_run_prediction(conn: Connection, run_id: str, event: dict[str, Any]) -> None:
    """A prediction event of a run, once: a rebuild folds the run again after the ledger gave it back."""
    claim = event["claim"]
    created_at = event.get("created_at") or time.time()
    if conn.execute(select(P.id).where(P.run_id == run_id, P.created_at == created_at, P.text == event["text"])
                    ).first():
        return
    agent = conn.execute(select(R.agent).where(R.id == run_id)).scalar()  # who started the run predicted
    insert_prediction(conn, kind="run", run_id=run_id, claim=json.dumps(claim), text=event["text"],
                      probability=claim["probability"], created_at=created_at, group_size=event.get("group_size"),
                      agent=agent)


def metric_value(conn: Connection, run_id: str, metric: str) -> float | None:
    """The run's summary value of ``metric``, else the last value it logged, else None."""
    summary = json.loads(conn.execute(select(R.summary).where(R.id == run_id)).scalar_one_or_none() or "{}")
    value = summary.get(metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    last = points.last_value(conn, run_id, metric)
    return None if last is None else last[1]


def known_metrics(conn: Connection, run_ids: list[str]) -> list[str]:
    names: set[str] = set()
    for summary in conn.execute(select(R.summary).where(R.id.in_(run_ids))).scalars():
        names.update(k for k, v in json.loads(summary).items() if isinstance(v, (int, float)))
    names.update(points.keys(conn, run_ids))
    return sorted(names)


def _group_runs(conn: Connection, run_id: str, size: int) -> list[tuple[str, str]]:
    """(id, status) of the ``size`` runs of a seed group starting at ``run_id``."""
    key, seq = conn.execute(select(R.group_key, R.seq).where(R.id == run_id)).one()
    return [tuple(r) for r in conn.execute(select(R.id, R.status).where(R.group_key == key, R.seq >= seq)
                                           .order_by(R.seq).limit(size))]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _run_of_ref(conn: Connection, ref: str) -> Any:
    """The run a reference names by id, number or unique id prefix (a row with ``id`` and ``status``), or None."""
    run = conn.execute(select(R.id, R.status).where(R.id == ref)).first() or (
        conn.execute(select(R.id, R.status).where(R.seq == int(ref))).first() if ref.isdigit() else None)
    if run is None:
        hits = conn.execute(select(R.id, R.status).where(R.id.like(f"{ref}%")).limit(2)).all()
        run = hits[0] if len(hits) == 1 else None
    return run


def reference_problem(conn: Connection, ref: str, metric: str) -> str | None:
    """Why ``REF.metric`` can never be resolved, checked before a run starts; None when it can (or still may).

    A reference whose runs have all ended without ``metric`` (``acc > 1.acc`` where run 1
    logged no acc), or that names nothing at all, would leave the prediction unresolvable
    after the run; a reference with runs still going may yet log it.
    """
    run = _run_of_ref(conn, ref)
    if run is not None:
        runs = [(run.id, run.status)]
    else:
        runs = [tuple(r) for r in conn.execute(select(R.id, R.status).where(R.group_key == ref))] or \
               [tuple(r) for r in conn.execute(select(R.id, R.status).where(R.spec_name == ref))]
    if not runs:
        return f"'{ref}' names no run, seed group or spec in this project"
    if any(status not in ENDED for _, status in runs):
        return None
    ids = [run_id for run_id, _ in runs]
    if any(metric_value(conn, run_id, metric) is not None for run_id in ids):
        return None
    what = f"run {ids[0]}" if len(ids) == 1 else f"the {len(ids)} runs of '{ref}'"
    return f"{what} logged no '{metric}' (it has: {', '.join(known_metrics(conn, ids)) or 'no metrics'})"


def resolve_ref(conn: Connection, ref: str, metric: str, exclude_group: str | None) -> tuple[float | None, str]:
    """The value of ``REF.metric``: a run (id, prefix, number), a seed group (its key) or a spec's latest group."""
    run = _run_of_ref(conn, ref)
    if run is not None:
        value = metric_value(conn, run[0], metric)
        return value, f"run {run[0]}"
    group = [r[0] for r in conn.execute(select(R.id).where(R.group_key == ref, R.status == "finished"))]
    if not group:
        latest = conn.execute(select(R.group_key).where(R.spec_name == ref, R.status == "finished",
                                                        R.group_key != (exclude_group or ""))
                              .order_by(R.seq.desc()).limit(1)).first()
        if latest:
            group = [r[0] for r in conn.execute(select(R.id).where(R.group_key == latest[0],
                                                                   R.status == "finished"))]
    if not group:
        return None, f"'{ref}' names no run, seed group or spec with finished runs"
    values = [v for v in (metric_value(conn, g, metric) for g in group) if v is not None]
    if not values:
        return None, f"'{ref}' never logged '{metric}'"
    return _mean(values), f"mean of {len(values)} run(s) of '{ref}'"


def resolve_run_predictions(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Resolve the open predictions that this run's end completes; returns the resolved rows."""
    key = conn.execute(select(R.group_key).where(R.id == run_id)).scalar_one()
    candidates = conn.execute(
        select(schema.predictions).join(schema.runs, R.id == P.run_id)
        .where(P.kind == "run", P.status == "open",
               (P.run_id == run_id) | and_(R.group_key == key, P.group_size.is_not(None)))).all()
    done = []
    for row in candidates:
        pred = dict(row._mapping)
        members = _group_runs(conn, pred["run_id"], pred["group_size"]) if pred["group_size"] else \
            [(pred["run_id"], conn.execute(select(R.status).where(R.id == pred["run_id"])).scalar_one())]
        if len(members) < (pred["group_size"] or 1) or any(s not in ENDED for _, s in members):
            continue  # the group is not complete yet
        values = {**_resolution(conn, pred, members), "resolved_at": time.time()}
        if values["status"] == "unresolvable":
            ref = _with_refs(conn, [pred])[0]["ref"]
            values["note"] = f"{values['note']}; resolve by hand: hunch resolve {ref} yes|no|void"
        ledger.update(conn, schema.predictions, {"id": pred["id"]}, values)
        done.append({**pred, **values})
    return done


def _resolution(conn: Connection, pred: dict[str, Any], members: list[tuple[str, str]]) -> dict[str, Any]:
    claim = Claim.from_dict(json.loads(pred["claim"]))
    finished = [rid for rid, status in members if status == "finished"]
    if not finished:
        return {"status": "unresolvable", "note": f"the run {members[0][1]}: no result to judge"}
    values = [v for v in (metric_value(conn, rid, claim.metric) for rid in finished) if v is not None]
    if not values:
        logged = known_metrics(conn, finished)
        return {"status": "unresolvable",
                "note": f"metric '{claim.metric}' was never logged (logged: {', '.join(logged) or 'nothing'})"}
    actual = _mean(values)
    ref_value = None
    note = f"mean of {len(values)} seeds" if len(values) > 1 else None
    if claim.kind == "comparison":
        key = conn.execute(select(R.group_key).where(R.id == finished[0])).scalar_one()
        ref_value, how = resolve_ref(conn, str(claim.ref), str(claim.ref_metric), key)
        if ref_value is None:
            return {"status": "unresolvable", "actual": actual, "note": how}
        note = f"{note + '; ' if note else ''}{claim.ref}.{claim.ref_metric} = {ref_value:.4g} ({how})"
    return {"status": "resolved", "outcome": claim.holds(actual, ref_value), "actual": actual,
            "ref_value": ref_value, "note": note}


def list_predictions(conn: Connection, *, kind: str | None = None, run_ids: list[str] | None = None,
                     reading_id: int | None = None, status: str | None = None) -> list[PredictionRecord]:
    q = select(schema.predictions).order_by(P.id)
    if kind:
        q = q.where(P.kind == kind)
    if run_ids is not None:
        q = q.where(P.run_id.in_(run_ids))
    if reading_id is not None:
        q = q.where(P.reading_id == reading_id)
    if status:
        q = q.where(P.status == status)
    return _with_refs(conn, [_row(r) for r in conn.execute(q)])


def get_prediction(conn: Connection, pred_id: int) -> PredictionRecord | None:
    row = conn.execute(select(schema.predictions).where(P.id == pred_id)).first()
    return None if row is None else _with_refs(conn, [_row(row)])[0]


# The two kinds a person resolves with `hunch resolve`, each numbered in the order made: forecasts
# (a reading's two-year forecast too: every prediction with a date) f1, f2, ...; run predictions r1, r2, ...
# One sequence for all kinds made the README's `hunch resolve 2` name a run's prediction, not the forecast.
REF_KINDS = {"f": P.resolve_by.is_not(None), "r": (P.kind == "run") & P.resolve_by.is_(None)}


def ref_letter(pred: Mapping[str, Any]) -> str | None:
    """``f`` for a forecast, ``r`` for a run prediction, None for a paper guess (resolved by its reading)."""
    return "f" if pred.get("resolve_by") else "r" if pred.get("kind") == "run" else None


def find_ref(conn: Connection, ref: str) -> int | None:
    """The id of forecast ``f3`` or run prediction ``r3``, or None."""
    letter, number = ref[:1].lower(), int(ref[1:])
    if letter not in REF_KINDS or number < 1:
        return None
    return conn.execute(select(P.id).where(REF_KINDS[letter]).order_by(P.id).offset(number - 1).limit(1)
                        ).scalar_one_or_none()


def _with_refs(conn: Connection, rows: list[dict[str, Any]]) -> list[PredictionRecord]:
    """Each row with its ``ref`` (``f3``, ``r12``; None for a paper guess): its place among its kind."""
    for row in rows:
        row["ref"] = None
    for letter, where in REF_KINDS.items():
        mine = [r for r in rows if ref_letter(r) == letter]
        if not mine:
            continue
        top = max(r["id"] for r in mine)
        order = {pid: i for i, pid in enumerate(conn.execute(
            select(P.id).where(where, P.id <= top).order_by(P.id)).scalars(), 1)}
        for r in mine:
            r["ref"] = f"{letter}{order[r['id']]}"
    return cast("list[PredictionRecord]", rows)  # every column (decoded by _row) and ref


def set_resolution(conn: Connection, pred_id: int, **values: Any) -> None:
    ledger.update(conn, schema.predictions, {"id": pred_id}, {**values, "resolved_at": time.time()})


def open_dates(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(P.resolve_by).where(P.status == "open", P.resolve_by.is_not(None))).scalars())


def insert_reading(conn: Connection, title: str, url: str | None, area: str | None) -> int:
    return int(ledger.insert(conn, schema.readings, {"title": title, "url": url, "area": area,
                                                      "created_at": time.time()}))


def get_reading(conn: Connection, reading_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(schema.readings).where(schema.readings.c.id == reading_id)).first()
    return None if row is None else dict(row._mapping)


def list_readings(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(schema.readings).order_by(schema.readings.c.id))]


def mark_reading_resolved(conn: Connection, reading_id: int) -> None:
    ledger.update(conn, schema.readings, {"id": reading_id}, {"resolved_at": time.time()})


def count_open(conn: Connection, run_ids: list[str]) -> int:
    return int(conn.execute(select(func.count()).where(P.status == "open", P.run_id.in_(run_ids))).scalar_one())


def _row(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["claim"] = json.loads(d["claim"]) if d["claim"] else None
    d["tags"] = json.loads(d["tags"] or "[]")
    return d
