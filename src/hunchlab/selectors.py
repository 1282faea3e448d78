"""Selectors: how ``compare``, ``plot`` and ``report`` name runs and seed groups.

A selector is one of

- a run id, a unique prefix of one, or its number: that run alone;
- a group id (the key ``hunch run --seeds`` prints, or a unique prefix of at least 4
  of its characters): the runs whose resolved config differs only in the seed;
- filters in the ``--where`` grammar, separated by spaces (``spec=exp lr=3e-4``): the
  matching runs, split into their seed groups.

Groups are what statistics are computed over, so a group holds one run per seed: a
rerun of a seed already counted repeats a measurement rather than adding one, and
counting it would shrink every interval for nothing. Failed, crashed and interrupted
runs, and smoke runs (bug checks on a tiny budget), are left out of groups and filters
unless named by id or by a ``status`` filter; every such choice is reported as a note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hunchlab.errors import BadInput, HunchError, NotFound, did_you_mean
from hunchlab.run_records import Filter, filter_runs, parse_where

GROUP_ID = re.compile(r"^[0-9a-f]{4,}$")
FILTER_OP = re.compile(r"[=<>~]")
LEFT_OUT = ("failed", "crashed", "interrupted")


@dataclass
class Group:
    """Runs of one resolved config, one per seed (ascending), and what was decided on the way."""

    key: str
    runs: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Selection:
    """What one selector named: a single run (``kind="run"``) or seed groups."""

    selector: str
    kind: str  # run | group | filter | question
    groups: list[Group]
    notes: list[str] = field(default_factory=list)

    def all_notes(self) -> list[str]:
        return [*self.notes, *(n for g in self.groups for n in g.notes)]


def parse_selector(text: str) -> list[Filter] | None:
    """The filters of a filter selector, or None for a run or group id."""
    text = text.strip()
    if not text:
        raise BadInput("empty selector", fix="name a run id, a group id, or filters such as 'spec=exp lr=3e-4'")
    if not FILTER_OP.search(text):
        if len(text.split()) > 1:
            raise BadInput(f"selector '{text}' is several words but no filter",
                           fix="pass each run or group id as its own argument, or write filters like lr=3e-4")
        return None
    return [parse_where(part) for part in text.split()]


def group_runs(runs: Sequence[dict[str, Any]], *, keep_statuses: bool = False) -> tuple[list[Group], list[str]]:
    """Split runs into seed groups (oldest group first), one run per seed, with notes on what was left out."""
    notes: list[str] = []
    smoke = [r for r in runs if r.get("smoke")]
    if smoke:
        notes.append(f"left out {plural(len(smoke), 'smoke run')} (bug checks, not results): {_ids(smoke)}")
    kept = [r for r in runs if not r.get("smoke")]
    if not keep_statuses:
        dropped = [r for r in kept if r["status"] in LEFT_OUT]
        if dropped:
            notes.append(f"left out {plural(len(dropped), 'run')} that did not finish ({_ids(dropped)}); "
                         "add status=failed (or crashed, interrupted) to include them")
        kept = [r for r in kept if r["status"] not in LEFT_OUT]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for run in sorted(kept, key=lambda r: r["seq"]):
        by_key.setdefault(run["group_key"], []).append(run)
    return [_one_per_seed(key, members) for key, members in by_key.items()], notes


def _one_per_seed(key: str, members: list[dict[str, Any]]) -> Group:
    """Keep, per seed, the newest finished run (else the newest): a repeated seed is not a new sample."""
    best: dict[Any, dict[str, Any]] = {}
    for run in members:  # oldest first, so a later run of the same standing replaces an earlier one
        held = best.get(run["seed"])
        if held is None or (run["status"] == "finished") >= (held["status"] == "finished"):
            best[run["seed"]] = run
    chosen = sorted(best.values(), key=lambda r: (r["seed"] is None, r["seed"] or 0))
    group = Group(key, chosen)
    repeats = [r for r in members if r not in chosen]
    if repeats:
        group.notes.append(f"group {key}: left out {plural(len(repeats), 'run')} repeating a seed already counted "
                           f"({_ids(repeats)}); a rerun of a seed is not a new sample")
    running = [r for r in chosen if r["status"] == "running"]
    if running:
        group.notes.append(f"{_ids(running)} {'is' if len(running) == 1 else 'are'} still running: "
                           "comparing what has been logged so far")
    return group


def resolve(selectors: Sequence[str], runs: Sequence[dict[str, Any]],
            resolve_run: Callable[[str], str]) -> list[Selection]:
    """Each selector's runs or groups. ``runs`` is every run (``readsql.all_runs``);
    ``resolve_run`` turns a run reference into an id (``Store.resolve_run``), raising NotFound."""
    if not selectors:
        raise BadInput("no selector given",
                       fix="name runs or groups: a run id, a group id, or filters like 'lr=3e-4'")
    by_id = {r["id"]: r for r in runs}
    return [_resolve_one(text, runs, by_id, resolve_run) for text in selectors]


def _resolve_one(text: str, runs: Sequence[dict[str, Any]], by_id: dict[str, dict[str, Any]],
                 resolve_run: Callable[[str], str]) -> Selection:
    filters = parse_selector(text)
    text = text.strip()
    if filters is not None:
        try:
            matched = filter_runs(list(runs), [f.text for f in filters])
        except HunchError as e:  # worded for --where; say which selector instead
            raise NotFound(f"selector '{text}': {e.what.split(': ', 1)[-1]}", fix=e.fix) from None
        groups, notes = group_runs(matched, keep_statuses=any(f.key == "status" for f in filters))
        if not groups:
            why = f" ({'; '.join(notes)})" if notes else ""
            raise NotFound(f"selector '{text}' matches no runs{why}",
                           fix="`hunch runs --where ...` shows what a filter matches")
        return Selection(text, "filter", groups, notes)
    keys: list[str] = []
    if GROUP_ID.match(text):  # a group id, or its prefix; a run's number may look like one too
        keys = sorted({r["group_key"] for r in runs if (r["group_key"] or "").startswith(text)})
    try:
        run = by_id[resolve_run(text)]
    except NotFound:
        if not keys:
            raise
        return _group_selection(text, keys, runs)
    if keys:
        raise NotFound(f"'{text}' is both run {run['id']} and the start of group {keys[0]}",
                       fix=f"write the run's full id, or group={keys[0]}" if len(keys) == 1 else "type more of the id")
    group = Group(run["group_key"], [run])
    if run["status"] == "running":
        group.notes.append(f"{run['id']} is still running: comparing what has been logged so far")
    elif run["status"] != "finished":
        group.notes.append(f"{run['id']} {run['status']}: comparing what it logged before it stopped")
    return Selection(text, "run", [group])


def _group_selection(text: str, keys: list[str], runs: Sequence[dict[str, Any]]) -> Selection:
    if len(keys) > 1:
        raise NotFound(f"group prefix '{text}' is ambiguous: {', '.join(keys[:5])}", fix="type more of the id")
    groups, notes = group_runs([r for r in runs if r["group_key"] == keys[0]])
    if not groups:
        raise NotFound(f"group {keys[0]} has no finished runs ({'; '.join(notes)})",
                       fix="name a run by id to look at it anyway")
    return Selection(text, "group", groups, notes)


def run_resolver(runs: Sequence[dict[str, Any]]) -> Callable[[str], str]:
    """``Store.resolve_run`` over the runs already read (newest first): an exact id, a number, a unique prefix.

    ``resolve`` reads every run anyway, so resolving a reference needs no further query
    (and works where the store was opened without SQLAlchemy, ``readsql.connect_current``).
    """
    ids: list[str] = [str(r["id"]) for r in runs]
    by_seq = {str(r["seq"]): str(r["id"]) for r in runs}

    def resolve_run(ref: str) -> str:
        ref = ref.strip()
        if ref in ids:
            return ref
        if ref.isdigit() and ref in by_seq:
            return by_seq[ref]
        hits = [i for i in ids if i.startswith(ref)][:6]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise NotFound(f"run prefix '{ref}' is ambiguous: {', '.join(hits[:5])}{' …' if len(hits) > 5 else ''}",
                           fix="type more of the id")
        raise NotFound(f"no run '{ref}'{did_you_mean(ref, ids[:2000])}", fix="`hunch runs` lists the runs")

    return resolve_run


def plural(n: int, noun: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _ids(runs: Sequence[dict[str, Any]]) -> str:
    ids = [r["id"] for r in runs]
    return ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
