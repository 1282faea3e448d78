"""The sides of a comparison: one per selector (or per group a single selector names), lettered
A, B, … with A the baseline, each described by the config keys that tell it apart.

Apart from the statistics (``compare_analysis``) because choosing what to compare is its own
job with its own errors (a selector naming several configs, two sides naming the same runs),
and ``hunch plot`` and the dashboard's overlaid curves pick and name their groups the same way
without comparing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hunchlab.errors import BadInput
from hunchlab.identity import same_text
from hunchlab.run_records import flatten
from hunchlab.selectors import Group, Selection, plural

if TYPE_CHECKING:
    from hunchlab.shapes import ConfigRow

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def notes_of(selections: Sequence[Selection]) -> list[str]:
    """Everything the selectors decided on the way (runs left out, runs still running)."""
    return [n for s in selections for n in s.all_notes()]


def pick_sides(selections: Sequence[Selection]) -> list[tuple[str, Group]]:
    """One side per selector (each must name one config), or one per group when a single selector names several."""
    if len(selections) == 1:
        picked = [(selections[0].selector, g) for g in selections[0].groups]
    else:
        picked = []
        for s in selections:
            if len(s.groups) > 1:
                differ = ", ".join(row["key"] for row in config_diff([g.runs[0] for g in s.groups])[:4])
                raise BadInput(
                    f"selector '{s.selector}' matches {len(s.groups)} groups with different configs ({differ})",
                    fix="add a filter on one of those keys, or name a group id: "
                        + ", ".join(f"{g.key} ({plural(len(g.runs), 'run')})" for g in s.groups[:4]))
            picked.append((s.selector, s.groups[0]))
    if len(picked) < 2:
        text, only = picked[0]
        raise BadInput(f"'{text}' names one group ({plural(len(only.runs), 'run')}): nothing to compare it with",
                       fix="name a second run, group or filter, e.g. hunch compare model.width=16 model.width=64")
    for i, (_, g) in enumerate(picked):
        for j in range(i):
            if {r["id"] for r in g.runs} == {r["id"] for r in picked[j][1].runs}:
                raise BadInput(f"{LABELS[j]} and {LABELS[i]} name the same runs",
                               fix="compare different runs or groups")
    return picked


def sides_from(picked: Sequence[tuple[str, Group]]) -> list[dict[str, Any]]:
    """Lettered sides (A is the baseline) with a short description of each."""
    if len(picked) > len(LABELS):
        raise BadInput(f"{len(picked)} groups are more than can be compared at once ({len(LABELS)})",
                       fix="narrow the selectors")
    names = labels_for(picked)
    return [{"label": LABELS[i], "selector": text, "group": g.key, "description": names[i], "runs": g.runs}
            for i, (text, g) in enumerate(picked)]


def config_diff(runs: Sequence[dict[str, Any]]) -> list[ConfigRow]:
    """The config keys (flattened params, and the spec name) whose values differ across ``runs``."""
    flat = [{"spec": r.get("spec_name"), **flatten(r["params"])} for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    missing = object()
    rows: list[ConfigRow] = []
    for key in keys:
        values = [f.get(key, missing) for f in flat]
        if len({same_text(v) for v in values}) > 1:
            rows.append({"key": key, "values": [None if v is missing else v for v in values]})
    return rows


def describe(groups: Sequence[Group], *, exclude: Sequence[str] = (), max_keys: int = 3) -> list[str]:
    """Per group, the config keys that tell it apart from the others (``model.width=64``); "" if none do."""
    diff = [r for r in config_diff([g.runs[0] for g in groups]) if r["key"] not in exclude]
    rows = [r for r in diff if r["key"] != "spec"] or diff
    return [" ".join(f"{r['key']}={_short(r['values'][i])}" for r in rows[:max_keys] if r["values"][i] is not None)
            for i in range(len(groups))]


def labels_for(picked: Sequence[tuple[str, Group]]) -> list[str]:
    """A name per (selector, group): what tells it apart, else its run id, else the selector."""
    return [name or (g.runs[0]["id"] if len(g.runs) == 1 else text)
            for name, (text, g) in zip(describe([g for _, g in picked]), picked, strict=True)]


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"
