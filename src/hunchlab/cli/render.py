"""Shared output helpers: option bundles and table/JSON/CSV rendering for commands."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from hunchlab import strict_json

JSON_HELP = "Write JSON to stdout."


def json_option(help: str = JSON_HELP) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--json`` (the ``as_json`` parameter), spelled the same on every command; ``help`` says what
    the JSON holds where that is more than the command's output."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--json`` / ``--csv``, spelled the same on every command that lists things."""
    fn = click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout.")(fn)
    return json_option()(fn)


def console() -> Any:
    from rich.console import Console

    # Piped output (to less, grep, a file) is not folded at 80 columns.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def emit_json(data: Any) -> None:
    """One encoding and one write, strict JSON (NaN and infinities as null: ``hunchlab.strict_json``).
    ``json.dump`` to a stream with ``indent`` takes the pure-Python encoder and writes piece by
    piece: ``hunch show --json`` of a 200,000-point run took 5.2 s that way, 1.5 s now.
    Indented only for a person at a terminal."""
    indent = 1 if sys.stdout.isatty() else None
    sys.stdout.write(strict_json.dumps(data, indent=indent) + "\n")


def emit_csv(rows: Sequence[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(buf.getvalue())


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None) -> Any:
    from rich.table import Table

    t = Table(title=title, caption=caption, title_justify="left", caption_justify="left", show_edge=False,
              header_style="bold", pad_edge=False)
    for col in columns:
        t.add_column(col, overflow="ellipsis", no_wrap=True)
    for row in rows:
        t.add_row(*(fmt(v) for v in row))
    return t


def fmt(v: Any) -> str:
    """Numbers to ~4 significant digits, everything else as text (escaped for rich)."""
    from rich.markup import escape

    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, float):
        if v != v:
            return "nan"
        return f"{v:.4g}"
    return escape(str(v))


def age(t: float | None, now: float | None = None) -> str:
    if not t:
        return ""
    s = max(0.0, (now or time.time()) - t)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{int(s // size)}{unit} ago"
    return f"{int(s)}s ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
