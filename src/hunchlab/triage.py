"""Failure triage: sample a run's failures, read them, tag them, count categories largest first.

"Pick out a hundred failure cases and look at them all. Categorize them and then focus
on the largest category." The library behind ``hunch examples``, ``hunch failures``,
``hunch tag`` and ``hunch categories``; everything returns plain data.

- A **sample** is drawn once per run and stored: a reproducible random choice of the
  failing examples (``correct`` false), optionally stratified by a field, walked in an
  order that is itself random, so reading only the first 37 still gives a random
  subsample. Drawing touches only the index, never the records' text.
- A **tag** is one category (and an optional note) per example per run, saved the
  moment it is given. Tags carry across runs by example id: a later run's view shows
  how the same example was tagged before.
- **Categories** are counted largest first, with each one's share of the tagged
  examples and an estimate of its share of *all* failures with an interval, because
  the sample is a sample (stratum weights and the finite population are accounted for).
"""

from __future__ import annotations

import csv
import difflib
import math
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hunchlab.calibration import wilson_interval
from hunchlab.current import current_store
from hunchlab.errors import HunchError, NotFound, did_you_mean

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hunchlab.figure_files import FigureFiles
    from hunchlab.project import Project
    from hunchlab.records import Filter
    from hunchlab.store import Store

__all__ = [
    "CONFIDENCE",
    "DEFAULT_SAMPLE",
    "CategoryReport",
    "CategoryRow",
    "Sample",
    "Triage",
    "allocate",
    "categories",
    "draw_positions",
    "estimate_share",
    "export_examples",
    "failures",
    "list_examples",
    "open_failures",
    "plot_categories",
    "tag",
    "tag_from_csv",
    "text_diff",
]

CONFIDENCE = 0.95
DEFAULT_SAMPLE = 100
HOW_TO_LOG = ("log one record per evaluated example: run.example(id=..., input=..., output=..., target=..., "
              "correct=...) (see docs/triage.md)")
K = TypeVar("K")


# == pure functions ========================================================================
def allocate(sizes: Mapping[K, int], n: int) -> dict[K, int]:
    """How many of ``n`` sample slots each stratum gets.

    Proportional to the stratum's size (largest remainder), but at least one for every
    stratum when ``n`` allows, so a rare topic is never left out by chance; the
    estimate reweights (``estimate_share``), so the tilt costs no bias. Never more
    than a stratum holds; everything when ``n`` covers all.
    """
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    keys = sorted(sizes, key=_order)
    floor = 1 if n >= len(keys) else 0
    alloc = {h: min(sizes[h], max(floor, math.floor(n * sizes[h] / total))) for h in keys}

    def deficit(h: K) -> float:
        return n * sizes[h] / total - alloc[h]

    while sum(alloc.values()) > n:  # the minimum of one overshot: take back where most over quota
        h = min((h for h in keys if alloc[h] > 1), key=deficit)
        alloc[h] -= 1
    while sum(alloc.values()) < n:
        h = max((h for h in keys if alloc[h] < sizes[h]), key=deficit)
        alloc[h] += 1
    return alloc


def draw_positions(sizes: Mapping[K, int], n: int, seed: int) -> dict[K, list[int]]:
    """Per stratum, the positions (0-based, in example-id order) the sample takes, in the order drawn.

    Reproducible from ``seed``, and drawn one at a time from each stratum's own stream,
    so the order is itself random and, for every n, a larger sample with the same seed
    starts with the smaller one (per stratum): reading further after ``--sample 100``
    with ``--sample 200`` keeps the first hundred, also when 200 is more than there are.
    """
    alloc = allocate(sizes, n)
    return {h: _distinct(random.Random(seed if h is None else f"{seed}:{h}"), sizes[h], alloc[h])
            for h in sorted(sizes, key=_order)}


def _distinct(rng: random.Random, size: int, k: int) -> list[int]:
    """The first ``k`` of a random order of ``range(size)``, drawn one at a time (a lazy Fisher-Yates).

    The i-th draw does not depend on k, so every prefix is the smaller sample, and
    k >= size gives all of them in that same order (it used to be a fresh shuffle).
    """
    moved: dict[int, int] = {}  # position -> the value a swap left there
    out = []
    for i in range(min(k, size)):
        j = rng.randrange(i, size)
        out.append(moved.get(j, j))
        moved[j] = moved.get(i, i)
    return out


