"""What the terminal, ``--markdown`` and a report all show, as *blocks* (a heading, a paragraph, a
list, a table of strings, a figure, a note), and the two renderers that turn blocks into Markdown
and into one self-contained HTML page (figures embedded as ``data:`` URIs: matplotlib reuses
element ids across figures, and inline SVGs on one page would clip each other).

One list of blocks, several renderers: the terminal, ``--markdown`` and a report never disagree.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Block = tuple[Any, ...]  # ("h", level, text) | ("p", text) | ("list", [text]) | ("table", title, columns, rows)
#                           | ("figure", FigureFiles, caption) | ("note", text)


# ============================================================ renderers


def render_markdown(title: str, blocks: Sequence[Block], base: Path) -> str:
    """Markdown with figures linked relative to ``base`` (the report's folder), data and script beside each."""
    out = [f"# {title}"]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"{'#' * block[1]} {block[2]}")
        elif kind in ("p", "text"):
            out.append(block[1])
        elif kind == "note":
            out.append(f"> note: {block[1]}")
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            _, caption, columns, rows = block
            lines = [f"**{_md_cell(caption)}**", ""] if caption else []
            lines.append("| " + " | ".join(_md_cell(c) or " " for c in columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "figure":
            f = block[1]
            rel = {k: Path(f[k]).resolve().relative_to(base.resolve()).as_posix() for k in ("figure", "data", "script")}
            out.append(f"![{block[2]}]({rel['figure']})\n\n"
                       f"{block[2]} · [data]({rel['data']}) · [script]({rel['script']})")
    return "\n\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


HTML_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:960px;margin:2em auto;padding:0 1em;
color:#1a1a1a}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:13px}.caption{font-weight:600;margin:1em 0 0;font-size:14px}
th,td{border-bottom:1px solid #e3e3e3;padding:.25em .7em;text-align:left;vertical-align:top}th{background:#f6f6f6}
td{font-variant-numeric:tabular-nums}.note{color:#8a5a00;background:#fff8e6;padding:.3em .6em;border-radius:4px}
figure{margin:1.2em 0}figure img{max-width:100%}figcaption{color:#555;font-size:13px}
pre.text{white-space:pre-wrap;font:inherit}
"""


def render_html(title: str, blocks: Sequence[Block]) -> str:
    """One self-contained HTML file: every user string escaped, figures and their data embedded."""
    e = html.escape
    out = [f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{HTML_STYLE}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "p":
            out.append(f"<p>{e(block[1])}</p>")
        elif kind == "text":
            out.append(f"<pre class='text'>{e(block[1])}</pre>")
        elif kind == "note":
            out.append(f"<p class='note'>note: {e(block[1])}</p>")
        elif kind == "list":
            out.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            _, caption, columns, rows = block
            # The title above, not a <caption>: a caption wraps to the table's width.
            out.append((f"<p class='caption'>{e(caption)}</p>" if caption else "") + "<table>"
                       + "<tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                       + "</table>")
        elif kind == "figure":
            f = block[1]
            image = base64.b64encode(Path(f["figure"]).read_bytes()).decode()
            data = base64.b64encode(Path(f["data"]).read_bytes()).decode()
            script = base64.b64encode(Path(f["script"]).read_bytes()).decode()
            name = Path(f["figure"]).stem
            out.append(f"<figure><img alt='{e(block[2])}' src='data:image/svg+xml;base64,{image}'>"
                       f"<figcaption>{e(block[2])} · "
                       f"<a download='{e(name)}.csv' href='data:text/csv;base64,{data}'>data</a>"
                       f" · <a download='{e(name)}_plot.py' href='data:text/x-python;base64,{script}'>script</a>"
                       "</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
