"""Metrics from what an entry prints: stdout scalars, for scripts that were never instrumented.

The runner feeds every chunk of the entry's stdout here (from the thread that saves it
to ``stdout.log``); each complete line is matched and its numbers logged into the run.

Default patterns, each matching only a line made of nothing else, so a log line such
as ``INFO: 3 files`` or ``12:30:01 started`` is never read as a metric:

- ``key: value`` — ``loss: 0.52, acc: 0.81`` (any of ``, ; |`` or spaces between pairs);
- ``key=value`` — ``loss=0.52 acc=0.81``;
- ``step N … key value`` — ``step 100 | loss 0.52 | lr 3e-4`` (also ``iter N``).

A value may carry a unit (``12.3ms``, ``98.0%``), dropped. The spec's ``metrics_from``
adds patterns: a key (``loss``, ``train loss``) is found anywhere in a line as
``key[:=]? value``; anything else is a regex whose named groups are ``step``, ``key``
and ``value``, or metric names (``iter (?P<step>\\d+): loss (?P<loss>\\S+)``). A line
naming ``step``/``iter N`` sets the step of what it holds; other lines take the last step
seen, or count lines when no step was ever printed. ``metrics_from: false`` turns it off.

Cost (bench/bench_scalars.py, case (k) of bench/README.md): a script printing 10,000
lines a second ran 4.4% longer with reading on (the issue's bound is 5%), measured with
every core busy; the parser takes 3.4 µs of CPU a line, each logged line ~8 µs more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hunchlab.errors import SpecError

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
UNIT = r"(?:%|[a-zA-Zµ]{1,3}\b)?"
KEY = r"[A-Za-z_][\w./-]*"
SEP = r"(?:\s*[,;|]\s*|\s+)"
STEP_KEYS = ("step", "iter", "iteration")


def _whole_line(token: str, head: str = "") -> re.Pattern[str]:
    """A line made only of ``token``s (after an optional ``head``), separated by SEP."""
    return re.compile(rf"^\s*{head}(?:{token})(?:{SEP}(?:{token}))*\s*[,;|]?\s*$", re.IGNORECASE)


DEFAULTS = {
    "key: value": _whole_line(rf"{KEY}\s*:\s*{NUM}{UNIT}"),
    "key=value": _whole_line(rf"{KEY}\s*=\s*{NUM}{UNIT}"),
    "step N … key value": _whole_line(rf"{KEY}\s*[:=]?\s*{NUM}{UNIT}",
                                      rf"(?:{'|'.join(STEP_KEYS)})\s*[:=]?\s*\d+:?{SEP}"),
}
# The three as one regex (one match call a line instead of three): group gN is DEFAULTS' Nth.
ANY_DEFAULT = re.compile("|".join(f"(?P<g{i}>{r.pattern})" for i, r in enumerate(DEFAULTS.values())),
                         re.IGNORECASE)
DEFAULT_NAMES = {f"g{i}": name for i, name in enumerate(DEFAULTS)}
HAS_DIGIT = re.compile(rb"\d")
PAIR = re.compile(rf"({KEY})\s*[:=]?\s*({NUM}){UNIT}")
STEP_IN_LINE = re.compile(rf"(?<![\w.])(?:{'|'.join(STEP_KEYS)})\s*[:=]?\s*(\d+)\b", re.IGNORECASE)
Found = list[tuple[str, dict[str, float]]]  # (pattern name, values) for each pattern that matched a line


@dataclass
class StdoutScalars:
    """Parses an entry's stdout into metric points; ``log(values, step)`` receives them."""

    log: Callable[[dict[str, float], int], None]
    user: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)  # (as written in the spec, regex)
    counts: dict[str, int] = field(default_factory=dict)  # points per pattern, for `hunch show`
    points: int = 0
    lines_read: int = 0
    _rest: bytes = b""
    _step: int | None = None
    _lines: int = 0

    def feed(self, chunk: bytes) -> None:
        """Take a chunk of output; complete lines are parsed, a partial one waits for the next chunk."""
        lines = re.split(rb"[\r\n]", self._rest + chunk)
        self._rest = lines.pop()
        self.lines_read += len(lines)
        digit = HAS_DIGIT.search
        for raw in lines:
            if digit(raw):  # no digit, no number: most lines end here
                self.line(raw.decode(errors="replace"))

    def close(self) -> None:
        """The stream ended: parse a last line printed without a newline."""
        if self._rest:
            self.lines_read += 1
            self.line(self._rest.decode(errors="replace"))
            self._rest = b""

    def line(self, text: str) -> None:
        """Log the numbers one line holds, at its step (or the last one seen, or its line count)."""
        found, step_group = self._match(text)
        if not found:
            return
        values = found[0][1] if len(found) == 1 else {k: v for _, vals in found for k, v in vals.items()}
        if step_group is None:
            in_line = STEP_IN_LINE.search(text)
            step_group = int(in_line.group(1)) if in_line else None
        if step_group is not None:
            self._step = step_group
        step = self._step if self._step is not None else self._lines
        self._lines += 1
        if values:
            self.log(values, step)
            self.points += len(values)
            for name, vals in found:
                self.counts[name] = self.counts.get(name, 0) + len(vals)

    def _match(self, text: str) -> tuple[Found, int | None]:
        """What the patterns found in a line, and the step a user regex's ``step`` group gave."""
        found: Found = []
        step = None
        for name, regex in self.user:
            hit = regex.search(text)
            if hit:
                raw_step = hit.groupdict().get("step")
                if raw_step is not None and raw_step.strip().isdigit():
                    step = int(raw_step)
                found.append((name, {k: v for k, v in _from_groups(hit).items() if k.lower() not in STEP_KEYS}))
        if not found:
            hit = ANY_DEFAULT.match(text)
            if hit and hit.lastgroup:
                values = {k: float(v) for k, v in PAIR.findall(text) if k.lower() not in STEP_KEYS}
                return [(DEFAULT_NAMES[hit.lastgroup], values)], None
        return found, step


