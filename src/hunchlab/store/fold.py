"""Folding a run's event file into the store.

Called when a run ends and by any reader that finds a run marked pending, so a
run killed with ``kill -9`` still shows every acknowledged point. Each fold takes
only the events after the run's ``folded_bytes`` and commits them together with the
new offset in one transaction, so folding twice (two readers at once, or a reader
and the run's own end) never duplicates a point.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode_str
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, update

from hunchlab import packed
from hunchlab.eventcheck import END_STATUSES
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.events import QUARANTINE_FILE, BadLine, Chunk, Series
from hunchlab.identity import config_key
from hunchlab.project import Project
from hunchlab.rundir import META_FILE, entry_alive, process_alive
from hunchlab.store import lod, points, schema
from hunchlab.store.journal import insert_entry
from hunchlab.store.predictions import insert_run_prediction, resolve_run_predictions
from hunchlab.store.readahead import ChunkReader, series
from hunchlab.store.rows import insert_rows
from hunchlab.store.sweeps import link_run

ENDED = END_STATUSES
EXAMPLE_COLUMNS = ["run_id", "example_id", "input", "output", "target", "correct", "score", "fields"]
ARTIFACT_COLUMNS = ["run_id", "name", "sha256", "size"]
ORPHAN_QUIET_SECONDS = 3600.0
LOD = "lod"  # in a metric's stats while its pyramid lags: how many of its points (first logged) it stands for
CHUNK_BYTES = 4 << 20  # fold this much of an event file at a time: 1M examples peak at 207 MiB (64 MiB: 1.1 GB)
# A reader's fold (no pyramid to extend a chunk) takes a quarter of that: its cost is making a chunk's
# objects, and a smaller chunk makes them in memory still mapped from the last one (the first read of a
# killed 2M-point run: 1.37 -> 1.27 s wall, 82 -> 55 MiB; a writer's fold, which extends the pyramid
# a chunk at a time, was slower at 1 MiB: 1.77 -> 1.97 s)
READER_CHUNK_SHARE = 4


def group_key(meta: dict[str, Any]) -> str:
    """Runs whose config differs only in the seed share this key (a seed group); numbers by value."""
    spec = meta.get("spec") or {}
    return config_key(spec.get("entry"), spec.get("command"), meta.get("params", {}))


_C = schema.runs.c
# Built once: a statement object costs ~0.3 ms to build and key for the compiled cache, a third
# of a small run's fold when it was built anew for every run.
_STATE = select(_C.status, _C.folded_bytes, _C.summary, _C.metric_stats, _C.host, _C.pid, _C.pid_start,
                _C.quarantine, _C.last_event_at).where(_C.id == bindparam("rid"))
_STATE_LOCKED = _STATE.with_for_update()  # PostgreSQL: two folds of one run take turns
_STATS = select(_C.metric_stats).where(_C.id == bindparam("rid"))
_STATS_LOCKED = _STATS.with_for_update()
_UPDATE = update(schema.runs).where(_C.id == bindparam("rid"))
_INSERT = schema.runs.insert()
_OPEN_RUN_PREDICTION = select(schema.predictions.c.id).where(
    schema.predictions.c.kind == "run", schema.predictions.c.status == "open").limit(1)


def _insert_run(conn: Connection, meta: dict[str, Any]) -> tuple[Any, ...]:
    """Record a run first seen by a fold; returns its fold state (as ``_STATE`` would read it)."""
    spec = meta.get("spec") or {}
    conn.execute(_INSERT, {
        "id": meta["id"], "seq": meta.get("seq", 0), "name": meta.get("name"), "status": "running",
        "spec_name": spec.get("name"), "question": spec.get("question"), "group_key": group_key(meta),
        "seed": meta.get("seed"), "params": json.dumps(meta.get("params", {}), default=str), "summary": "{}",
        "meta": json.dumps({k: v for k, v in meta.items() if k not in ("params",)}, default=str),
        "host": meta.get("host"), "pid": meta.get("pid"), "pid_start": meta.get("pid_start"),
        "created_at": meta.get("created_at", time.time()), "folded_bytes": 0, "agent": meta.get("agent"),
    })
    if meta.get("sweep"):
        link_run(conn, meta["id"], meta["sweep"])
    return ("running", 0, "{}", None, meta.get("host"), meta.get("pid"), meta.get("pid_start"), None, None)


@dataclass
class Folded:
    """What one fold step did: the run's status after it, and whether more of the file may be left."""

    status: str | None
    more: bool