def estimate_share(hits: Mapping[K, int], tagged: Mapping[K, int], population: Mapping[K, int],
                   confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """A category's share of all failures, with an interval: ``(estimate, low, high)``.

    ``hits[h]`` of the ``tagged[h]`` examples read in stratum ``h`` (of ``population[h]``
    failures there) fell in the category. The estimate weights each stratum by its size
    (strata with nothing read yet are left out and the weights renormalised). The
    interval is Wilson's at the effective sample size of that weighting (Kish), with the
    finite-population correction, so having read every failure gives a zero-width interval
    and a 100-of-200 sample a narrower one than 100 of a million.
    """
    read = [h for h in population if tagged.get(h, 0) > 0]
    if not read:
        return math.nan, 0.0, 1.0
    total = sum(population[h] for h in read)
    weights = {h: population[h] / total for h in read}
    estimate = sum(weights[h] * hits.get(h, 0) / tagged[h] for h in read)
    # Variance factor of the weighted mean relative to p(1 - p): sum of w^2 * fpc / n.
    factor = sum(weights[h] ** 2 * _fpc(population[h], tagged[h]) / tagged[h] for h in read)
    if factor <= 0:
        return estimate, estimate, estimate
    n_eff = max(1, round(1 / factor))
    low, high = wilson_interval(min(n_eff, max(0.0, estimate * n_eff)), n_eff, confidence)
    return estimate, low, high


def _fpc(population: int, read: int) -> float:
    """Finite-population correction: 0 when every failure in the stratum has been read."""
    return 0.0 if population <= 1 else max(0.0, (population - read) / (population - 1))


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
INLINE_DIFF_LIMIT = 2000  # characters; beyond this a single line too is diffed whole (word diffs are quadratic)


def text_diff(target: str, output: str, context: int = 2) -> list[list[tuple[str, str]]]:
    """How ``output`` differs from ``target``: lines of ``(kind, text)``, kind same/del/add/head.

    A single-line pair is compared word by word (``42`` against ``24`` shows as one
    word replaced, not as shuffled digits); text with several lines as a unified diff,
    ``-`` for what the target has and the output lacks, ``+`` for the reverse.
    """
    if "\n" not in target + output and len(target) + len(output) <= INLINE_DIFF_LIMIT:
        a, b = _TOKEN.findall(target), _TOKEN.findall(output)
        line: list[tuple[str, str]] = []
        for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                line.append(("same", "".join(a[a0:a1])))
                continue
            if a1 > a0:
                line.append(("del", "".join(a[a0:a1])))
            if b1 > b0:
                line.append(("add", "".join(b[b0:b1])))
        return [line]
    lines = []
    for text in difflib.unified_diff(target.splitlines(), output.splitlines(), "target", "output", n=context,
                                     lineterm=""):
        kind = "head" if text.startswith(("---", "+++", "@@")) else {"-": "del", "+": "add"}.get(text[:1], "same")
        lines.append([(kind, text)])
    return lines


def _order(stratum: Any) -> tuple[bool, str]:
    """Sort key for strata, where None (no value, or no stratification) comes first."""
    return stratum is not None, str(stratum)


# == plain data ============================================================================
@dataclass(frozen=True)
class Sample:
    """A run's stored failure sample; ``items`` in walking order, each with its tag and note."""

    run_id: str
    asked: int  # the --sample asked for; ``size`` is what was drawn (fewer when there are fewer failures)
    seed: int
    by: str | None
    where: list[str]
    population: list[tuple[str | None, int]]  # failures per stratum when drawn
    items: list[dict[str, Any]]  # position, example_id, stratum, seen, category, note
    created_at: float
    notes: list[str] = field(default_factory=list)  # what the caller should tell the user

    @property
    def failures(self) -> int:
        return sum(n for _, n in self.population)

    @property
    def size(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "size": self.size, "failures": self.failures}


@dataclass(frozen=True)
class CategoryRow:
    """One category: its count, share of the counted tags, and estimated share of all failures."""

    category: str
    count: int
    share: float
    estimate: float
    low: float
    high: float
    vs_right: int | None = None  # with --vs: how many of these examples the other run gets right
    vs_wrong: int | None = None
    vs_missing: int | None = None  # not among the other run's examples


@dataclass(frozen=True)
class CategoryReport:
    """Category counts for a run, largest first (``hunch categories``)."""

    run_id: str
    failures: int  # failures the estimate is about (when the sample was drawn)
    sampled: int | None  # size of the sample; None when tags were given without one
    tagged: int
    untagged: int
    by: str | None
    outside: int  # tags on examples outside the sample: shown, not counted
    rows: list[CategoryRow]
    where: list[str] = field(default_factory=list)  # the filters the sample's failures matched
    vs: str | None = None
    confidence: float = CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# == store access ==========================================================================
def _open(ref: str, project: Project | None) -> tuple[Store, str]:

    store = current_store(project)
    try:
        return store, store.resolve_run(ref)
    except BaseException:
        store.close()
        raise


def _filters(conn: Connection, run_id: str, where: Sequence[str]) -> list[Filter]:
    """Parsed ``--where`` filters, refusing a key no example of the run has (and listing the fields)."""
    from hunchlab.records import parse_where
    from hunchlab.store import triage as q

    filters = [parse_where(w) for w in where]
    for f in filters:
        if f.key not in q.BUILTIN_KEYS and not q.has_field(conn, run_id, f.key):
            names = [*q.BUILTIN_KEYS, *q.field_names(conn, q.condition(conn, run_id, []))]
            raise HunchError(f"--where '{f.text}': no example of run {run_id} has a field '{f.key}'"
                             f"{did_you_mean(f.key, names)}", fix=f"fields: {', '.join(names)}")
    return filters


def _require_examples(conn: Connection, run_id: str) -> dict[bool | None, int]:
    from hunchlab.store import triage as q

    counts = q.correctness_counts(conn, run_id)
    if not counts:
        raise HunchError(f"run {run_id} has no example records", fix=HOW_TO_LOG)
    return counts


# == examples ==============================================================================
def list_examples(ref: str, where: Sequence[str] = (), *, limit: int | None = 50,
                  project: Project | None = None) -> dict[str, Any]:
    """A run's example records matching ``where`` (``["correct=false", "topic=algebra"]``), in id order.

    Returns ``{"run_id", "total", "fields", "examples"}``: ``total`` counts every match,
    ``examples`` holds the first ``limit`` (all for None), ``fields`` their free fields.
    """
    from hunchlab.store import triage as q

    store, run_id = _open(ref, project)
    with store, store.read() as conn:
        _require_examples(conn, run_id)
        where_clause = q.condition(conn, run_id, _filters(conn, run_id, where))
        rows = list(q.iter_examples(conn, where_clause, limit))
        total = q.count(conn, where_clause) if limit is not None and len(rows) == limit else len(rows)
    names = list(dict.fromkeys(k for r in rows for k in r["fields"]))
    return {"run_id": run_id, "total": total, "fields": names, "examples": rows}


def export_examples(ref: str, where: Sequence[str] = (), *,
                    project: Project | None = None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every matching record, streamed (a million do not sit in memory), and the field names first.

    The names come first so a CSV can have one column per field from its header on.
    """
    from hunchlab.store import triage as q

    store, run_id = _open(ref, project)
    try:
        with store.read() as conn:
            _require_examples(conn, run_id)
            filters = _filters(conn, run_id, where)
            names = q.field_names(conn, q.condition(conn, run_id, filters))
    except BaseException:
        store.close()
        raise

    def rows() -> Iterator[dict[str, Any]]:
        with store, store.read() as conn:
            yield from q.iter_examples(conn, q.condition(conn, run_id, filters))

    return names, rows()


# == sampling ==============================================================================
def _draw(conn: Connection, run_id: str, filters: Sequence[Filter], size: int, seed: int,
          by: str | None) -> tuple[list[tuple[str, str | None]], list[tuple[str | None, int]]]:
    """A reproducible random sample of the failures: items in walking order, and the strata sizes."""
    from hunchlab.store import triage as q

    where = q.condition(conn, run_id, filters, failures=True)
    if by is None:
        total = q.count(conn, where)
        picks = draw_positions({None: total}, size, seed)[None]
        found = dict(zip(sorted(picks), q.ids_at(conn, where, picks), strict=True))
        return [(found[p], None) for p in picks], [(None, total)]  # in the order drawn: already random
    groups: dict[str | None, list[str]] = {}
    for example_id, stratum in q.ids_and_strata(conn, where, by):
        groups.setdefault(stratum, []).append(example_id)
    if len(groups) > size:
        raise HunchError(f"--by {by}: the failures have {len(groups)} different values of '{by}', more than a "
                         f"sample of {size} can cover", fix="stratify by a field with fewer values, or take a larger --sample")
    sizes = {h: len(ids) for h, ids in groups.items()}
    items = [(groups[h][p], h) for h, positions in draw_positions(sizes, size, seed).items() for p in positions]
    random.Random(f"{seed}:order").shuffle(items)  # walking order mixes the strata: any prefix is a random subsample
    return items, sorted(sizes.items(), key=lambda kv: _order(kv[0]))


def _sample(conn: Connection, store: Store, run_id: str, *, size: int | None, seed: int | None,
            where: Sequence[str], by: str | None, resume: bool, replace: bool = True) -> Sample:
    """The run's stored sample when asked to resume, or when it matches; otherwise a new one.

    Reading never changes what is stored: without ``size`` (no ``--sample``) the stored
    sample is shown as it is, and options that would need another one are refused
    rather than silently drawing it. Only an explicit ``size`` draws (and replaces, unless
    ``replace`` is False: then drawing over a stored sample is refused).
    """
    from hunchlab.store import triage as q

    if size is not None and size < 1:
        raise HunchError(f"--sample {size}: a sample needs at least one example", fix="e.g. --sample 100")
    counts = _require_examples(conn, run_id)
    stored = q.load_sample(conn, run_id)
    if resume:
        if stored is None:
            raise HunchError(f"run {run_id} has no sample to resume", fix=f"draw one: hunch failures {run_id} --sample 100")
        return Sample(**stored)
    if stored is not None and size is None:
        asked = {"seed": seed, "by": by, "where": list(where) or None}
        differ = [k for k, v in asked.items() if v is not None and stored[k] != v]
        if not differ:
            return Sample(**stored)
        raise HunchError(f"run {run_id} has a stored sample of {len(stored['items'])} (seed {stored['seed']}); "
                         f"another {' and '.join(differ)} would replace it",
                         fix=f"to draw a new one (tags are kept): hunch failures {run_id} --sample N with those "
                             "options; to read the stored one, leave them out")
    wanted = {"asked": size or DEFAULT_SAMPLE, "seed": seed or 0, "by": by, "where": list(where)}
    if stored is not None and all(stored[k] == v for k, v in wanted.items()):
        return Sample(**stored)
    if stored is not None and not replace:
        raise HunchError(f"run {run_id} already has a failure sample ({len(stored['items'])} examples, seed "
                         f"{stored['seed']}, by {stored['by']}, where {stored['where']}): drawing another would "
                         "replace it", fix="ask for that same sample to read it and add tags to it")
    return _draw_and_store(conn, store, run_id, wanted, stored, counts)


def _draw_and_store(conn: Connection, store: Store, run_id: str, wanted: dict[str, Any],
                    stored: dict[str, Any] | None, counts: Mapping[bool | None, int]) -> Sample:
    """Draw the sample ``wanted`` describes and store it in place of ``stored`` (its tags and reads kept)."""
    from hunchlab.store import triage as q

    where, by, size = wanted["where"], wanted["by"], wanted["asked"]
    filters = _filters(conn, run_id, where)
    if by is not None and not q.has_field(conn, run_id, by):
        names = q.field_names(conn, q.condition(conn, run_id, []))
        raise HunchError(f"--by {by}: no example of run {run_id} has a field '{by}'{did_you_mean(by, names)}",
                         fix=f"fields: {', '.join(names) or 'none (log them as run.example(..., topic=...))'}")
    items, population = _draw(conn, run_id, filters, size, wanted["seed"], by)
    if not items:
        raise _no_failures(run_id, counts, where)
    notes, seen = [], set()
    if len(items) < size:
        notes.append(f"asked for {size} but run {run_id} has only {len(items)} failures{' matching' if where else ''}: "
                     f"took all {len(items)}")
    if stored is not None:
        notes.append(f"replaced the earlier sample of run {run_id} ({len(stored['items'])} examples, seed "
                     f"{stored['seed']}); its tags are kept")
        seen = {i["example_id"] for i in stored["items"] if i["seen"]}
    with store.write() as wconn:
        q.save_sample(wconn, run_id, {**wanted, "population": population}, items, seen)
        saved = q.load_sample(wconn, run_id)
    assert saved is not None
    return Sample(**saved, notes=notes)


def _no_failures(run_id: str, counts: Mapping[bool | None, int], where: Sequence[str]) -> HunchError:
    total = sum(counts.values())
    if where and counts.get(False):
        return HunchError(f"none of the {counts[False]} failures of run {run_id} match {' '.join(where)}",
                          fix=f"`hunch examples {run_id} --where correct=false` lists them")
    if counts.get(None) == total:
        return HunchError(f"none of the {total} examples of run {run_id} says whether it is correct",
                          fix="log correct=True/False with each run.example(...)")
    return HunchError(f"run {run_id} has no failing examples: {counts.get(True, 0)} of {total} are correct",
                      fix="failures are examples logged with correct=False")


def failures(ref: str, *, sample: int | None = None, seed: int | None = None, where: Sequence[str] = (),
             by: str | None = None, resume: bool = False, replace: bool = True,
             project: Project | None = None) -> Sample:
    """The run's failure sample with every item's tag: the stored one, or one drawn when ``sample`` is given
    (or none is stored: DEFAULT_SAMPLE, seed 0). No terminal needed. ``replace=False`` refuses to draw a
    new sample over a stored one with other settings."""
    store, run_id = _open(ref, project)
    with store, store.read() as conn:
        return _sample(conn, store, run_id, size=sample, seed=seed, where=where, by=by, resume=resume,
                       replace=replace)


def open_failures(ref: str, *, sample: int | None = None, seed: int | None = None, where: Sequence[str] = (),
                  by: str | None = None, resume: bool = False, project: Project | None = None) -> Triage:
    """A ``Triage`` session on the run's failure sample: what ``hunch failures`` walks on a terminal."""
    store, run_id = _open(ref, project)
    try:
        with store.read() as conn:
            drawn = _sample(conn, store, run_id, size=sample, seed=seed, where=where, by=by, resume=resume)
        return Triage(store, drawn)
    except BaseException:
        store.close()
        raise


class Triage:
    """An open failure sample: read an example, tag it, note it, skip it; every change is saved at once.

    Use as a context manager (it holds the store open). Positions are 0-based indexes
    into ``items``, the sample's walking order.
    """

    def __init__(self, store: Store, sample: Sample) -> None:
        from hunchlab.store import triage as q

        self.store = store
        self.sample = sample
        self.run_id = sample.run_id
        self.items = [dict(i) for i in sample.items]
        with store.read() as conn:
            mine = [t["category"] for t in q.run_tags(conn, self.run_id) if t["category"]]
            earlier = q.earlier_tags(conn, self.run_id, [i["example_id"] for i in self.items])
        # Earlier runs' categories by use, ties in the order they were made (earlier_tags is newest first).
        # Keys stay put for the whole session: new categories are appended, none moves.
        earlier_by_use = Counter(t["category"] for t in reversed(earlier)).most_common()
        self.categories: list[str] = list(dict.fromkeys([*mine, *(c for c, _ in earlier_by_use)]))

    def __enter__(self) -> Triage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def __len__(self) -> int:
        return len(self.items)

    def example(self, position: int) -> dict[str, Any]:
        """The whole record at ``position`` with its tag, note, stratum and earlier runs' tags."""
        from hunchlab.store import triage as q

        item = self.items[position]
        with self.store.read() as conn:
            record = q.get_example(conn, self.run_id, item["example_id"])
            earlier = q.earlier_tags(conn, self.run_id, [item["example_id"]])
        if record is None:
            raise NotFound(f"example '{item['example_id']}' of the sample is gone from run {self.run_id}",
                           fix=f"draw a new sample: hunch failures {self.run_id} --seed {self.sample.seed + 1}")
        return {**record, "position": position, "stratum": item["stratum"], "category": item["category"],
                "note": item["note"], "earlier": earlier[:3]}

    def tag(self, position: int, category: str) -> None:
        """File the example under ``category`` (made if new); replaces its earlier category."""
        category = _category(category)
        self._save(position, category=category, note=self.items[position]["note"])
        if category not in self.categories:
            self.categories.append(category)

    def untag(self, position: int) -> None:
        self._save(position, category=None, note=self.items[position]["note"])

    def note(self, position: int, text: str) -> None:
        """Attach a free-text note (empty text removes it)."""
        self._save(position, category=self.items[position]["category"], note=text.strip() or None)

    def skip(self, position: int) -> None:
        """Count the example as read without a category."""
        from hunchlab.store import triage as q

        if not self.items[position]["seen"]:
            with self.store.write() as conn:
                q.mark_seen(conn, self.run_id, position)
            self.items[position]["seen"] = True

    def _save(self, position: int, *, category: str | None, note: str | None) -> None:
        from hunchlab.store import triage as q

        item = self.items[position]
        with self.store.write() as conn:
            q.set_tag(conn, self.run_id, item["example_id"], category=category, note=note)
            q.mark_seen(conn, self.run_id, position)
        item.update(category=category, note=note, seen=True)

    def progress(self) -> dict[str, int]:
        """``{"read", "total", "categories"}``: "37/100 read, 5 categories"."""
        used = {i["category"] for i in self.items if i["category"]}
        return {"read": sum(1 for i in self.items if i["seen"] or i["category"]), "total": len(self.items),
                "categories": len(used)}

    def first_unread(self) -> int:
        """Where ``--resume`` starts: the first example neither tagged nor skipped (0 when all are read)."""
        return next((p for p, i in enumerate(self.items) if not (i["seen"] or i["category"])), 0)


def _category(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise HunchError("a category needs a name", fix="e.g. hunch tag RUN q17 'wrong units'")
    return name


# == tags ==================================================================================
def tag(ref: str, example_id: str, category: str | None = None, *, note: str | None = None, clear: bool = False,
        agent: str | None = None, keep_others: bool = False, project: Project | None = None) -> dict[str, Any]:
    """Tag one example of a run with a category and/or a note; ``clear`` removes both.

    Giving only a category keeps the example's note, and the other way round.
    ``agent`` records who tagged it; with ``keep_others`` a tag someone else gave is
    never replaced (an agent adds to the record, it does not overwrite yours).
    Returns ``{"run_id", "example_id", "category", "note", "agent"}``.
    """
    from hunchlab.store import triage as q
    from hunchlab.who import label

    if category is None and note is None and not clear:
        raise HunchError("nothing to tag with", fix="give a CATEGORY, --note TEXT, or --clear")
    store, run_id = _open(ref, project)
    with store:
        with store.read() as conn:
            _require_examples(conn, run_id)
            if not q.existing_ids(conn, run_id, [example_id]):
                raise _unknown_example(conn, run_id, example_id)
            old = q.get_tag(conn, run_id, example_id) or {"category": None, "note": None, "agent": agent}
        if keep_others and old["agent"] != agent:
            raise HunchError(f"example '{example_id}' of run {run_id} is already tagged "
                             f"{old['category'] or old['note']!r} by {label(old['agent'])}",
                             fix="tags made by someone else are kept as they are: write a journal note instead")
        new = {"category": None, "note": None} if clear else {
            "category": old["category"] if category is None else _category(category),
            "note": old["note"] if note is None else (note.strip() or None)}
        with store.write() as conn:
            q.set_tag(conn, run_id, example_id, **new, agent=agent)
    return {"run_id": run_id, "example_id": example_id, **new, "agent": agent}


def _unknown_example(conn: Connection, run_id: str, example_id: str, where: str | None = None) -> NotFound:
    from hunchlab.store import triage as q

    near = q.ids_like(conn, run_id, example_id[: max(1, len(example_id) // 2)])
    return NotFound(f"no example '{example_id}' in run {run_id}{did_you_mean(example_id, near)}", where=where,
                    fix=f"`hunch examples {run_id}` lists its examples")


def tag_from_csv(ref: str, path: str | Path, *, project: Project | None = None) -> int:
    """Tag many examples from a CSV with columns ``id`` (or ``example_id``), ``category`` and optionally ``note``.

    All or nothing: every id is checked before anything is written. Rows with neither
    a category nor a note are skipped. Returns how many examples were tagged.
    """
    from hunchlab.store import triage as q

    rows, line_of = _read_tag_csv(Path(path))
    store, run_id = _open(ref, project)
    with store:
        with store.read() as conn:
            _require_examples(conn, run_id)
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
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            id_col = next((c for c in ("id", "example_id") if c in columns), None)
            cat_col = next((c for c in ("category", "tag") if c in columns), None)
            if id_col is None or cat_col is None:
                raise HunchError(f"needs columns 'id' and 'category' (it has: {', '.join(columns) or 'none'})",
                                 where=str(path), fix="e.g. a header line: id,category,note")
            rows: dict[str, dict[str, str | None]] = {}
            line_of: dict[str, int] = {}
            for raw in reader:
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
                category, note = row.get(cat_col) or None, row.get("note") or None
                if row.get(id_col) and (category or note):
                    rows[row[id_col]] = {"category": category and _category(category), "note": note}
                    line_of[row[id_col]] = reader.line_num
    except FileNotFoundError:
        raise HunchError("file not found", where=str(path), fix="give the path of a CSV with columns id,category") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise HunchError(f"not a readable CSV: {e}", where=str(path), fix="save it as UTF-8 CSV") from None
    return rows, line_of


# == categories ============================================================================
def categories(ref: str, *, vs: str | None = None, project: Project | None = None) -> CategoryReport:
    """Counts per category, largest first, with shares and estimated shares of all failures.

    With a sample, the counted examples are the sample's tagged ones (tags elsewhere
    are reported as ``outside``, since they were not picked at random). Without one,
    every tagged example counts and is treated as a random sample of the failures.
    With ``vs``, each row also says how many of its examples the other run gets right:
    did the fix shrink the category it aimed at?
    """
    from hunchlab.store import triage as q

    store, run_id = _open(ref, project)
    with store:
        other = store.resolve_run(vs) if vs else None
        with store.read() as conn:
            counts = _require_examples(conn, run_id)
            stored = q.load_sample(conn, run_id)
            tags = {t["example_id"]: t["category"] for t in q.run_tags(conn, run_id) if t["category"]}
            if stored is not None:
                members = {i["example_id"]: i["stratum"] for i in stored["items"]}
                population = dict(stored["population"])
            else:
                members = {example_id: None for example_id in tags}
                population = {None: max(counts.get(False, 0), len(tags))}
            counted = {e: c for e, c in tags.items() if e in members}
            right = q.correct_of(conn, other, list(counted)) if other else {}
    read = Counter(members[e] for e in counted)
    rows = []
    for category, n in sorted(Counter(counted.values()).items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [e for e, c in counted.items() if c == category]
        hits = Counter(members[e] for e in mine)
        estimate, low, high = estimate_share(hits, read, population)
        vs_cols = {}
        if other:
            vs_cols = {"vs_right": sum(1 for e in mine if right.get(e) is True),
                       "vs_wrong": sum(1 for e in mine if right.get(e) is False),
                       "vs_missing": sum(1 for e in mine if e not in right)}
        rows.append(CategoryRow(category, n, n / len(counted), estimate, low, high, **vs_cols))
    return CategoryReport(run_id=run_id, failures=sum(population.values()),
                          sampled=len(members) if stored is not None else None, tagged=len(counted),
                          untagged=(len(members) if stored is not None else sum(population.values())) - len(counted),
                          by=stored["by"] if stored else None, outside=len(tags) - len(counted), rows=rows,
                          where=stored["where"] if stored else [], vs=other)


def plot_categories(report: CategoryReport, out: str | Path) -> FigureFiles:
    """The estimated share of failures per category as bars with their intervals, largest first."""
    from hunchlab.plots import bar_chart

    if not report.rows:
        raise HunchError(f"nothing tagged in run {report.run_id} to plot", fix=f"hunch failures {report.run_id} --sample 100")
    bars = [{"label": r.category, "mean": r.estimate, "lo": r.low, "hi": r.high} for r in report.rows]
    return bar_chart(bars, out, title=f"Failure categories of {report.run_id} ({report.tagged} tagged of "
                                      f"{report.failures} failures)",
                     ylabel=f"estimated share of failures ({report.confidence:.0%} CI)")
