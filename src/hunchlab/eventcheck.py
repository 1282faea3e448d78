"""What a valid event line holds: the checks and the caps, in one place.

The fold runs every line of an event file through ``problem``; a line that fails is
quarantined (kept verbatim beside the run, counted, shown by ``hunch show``) and the
rest of the run folds, so one bad line never takes more than its own run's line with
it. The Python API runs the same checks on the rare call whose line is long enough
to break a cap (``run.log`` checks its step itself), so it never writes a line the
fold would refuse. The caps are stated in docs/runs.md.

Why each cap:
- ``MAX_LINE_BYTES`` (16 MiB): bounds the memory a fold needs for one line, while
  leaving room for a long transcript in ``run.example`` (the largest seen in the
  studies is ~0.3 MiB). Bigger things belong in ``run.artifact``.
- ``MAX_NAME_CHARS`` (250, as MLflow's metric keys) and ``MAX_ID_CHARS`` (500): a
  metric name, example id or artifact name is part of an index key, and PostgreSQL
  refuses a B-tree entry over ~2.7 kB (500 characters of up to 4 bytes fit).
- ``MAX_KEYS`` (10,000 per line): a log line of more metrics is almost certainly a
  bug (a dict of per-example values); it would also cost a fold that much per line.
- steps and integers within int64: what the store's INTEGER columns hold on every
  database; a bigger value used to abort every later read of the project.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from hunchlab.errors import HunchError

MAX_LINE_BYTES = 16 << 20
MAX_NAME_CHARS = 250
MAX_ID_CHARS = 500
MAX_KEYS = 10_000
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
END_STATUSES = ("finished", "failed", "interrupted", "crashed", "pruned")
_FLOAT = {float}
_FLOAT_OR_NULL = {float, type(None)}
_DICT, _INT, _LOG = {dict}, {int}, {"log"}
_T, _STEP, _M = itemgetter("t"), itemgetter("step"), itemgetter("m")


def problem(event: Any) -> str | None:
    """Why ``event`` (a parsed line) cannot be folded, or None when it is valid."""
    if type(event) is not dict:
        return f"not a JSON object but {_kind_of(event)}"
    kind = event.get("t")
    check = _CHECKS.get(kind) if type(kind) is str else None
    if check is None:
        return "no kind (field \"t\")" if kind is None else f"unknown kind {_short(kind)}"
    return check(event)


def step_problem(step: Any) -> str | None:
    if type(step) is not int:
        return f"step must be an integer, got {_kind_of(step)} {_short(step)}"
    if not INT64_MIN <= step <= INT64_MAX:
        return f"step {_short(step)} is outside the 64-bit integer range"
    return None


def _log(event: dict[str, Any]) -> str | None:
    step, when = event.get("step"), event.get("time")
    if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
        return step_problem(step)
    if when is not None and type(when) is not float:
        why = _optional_number(event, "time")
        if why:
            return why
    metrics = event.get("m")
    if type(metrics) is not dict:
        return f"a log line's \"m\" must be an object of metrics, got {_kind_of(metrics)}"
    if not metrics:
        return None
    if len(metrics) > MAX_KEYS:
        return f"{len(metrics)} metrics in one line (at most {MAX_KEYS})"
    if max(map(len, metrics)) > MAX_NAME_CHARS:
        return f"metric name of {max(map(len, metrics))} characters (at most {MAX_NAME_CHARS})"
    if set(map(type, metrics.values())) <= _FLOAT:  # the common line: checked without a loop in Python
        return None
    for key, value in metrics.items():
        if value is not None and type(value) is not float and not _is_int64(value):
            return f"metric '{key[:40]}' must be a number or null, got {_kind_of(value)} {_short(value)}"
    return None


def plain_logs(events: list[Any]) -> bool:
    """Whether every one of ``events`` is a log line ``problem`` passes: objects of kind "log",
    int64 steps, float or null times, and objects of at most ``MAX_KEYS`` metrics with short
    names and float or null values. A chunk of a run's logging nearly always is; checked in a
    dozen passes in C over the whole chunk: 200,000 lines of 10 metrics in 0.21 s of CPU, where
    ``problem`` line by line took ~0.36 s (loaded 2-core bench machine); 0.16 s with the names
    measured once each (a set of them) rather than once a line. False says only "check
    line by line" (``problem``, which words the reason).
    """
    if not events or set(map(type, events)) != _DICT \
            or any(map(dict.__contains__, events, repeat("hunch_events"))):
        return False
    try:
        kinds, steps, metrics = set(map(_T, events)), list(map(_STEP, events)), list(map(_M, events))
    except (KeyError, TypeError):  # a field missing, or a kind that is no text (unhashable)
        return False
    if kinds != _LOG or set(map(type, steps)) != _INT or min(steps) < INT64_MIN or max(steps) > INT64_MAX \
            or not set(map(type, map(dict.get, events, repeat("time")))) <= _FLOAT_OR_NULL:
        return False
    if set(map(type, metrics)) != _DICT or max(map(len, metrics)) > MAX_KEYS:
        return False
    return max(map(len, set(chain.from_iterable(metrics))), default=0) <= MAX_NAME_CHARS \
        and set(map(type, chain.from_iterable(map(dict.values, metrics)))) <= _FLOAT_OR_NULL


def _summary(event: dict[str, Any]) -> str | None:
    why = _values(event)
    if why:
        return why
    long = next((k for k in event["d"] if not 0 < len(k) <= MAX_NAME_CHARS), None)
    return None if long is None else f"summary name of {len(long)} characters (1 to {MAX_NAME_CHARS})"


def _example(event: dict[str, Any]) -> str | None:
    record = event.get("d")
    if type(record) is not dict:
        return f"an example line's \"d\" must be an object, got {_kind_of(record)}"
    ident = record.get("id")
    if type(ident) is str:
        if len(ident) > MAX_ID_CHARS:
            return f"example id of {len(ident)} characters (at most {MAX_ID_CHARS})"
    elif not _is_int64(ident):
        return "an example needs an \"id\" (a string or an integer)" if ident is None else \
            f"an example's id must be a string or an integer, got {_kind_of(ident)}"
    correct, score, fields = record.get("correct"), record.get("score"), record.get("fields")
    if correct is not None and type(correct) is not bool:
        return f"an example's \"correct\" must be true, false or null, got {_short(correct)}"
    if fields is not None and type(fields) is not dict:
        return f"an example's \"fields\" must be an object, got {_kind_of(fields)}"
    if score is None or type(score) is float:
        return None
    return _optional_number(record, "score")


def _values(event: dict[str, Any]) -> str | None:
    """``summary``, ``params`` and ``meta`` lines: an object of values (``params`` and ``meta``: what a
    run learns of itself while it runs, a config, tags)."""
    values = event.get("d")
    if type(values) is not dict:
        return f"a {event['t']} line's \"d\" must be an object, got {_kind_of(values)}"
    if len(values) > MAX_KEYS:
        return f"{len(values)} {event['t']} values in one line (at most {MAX_KEYS})"
    return None


def _artifact(event: dict[str, Any]) -> str | None:
    name, digest, size = event.get("name"), event.get("sha256"), event.get("size")
    if type(name) is not str or not 0 < len(name) <= MAX_ID_CHARS:
        return f"an artifact needs a \"name\" of 1 to {MAX_ID_CHARS} characters"
    if type(digest) is not str or len(digest) > 128:
        return "an artifact needs a \"sha256\" (hex text)"
    if type(size) is not int or not 0 <= size <= INT64_MAX:
        return f"an artifact's \"size\" must be a byte count, got {_short(size)}"
    return None


def _prediction(event: dict[str, Any]) -> str | None:
    from hunchlab.claims import Claim  # lazy: loads hunchlab.claims only when called

    record = event.get("d")
    if type(record) is not dict or type(record.get("text")) is not str or type(record.get("claim")) is not dict:
        return "a prediction line needs \"d\" with \"text\" and \"claim\""
    size = record.get("group_size")
    if size is not None and (not _is_int64(size) or size < 1):
        return f"a prediction's group_size must be a positive integer, got {_short(size)}"
    try:
        Claim.from_dict(record["claim"])
    except (HunchError, TypeError, ValueError) as e:
        return f"a prediction's claim does not validate: {str(e).splitlines()[0][:120]}"
    return _optional_number(record, "created_at")


def _end(event: dict[str, Any]) -> str | None:
    if event.get("status", "finished") not in END_STATUSES:
        return f"an end line's status must be one of {', '.join(END_STATUSES)}, got {_short(event.get('status'))}"
    code, error = event.get("exit_code"), event.get("error")
    if code is not None and not _is_int64(code):
        return f"an end line's exit_code must be an integer, got {_short(code)}"
    if error is not None and type(error) is not str:
        return f"an end line's error must be text, got {_kind_of(error)}"
    return _optional_number(event, "time")


_CHECKS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "log": _log, "summary": _summary, "example": _example, "artifact": _artifact, "prediction": _prediction,
    "params": _values, "meta": _values, "end": _end,
}
KINDS = tuple(_CHECKS)


def _is_int64(value: Any) -> bool:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def _optional_number(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or type(value) is float or _is_int64(value):
        return None
    return f"\"{key}\" must be a number or null, got {_kind_of(value)} {_short(value)}"


def _kind_of(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
