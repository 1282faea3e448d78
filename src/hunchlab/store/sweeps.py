"""Queries for sweeps and ablations: the plan, the runs each trial produced, the driver's liveness.

A sweep's plan (every trial's overrides and seed) is written in one transaction before
any trial starts, so a sweep is either fully planned in the store or not there at all.
Which run belongs to which trial is not written by the driver but read from the run's
own ``run.json`` when the run is folded (:func:`link_run`, called by ``fold``): a driver
killed between starting a trial and noting it down can therefore never lose the link,
and ``resume`` never runs a trial twice.

Who drives a sweep is in the store too, so that project folders on other machines
sharing it can tell: the driver's host and pid, and a *lease* it renews every
``LEASE_RENEW_SECONDS`` while it runs. A driver on this host is alive while its process
is; one elsewhere while its lease has not run out. ``take_over`` makes a sweep a
driver's own in one compare-and-set ``UPDATE``, so of two clones resuming at once one
wins and the other is told who drives it.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update

from hunchlab.errors import NotFound, did_you_mean
from hunchlab.rundir import process_alive
from hunchlab.store import ledger, points, schema

JSON_COLUMNS = ("spec", "space", "prune", "code")
# A driver renews its lease every 10 s for 60 s: a dead driver's sweep can be resumed from another
# machine a minute after it died, and a live one survives five missed renewals (a store restart,
# a stalled disk) and machine clocks a few seconds apart (NTP keeps them within milliseconds).
LEASE_SECONDS = 60.0
LEASE_RENEW_SECONDS = 10.0


def insert_sweep(conn: Connection, record: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """Store a new sweep and its planned trials; returns its id (``<kind>-<number>``)."""
    if conn.dialect.name == "postgresql":  # two clones numbering sweeps at once take turns (SQLite: BEGIN IMMEDIATE)
        conn.exec_driver_sql("LOCK TABLE sweeps IN SHARE ROW EXCLUSIVE MODE")
    seq = (conn.execute(select(func.max(schema.sweeps.c.seq))).scalar() or 0) + 1
    sweep_id = f"{record['kind']}-{seq}"
    values = {k: json.dumps(v, default=str) if k in JSON_COLUMNS and v is not None else v for k, v in record.items()}
    ledger.insert(conn, schema.sweeps, {"id": sweep_id, "seq": seq, **values})
    for t in trials:
        ledger.insert(conn, schema.sweep_trials, {"sweep_id": sweep_id, "trial": t["trial"], "config": t["config"],
                                                  "label": t["label"], "seed": t["seed"],
                                                  "overrides": json.dumps(t["overrides"], default=str)})
    return sweep_id


def set_pair(conn: Connection, sweep_id: str, pair_id: str) -> None:
    ledger.update(conn, schema.sweeps, {"id": sweep_id}, {"pair_id": pair_id})


def set_driver(conn: Connection, sweep_id: str, *, status: str, driver: dict[str, Any] | None = None) -> None:
    """Record how the sweep ended; with ``driver``, only if that driver still drives it (not taken over)."""
    c = schema.sweeps.c
    ledger.update(conn, schema.sweeps, {"id": sweep_id}, {"status": status, "ended_at": time.time()},
                  only_if=None if driver is None else (c.host == driver["host"]) & (c.pid == driver["pid"]))


def take_over(conn: Connection, sweep_id: str, driver: dict[str, Any], address: str | None) -> bool:
    """Make the sweep this driver's (``driver``: host, pid, pid_start) unless another one drives it;
    whether it did. One conditional UPDATE: of two clones resuming at once, the second finds it running."""
    values = {"status": "running", "ended_at": None, "lease_until": time.time() + LEASE_SECONDS,
              "address": address, **driver}
    return ledger.update(conn, schema.sweeps, {"id": sweep_id}, values,
                         only_if=schema.sweeps.c.status != "running") == 1


def renew_lease(conn: Connection, sweep_ids: list[str], driver: dict[str, Any]) -> list[str]:
    """Extend this driver's lease on its sweeps; returns the ones it no longer drives (taken over).

    Not in the ledger: a lease is liveness, not something typed (a line every 10 s would
    make the ledger grow with every hour a sweep runs).
    """
    c = schema.sweeps.c
    lost = []
    for sweep_id in sweep_ids:
        held = conn.execute(update(schema.sweeps).where(c.id == sweep_id, c.status == "running", c.host == driver["host"],
                                                        c.pid == driver["pid"])
                            .values(lease_until=time.time() + LEASE_SECONDS))
        if held.rowcount != 1:
            lost.append(sweep_id)
    return lost


def link_run(conn: Connection, run_id: str, sweep: dict[str, Any]) -> None:
    """Note that ``run_id`` is an attempt at a sweep's trial (from the ``sweep`` key of its run.json)."""
    if conn.execute(select(schema.sweep_runs.c.run_id).where(schema.sweep_runs.c.run_id == run_id)).first():
        return
    conn.execute(schema.sweep_runs.insert().values(run_id=run_id, sweep_id=sweep["id"], trial=sweep["trial"]))