def sync_run(conn: Connection, project: Project, run_id: str, *, pyramid: bool = True,
             reader: ChunkReader | None = None) -> Folded:
    """Fold the next chunk of one run's new events, in the caller's write transaction.

    Call it until ``more`` is False (``Store.sync_run``): each chunk commits with the
    offset it reached, so a fold of millions of events holds the write lock for one
    chunk at a time, keeps memory bounded by the chunk, and a fold killed halfway
    resumes where its last commit ended. A run's end is applied in the transaction
    of its last chunk, so no reader ever sees it finished with points still missing.
    Returns status None when the run's folder has no ``run.json`` (it is being created).
    ``pyramid``: extend the metric pyramid too (``store.lod``); a reader's fold leaves it for the
    first chart of the metric to catch up (``catch_up_pyramid``). ``reader``: the fold's reader of the
    file across its transactions (``store.readahead``), one that may decode ahead.
    """
    run_dir = project.run_dir(run_id)
    found = conn.execute(_STATE if conn.dialect.name == "sqlite" else _STATE_LOCKED, {"rid": run_id}).first()
    if found is None:
        try:
            meta = json.loads((run_dir / META_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return Folded(None, False)
        row = _insert_run(conn, meta)
    else:
        row = tuple(found)
    status, offset, summary_json, stats_json, host, pid, pid_start, quarantine_json, last_event_at = row
    with _gc_paused():
        size = CHUNK_BYTES if pyramid else CHUNK_BYTES // READER_CHUNK_SHARE
        chunk = (reader or ChunkReader(ahead=False)).read(run_dir / EVENTS_FILE, offset, size)
        values = _fold_chunk(conn, run_dir, run_id, chunk, row, pyramid) if chunk.end > offset else {}
    if values.get("status"):
        status = values["status"]
    elif chunk.eof and status == "running" and not process_alive(run_dir, host, pid, pid_start) \
            and not entry_alive(run_dir, host):
        status = "crashed"
        values.update(status=status, ended_at=values.get("last_event_at") or last_event_at or time.time(),
                      error=f"the process vanished (pid {pid} on {host}) before the run ended")
    if values:
        conn.execute(_UPDATE, {"rid": run_id, **values})
    if "status" in values and conn.execute(_OPEN_RUN_PREDICTION).first():
        threshold = float(project.setting("surprise_threshold"))  # the run's end resolves what was predicted
        for pred in resolve_run_predictions(conn, run_id):
            if is_surprise(pred, threshold):
                file_surprise(conn, pred)
    return Folded(status, chunk.end > offset and not chunk.eof)


def _fold_chunk(conn: Connection, run_dir: Path, run_id: str, chunk: Chunk, row: tuple[Any, ...],
                pyramid: bool) -> dict[str, Any]:
    """Insert one chunk's events and set its bad lines aside; the run's columns to update."""
    summary_json, stats_json, quarantine_json = row[2], row[3], row[7]
    values = _apply(conn, run_id, chunk, json.loads(summary_json), json.loads(stats_json or "{}"), pyramid)
    if chunk.bad:
        state = json.loads(quarantine_json or "{}")
        values["quarantine"] = json.dumps(quarantine(run_dir, state, chunk.bad))
    values["folded_bytes"] = chunk.end
    return values


def fold_states(conn: Connection, run_ids: list[str]) -> dict[str, tuple[str, int]]:
    """``{run_id: (status, folded_bytes)}`` of the runs the store knows among ``run_ids``."""
    c = schema.runs.c
    out: dict[str, tuple[str, int]] = {}
    for i in range(0, len(run_ids), 500):
        rows = conn.execute(select(c.id, c.status, c.folded_bytes).where(c.id.in_(run_ids[i:i + 500])))
        out.update((run_id, (status, folded)) for run_id, status, folded in rows)
    return out


def unfolded_bytes(run_dir: Path, folded: int) -> int:
    """How many bytes of the run's event file come after its first ``folded``."""
    try:
        return max(0, (run_dir / EVENTS_FILE).stat().st_size - folded)
    except FileNotFoundError:
        return 0


def watch_longer(run_dir: Path, status: str | None) -> bool:
    """Whether an ended run stays pending: a crashed run may have left a process behind (a shell
    entry's child) that still appends, so it is watched until its file has been quiet for
    ``ORPHAN_QUIET_SECONDS``. Lines that come later still fold when the run itself is read."""
    if status != "crashed":
        return False
    try:
        return time.time() - (run_dir / EVENTS_FILE).stat().st_mtime < ORPHAN_QUIET_SECONDS
    except FileNotFoundError:
        return False


def quarantine(run_dir: Path, state: dict[str, Any], bad: list[BadLine]) -> dict[str, Any]:
    """Keep the lines a fold could not read, verbatim, in the run's side file; count them.

    ``state`` (stored with the run) holds the side file's length as of the last commit:
    cutting the file back to it first drops what a fold killed before its commit wrote,
    so a line is never kept twice.
    """
    path = run_dir / QUARANTINE_FILE
    kept = state.get("bytes", 0)
    with open(path, "ab") as f:
        if f.seek(0, os.SEEK_END) > kept:
            f.truncate(kept)
        f.write(b"".join(b.raw + b"\n" for b in bad))
        size = f.tell()
    first = {"byte": bad[0].byte, "why": bad[0].why} if "byte" not in state else {}
    return {**state, **first, "lines": state.get("lines", 0) + len(bad), "bytes": size}


def is_surprise(pred: Mapping[str, Any], threshold: float) -> bool:
    """A confident prediction that came out wrong: the outcome had a stated chance of 1 - threshold or less."""
    if pred.get("status") != "resolved":
        return False
    p_outcome = pred["probability"] if pred["outcome"] else 1 - pred["probability"]
    return bool(p_outcome <= 1 - threshold + 1e-9)


def file_surprise(conn: Connection, pred: dict[str, Any]) -> int:
    """Write the contradicting fact down on the spot (Darwin), leaving the update to the researcher."""
    question = conn.execute(select(schema.runs.c.question).where(schema.runs.c.id == pred["run_id"])).scalar()
    held = "held" if pred["outcome"] else "did not hold"
    ref = f" (against {pred['ref_value']:.4g})" if pred.get("ref_value") is not None else ""
    title = f"Surprise: {pred['text']} {held} — actual {pred['actual']:.4g}"
    body = (f"## What I predicted\n{pred['text']} (stated {pred['probability']:.0%})\n\n"
            f"## What happened\n{pred['text'].split('@')[0].strip()} {held}: actual {pred['actual']:.4g}{ref}"
            f" in run {pred['run_id']}{'; ' + pred['note'] if pred.get('note') else ''}\n\n"
            "## What I now believe\n\n")
    return insert_entry(conn, kind="surprise", title=title, body=body, run_id=pred["run_id"], question_id=question,
                        prediction_id=pred["id"], written_up=False)


def _apply(conn: Connection, run_id: str, chunk: Chunk, summary: dict[str, Any],
           stats: dict[str, dict[str, Any]], pyramid: bool) -> dict[str, Any]:
    """Insert what the chunk's (checked) events record; ``summary`` and ``stats`` (per metric: points,
    last step and value, kept so readers need not scan millions of points) are updated in place."""
    # a chunk of log lines only, the common one, needs no pass to sort its lines by kind
    logs, events = (chunk.events, []) if chunk.logs_only else ([], chunk.events)
    examples: dict[str, tuple[Any, ...]] = {}  # in EXAMPLE_COLUMNS order; a later line with the same id wins
    artifacts: dict[str, tuple[Any, ...]] = {}
    values: dict[str, Any] = {}
    last_time = None
    for ev in events:
        t = ev["t"]
        if t == "log":
            logs.append(ev)
        elif t == "example":
            d = ev["d"]
            eid = str(d["id"])
            examples[eid] = (run_id, eid, _j(d.get("input")), _j(d.get("output")), _j(d.get("target")),
                             d.get("correct"), d.get("score"), _j(d.get("fields")))
        elif t == "summary":
            summary.update(ev["d"])
        elif t == "artifact":
            artifacts[ev["name"]] = (run_id, ev["name"], ev["sha256"], ev["size"])
        elif t == "prediction":
            insert_run_prediction(conn, run_id, ev["d"])
        elif t in ("params", "meta"):  # what a run learns of itself while running (wandb.config, tags)
            values.setdefault(f"_{t}", {}).update(ev["d"])
        else:  # end
            values.update(status=ev.get("status", "finished"), exit_code=ev.get("exit_code"),
                          ended_at=ev.get("time"), error=ev.get("error"))
            last_time = ev.get("time") or last_time
    if chunk.columns:  # decoded ahead (store.readahead): every metric's times are the lines' times
        last_time = next(iter(chunk.columns.values()))[2][-1] if last_time is None else last_time
        _insert_series(conn, run_id, chunk.columns, stats, pyramid)
    elif logs:
        last_time = logs[-1].get("time") if last_time is None else last_time
        _insert_series(conn, run_id, series(logs), stats, pyramid)
    insert_rows(conn, schema.examples, EXAMPLE_COLUMNS, list(examples.values()), replace=True)
    insert_rows(conn, schema.artifacts, ARTIFACT_COLUMNS, list(artifacts.values()), replace=True)
    _merge_record(conn, run_id, values)
    values["summary"] = json.dumps(summary, default=str)
    values["metric_stats"] = json.dumps(stats)
    if last_time:
        values["last_event_at"] = last_time
    return values


def _merge_record(conn: Connection, run_id: str, values: dict[str, Any]) -> None:
    """Fold ``params`` and ``meta`` events into the run's row; new params move it to its new seed group."""
    new_params, new_meta = values.pop("_params", None), values.pop("_meta", None)
    if not new_params and not new_meta:
        return
    c = schema.runs.c
    params_json, meta_json = conn.execute(select(c.params, c.meta).where(c.id == run_id)).one()
    params = {**json.loads(params_json), **(new_params or {})}
    meta = {**json.loads(meta_json), **(new_meta or {})}
    values.update(params=json.dumps(params, default=str), meta=json.dumps(meta, default=str),
                  group_key=group_key({**meta, "params": params}))
    if new_meta and "question" in new_meta:  # the run attached to a question afterwards (tree.attach)
        values["question"] = new_meta["question"]


def _insert_series(conn: Connection, run_id: str, series: Series, stats: dict[str, dict[str, Any]],
                   pyramid: bool) -> None:
    """Append each metric's new points to its blocks (``store.points``), count them into ``stats``
    and extend the metric's pyramid (``store.lod``), or, without ``pyramid``, note in ``stats`` how
    many points it stands for (``LOD``; absent: all of them)."""
    frames: dict[tuple[int, int], tuple[packed.Frame, int, int]] = {}  # by the columns' identity: shared
    for key, (steps, vals, times) in series.items():
        shared = frames.get((id(steps), id(times)))
        if shared is None:  # the value at the highest step, the latest logged of equal steps
            top = max(steps)
            shared = frames[id(steps), id(times)] = (packed.frame(steps, times), top,
                                                     len(steps) - 1 - steps[::-1].index(top))
        frame, top, at = shared
        points.append(conn, run_id, key, steps, vals, times, frame)
        st = stats.get(key)
        n_before = 0 if st is None else st["n"]
        covered = n_before if st is None else st.get(LOD, n_before)
        if st is None or top >= st["step"]:
            st = stats[key] = {"n": n_before + len(steps), "step": top, "value": vals[at]}
        else:
            st["n"] += len(steps)
            st.pop(LOD, None)
        if pyramid:
            lod.catch_up(conn, run_id, key, covered, st["n"], steps, vals)
        elif st["n"] > lod.MIN_POINTS:
            st[LOD] = covered


def pyramid_behind(conn: Connection, run_id: str, key: str) -> bool:
    """Whether a fold for a reader left the metric's pyramid behind its points."""
    stats = conn.execute(_STATS, {"rid": run_id}).scalar()
    return LOD in json.loads(stats or "{}").get(key, {})


def catch_up_pyramid(conn: Connection, run_id: str, key: str) -> None:
    """Extend the metric's pyramid to every point it has (in the caller's write transaction)."""
    stats = json.loads(conn.execute(_STATS if conn.dialect.name == "sqlite" else _STATS_LOCKED,
                                    {"rid": run_id}).scalar() or "{}")
    st = stats.get(key, {})
    if LOD in st:
        lod.catch_up(conn, run_id, key, st.pop(LOD), st["n"], [], [])
        conn.execute(_UPDATE, {"rid": run_id, "metric_stats": json.dumps(stats)})


def _j(value: Any) -> str | None:
    """A field as JSON text (None stays NULL). Text, most inputs and outputs, takes the C string
    encoder in one call; orjson writes the rest, ``json`` what orjson cannot."""
    if value is None:
        return None
    if type(value) is str:
        return _encode_str(value)
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, default=str)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic GC while a fold builds its event dicts.

    A million example events are millions of fresh dicts; the collector keeps walking
    them (parsing a million event lines: 8.2 s with it, 4.0 s without, back to back on
    the 2-core bench machine) though they hold no cycles and are garbage once folded.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


