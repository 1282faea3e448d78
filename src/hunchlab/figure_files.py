"""Where a figure goes and the two files written beside it: the numbers drawn and the script that redraws them.

A figure in a paper outlives the tool that drew it, so beside every ``fig.pdf`` goes
``fig.csv`` (exactly the numbers drawn, one observation per row) and ``fig_plot.py`` (a
standalone matplotlib script that redraws the figure from that CSV). An author can then
restyle, re-plot or audit the figure without hunchlab.

The script holds the source of ``hunchlab.plot_drawing``'s functions verbatim (``render``,
the figure's ``draw`` and whatever they call), and ``write_figure`` draws hunchlab's own
figure by reading the CSV back through those very functions, so the script cannot drift from
what hunchlab drew. A module apart from the figure kinds (``hunchlab.plots``) because it alone
knows the three files and how a script is assembled; a kind only makes its rows.
"""

from __future__ import annotations

import csv
import inspect
import math
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hunchlab.errors import BadInput
from hunchlab.plot_drawing import COLORS, PORTABLE, STYLE, render

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = (".png", ".pdf", ".svg")


@dataclass(frozen=True)
class FigureFiles:
    """Where one figure went: the image, the numbers drawn, and the script that redraws it."""

    figure: Path
    data: Path
    script: Path

    @classmethod
    def beside(cls, out: Path | str) -> FigureFiles:
        """The three paths for ``out``; checks the format first so a bad name writes nothing."""
        out = Path(out)
        if out.suffix.lower() not in FORMATS:
            raise BadInput(
                f"cannot draw a figure as '{out.suffix or out.name}'",
                where=str(out),
                fix=f"name the output with one of {', '.join(FORMATS)}",
            )
        return cls(out, out.with_name(f"{out.stem}.csv"), out.with_name(f"{out.stem}_plot.py"))


_SCRIPT_HEAD = '''"""Redraw {figure} from {data}: restyle freely, then run `python {script} [OUT]`.

Written by hunchlab; needs only matplotlib. OUT defaults to {figure} beside this file.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

{axes}from matplotlib.figure import Figure

STYLE = {{
{style}}}

COLORS = {colors!r}
'''

_SCRIPT_MAIN = """if __name__ == "__main__":
    HERE = Path(__file__).resolve().parent
    OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / {figure!r}
    render(HERE / {data!r}, OUT, {draw}, {options!r})
"""


def _global_names(code: types.CodeType) -> set[str]:
    """Names a function looks up globally, including inside its comprehensions and lambdas."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _portable_closure(draw: Callable[..., Figure]) -> list[Callable[..., Any]]:
    """``render``, ``draw`` and every portable function they call: all a script must define."""
    found: dict[str, Callable[..., Any]] = {}
    todo: list[Callable[..., Any]] = [render, draw]
    while todo:
        fn = todo.pop()
        if fn.__name__ not in found:
            found[fn.__name__] = fn
            todo.extend(PORTABLE[name] for name in _global_names(fn.__code__) if name in PORTABLE)
    own = [] if draw.__name__ in PORTABLE else [draw]  # a caller's own draw (custom_figure) comes last
    return [fn for name, fn in PORTABLE.items() if name in found] + own  # source order reads top-down


def _script_source(files: FigureFiles, draw: Callable[..., Figure], options: Mapping[str, Any]) -> str:
    """A standalone script whose functions are ``plot_drawing``'s own, so both draw the same figure."""
    functions = [inspect.getsource(fn) for fn in _portable_closure(draw)]
    head = _SCRIPT_HEAD.format(
        figure=files.figure.name,
        data=files.data.name,
        script=files.script.name,
        axes="from matplotlib.axes import Axes\n" if any("Axes" in f for f in functions) else "",
        style="".join(f"    {key!r}: {value!r},\n" for key, value in STYLE.items()),
        colors=COLORS,
    )
    main = _SCRIPT_MAIN.format(
        figure=files.figure.name, data=files.data.name, draw=draw.__name__, options=dict(options)
    )
    return "\n\n".join([head, *functions, main])


def _cell(value: Any) -> str:
    """One CSV cell: blank for a missing value, 12 significant digits for a float (no float noise)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.12g}"
    return str(value)


def write_figure(
    files: FigureFiles,
    fields: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    draw: Callable[..., Figure],
    options: Mapping[str, Any],
) -> FigureFiles:
    """Write the CSV and script, then draw the figure from that CSV exactly as the script would."""
    files.figure.parent.mkdir(parents=True, exist_ok=True)
    with open(files.data, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(row.get(k)) for k in fields} for row in rows)
    files.script.write_text(_script_source(files, draw, options), encoding="utf-8")
    render(files.data, files.figure, draw, dict(options))
    return files