def mark_dead_drivers(conn: Connection) -> None:
    """A sweep still marked running whose driver is gone was killed: say so (like crashed runs).

    A driver on this host is checked by its pid; one elsewhere by its lease (a sweep from
    before leases, on another host, is taken as alive).
    """
    c = schema.sweeps.c
    here = socket.gethostname()
    for sweep_id, host, pid, pid_start, lease_until in conn.execute(
            select(c.id, c.host, c.pid, c.pid_start, c.lease_until).where(c.status == "running")).all():
        if host == here:
            dead = not process_alive(Path(), host, pid, pid_start)
        else:
            dead = lease_until is not None and lease_until < time.time()
        if dead:
            ledger.update(conn, schema.sweeps, {"id": sweep_id}, {"status": "crashed", "ended_at": time.time()})
            _crash_runs_of(conn, sweep_id, host, pid, lease_until if host != here else None)


def _crash_runs_of(conn: Connection, sweep_id: str, host: str, pid: int, lease_until: float | None) -> None:
    """The runs the store holds as running under a dead driver are crashed: their folders may be in
    another project folder, whose readers alone could tell (they fold what is left there later)."""
    r, s = schema.runs.c, schema.sweep_runs.c
    why = "stopped renewing its lease" if lease_until else "is gone"
    ghosts = select(s.run_id).where(s.sweep_id == sweep_id)
    conn.execute(update(schema.runs).where(r.id.in_(ghosts), r.status == "running", r.host == host, r.pid == pid)
                 .values(status="crashed", ended_at=lease_until or time.time(),
                         error=f"its sweep's driver (pid {pid} on {host}) {why}"))


def driver_note(sweep: dict[str, Any]) -> str:
    """Who drives a running sweep, for the message that refuses to resume it."""
    note = f"pid {sweep['pid']} on {sweep['host']}"
    if sweep["host"] != socket.gethostname() and sweep.get("lease_until"):
        note += f", its lease renewed until {time.strftime('%H:%M:%S', time.localtime(sweep['lease_until']))}"
    return note


def resolve_sweep(conn: Connection, ref: str) -> str:
    """A sweep id from an exact id, its number, or a unique prefix."""
    c = schema.sweeps.c
    ref = ref.strip()
    if conn.execute(select(c.id).where(c.id == ref)).first():
        return ref
    if ref.isdigit():
        hit = conn.execute(select(c.id).where(c.seq == int(ref))).first()
        if hit:
            return str(hit[0])
    ids: list[str] = list(conn.execute(select(c.id).order_by(c.seq.desc())).scalars())
    hits = [i for i in ids if i.startswith(ref)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NotFound(f"sweep prefix '{ref}' is ambiguous: {', '.join(hits[:5])}", fix="type more of the id")
    raise NotFound(f"no sweep '{ref}'{did_you_mean(ref, ids)}", fix="`hunch sweeps` lists the sweeps")


def get_sweep(conn: Connection, sweep_id: str) -> dict[str, Any]:
    row = conn.execute(select(schema.sweeps).where(schema.sweeps.c.id == sweep_id)).first()
    if row is None:
        raise NotFound(f"no sweep '{sweep_id}'", fix="`hunch sweeps` lists the sweeps")
    return _decode(dict(row._mapping))


def list_sweeps(conn: Connection) -> list[dict[str, Any]]:
    """Every sweep, newest first, with its trial count."""
    counts: dict[str, int] = dict(conn.execute(select(schema.sweep_trials.c.sweep_id, func.count())
                               .group_by(schema.sweep_trials.c.sweep_id)).all())
    rows = conn.execute(select(schema.sweeps).order_by(schema.sweeps.c.seq.desc())).all()
    return [{**_decode(dict(r._mapping)), "trials": counts.get(r.id, 0)} for r in rows]


def trials(conn: Connection, sweep_id: str) -> list[dict[str, Any]]:
    """The planned trials in order, each with its attempts (runs, oldest first) and the latest one's state."""
    t = schema.sweep_trials.c
    out = [{"trial": r.trial, "config": r.config, "label": r.label, "overrides": json.loads(r.overrides),
            "seed": r.seed, "runs": []}
           for r in conn.execute(select(schema.sweep_trials).where(t.sweep_id == sweep_id).order_by(t.trial))]
    by_trial = {d["trial"]: d for d in out}
    r, s = schema.runs.c, schema.sweep_runs.c
    rows = conn.execute(select(s.trial, r.id, r.status, r.summary, r.error, r.created_at, r.ended_at)
                        .join(schema.runs, r.id == s.run_id).where(s.sweep_id == sweep_id).order_by(r.seq))
    for trial, run_id, status, summary, error, created_at, ended_at in rows:
        if trial in by_trial:
            by_trial[trial]["runs"].append({"id": run_id, "status": status, "summary": json.loads(summary),
                                            "error": error, "created_at": created_at, "ended_at": ended_at})
    return out


def metric_histories(conn: Connection, run_ids: list[str], key: str) -> dict[str, list[tuple[int, float]]]:
    """``{run_id: [(step, value), ...]}`` of one logged metric, for the pruning rule's medians."""
    out: dict[str, list[tuple[int, float]]] = {run_id: [] for run_id in run_ids}
    for run_id, _, (steps, values, _) in points.histories(conn, run_ids, [key]):
        out[run_id] = list(zip(steps, values, strict=True))  # type: ignore[arg-type]  # NaN: None, as before
    return out


def _decode(d: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_COLUMNS:
        d[key] = None if d[key] is None else json.loads(d[key])
    return d