def _from_groups(hit: re.Match[str]) -> dict[str, float]:
    groups = {k: v for k, v in hit.groupdict().items() if v is not None and k != "step"}
    values: dict[str, float] = {}
    if "key" in groups and "value" in groups:
        groups[re.sub(r"\s+", "_", groups.pop("key").strip())] = groups.pop("value")
    for key, raw in groups.items():
        number = _float(raw)
        if number is not None:
            values[key] = number
    return values


def _float(text: str) -> float | None:
    m = re.match(rf"\s*({NUM}|nan|inf)", text, re.IGNORECASE)
    return float(m.group(1)) if m else None


def build(metrics_from: bool | str | list[str] | None, *, command: bool,
          log: Callable[[dict[str, float], int], None], where: str | None = None) -> StdoutScalars | None:
    """The parser a spec asks for, or None: off (``false``), or a Python entry that did not ask.

    Python entries log with ``run.log``, so their stdout is read only when the spec says
    ``metrics_from``; command entries are read by default.
    """
    if metrics_from is False or (metrics_from is None and not command):
        return None
    items: list[str] = ([] if metrics_from is None or metrics_from is True
                        else [metrics_from] if isinstance(metrics_from, str) else list(metrics_from))
    return StdoutScalars(log, user=[(str(item), _user_pattern(str(item), where)) for item in items])


def _user_pattern(item: str, where: str | None) -> re.Pattern[str]:
    """A key (``loss``, ``train loss``) found anywhere as ``key[:=]? value``, or a regex with named groups."""
    if re.fullmatch(r"[A-Za-z_][\w./-]*(?: [\w./-]+)*", item):
        group = re.sub(r"\W", "_", item)
        key = re.escape(item).replace(r"\ ", r"\s+")
        return re.compile(rf"(?<![\w.]){key}\s*[:=]?\s*(?P<{group}>{NUM}|nan|inf)", re.IGNORECASE)
    try:
        regex = re.compile(item)
    except re.error as e:
        raise SpecError(f"metrics_from: {item!r} is not a valid regex: {e}", where=where,
                        fix="escape special characters, e.g. \\( and \\.; or give a key such as 'loss'") from None
    if not set(regex.groupindex) - {"step"}:
        raise SpecError(f"metrics_from: {item!r} has no named group, so it names no metric", where=where,
                        fix="name the number, e.g. 'loss (?P<loss>[0-9.]+)', or give (?P<key>…) and (?P<value>…)")
    return regex
