"""The full-screen failures view: one failing example at a time, one key per category.

Built on curses from the standard library rather than Textual or prompt_toolkit, for the
time to open: importing curses takes about 1 ms, prompt_toolkit about 0.27 s and
textual.app about 0.47 s (python -X importtime on the 2-core bench machine), against a
budget of 1 s to open a 1M-record run, of which Python and SQLAlchemy starting up already
take about 0.3 s (bench/bench_triage.py). It also needs no extra dependency and works over
ssh. For testability the view itself is a plain state machine,
``View.press(key)`` and ``View.render(width, height)``, over a ``triage.Triage``
session, so its behaviour is tested without a terminal; curses only paints the rendered
lines and names the keys (tests/integration drives the real thing in a pseudo-terminal).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from hunchlab.errors import MachineError
from hunchlab.triage import Triage, text_diff

MIN_WIDTH, MIN_HEIGHT = 50, 12
CHROME = 6  # lines around the scrolling body: header, fields, tag; message and two footer lines
Line = list[tuple[str, str]]  # (style, text) segments
DIFF_STYLE = {"same": "text", "del": "del", "add": "add", "head": "dim"}
INLINE_MARK = {"same": "{}", "del": "[-{}-]", "add": "{{+{}+}}"}
SCROLL = {"up": -1, "k": -1, "down": 1, "j": 1}
_CONTROL = {i: "?" for i in range(32) if i != 10} | {9: "    "}


class View:
    """What the screen shows and what each key does; knows nothing of curses."""

    def __init__(self, session: Triage, start: int = 0, notes: Sequence[str] = ()) -> None:
        self.t = session
        self.pos = min(max(0, start), len(session) - 1)
        self.scroll = 0
        self.mode = "walk"  # walk | new (typing a category) | note (typing a note)
        self.buffer = ""
        self.message = " · ".join(notes)
        self.done = False
        self._record: dict[str, Any] | None = None
        self._body: tuple[int, int, list[Line], dict[str, int]] | None = None  # (pos, width, lines, section starts)
        self._page = 10

    # -- keys --------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """Act on one key name: a character, or enter/esc/backspace/tab/left/right/up/down/pgup/pgdn/home/end."""
        if self.mode != "walk":
            self._type(key)
            return
        self.message = ""
        categories = self.t.categories
        if key.isdigit() and key != "0":
            k = int(key)
            if k <= len(categories):
                self._tag(categories[k - 1])
            else:
                self.message = f"no category {k} yet: n makes one"
        elif key == "n":
            self.mode, self.buffer = "new", ""
        elif key == "e":
            self.mode, self.buffer = "note", self.record["note"] or ""
        elif key == ".":
            earlier = self.record["earlier"]
            if earlier:
                self._tag(earlier[0]["category"])
            else:
                self.message = "no earlier run tagged this example"
        elif key in (" ", "right", "s"):
            self.t.skip(self.pos)
            self._advance()
        elif key in ("left", "b"):
            self._go(self.pos - 1)
        elif key == "u":
            self.t.untag(self.pos)
            self._record = None
        elif key in SCROLL:
            self.scroll += SCROLL[key]
        elif key in ("pgdn", "pgup"):
            self.scroll += self._page if key == "pgdn" else -self._page
        elif key in ("home", "end"):
            self.scroll = 0 if key == "home" else 1 << 30
        elif key == "o":
            self.scroll = self._sections().get("output", 0)
        elif key == "q":
            self.done = True

    def _type(self, key: str) -> None:
        if key == "esc":
            self.mode = "walk"
        elif key == "enter":
            text, mode = self.buffer.strip(), self.mode
            self.mode = "walk"
            if mode == "note":
                self.t.note(self.pos, text)
                self._record = None
                self.message = "note saved" if text else "note removed"
            elif text:
                self._tag(self._match(text) or text)
        elif key == "backspace":
            self.buffer = self.buffer[:-1]
        elif key == "tab" and self.mode == "new":
            self.buffer = self._match(self.buffer, prefix=True) or self.buffer
        elif len(key) == 1 and key.isprintable():
            self.buffer += key

    def _match(self, text: str, *, prefix: bool = False) -> str | None:
        """An existing category the typed text names (case-insensitively; by prefix for tab)."""
        low = text.lower()
        hits = [c for c in self.t.categories if (c.lower().startswith(low) if prefix else c.lower() == low)]
        return hits[0] if len(hits) == 1 or (hits and not prefix) else None

    def _tag(self, category: str) -> None:
        self.t.tag(self.pos, category)
        self.message = f"{self.record['id']} → {category}"
        self._advance()

    def _advance(self) -> None:
        if self.pos + 1 < len(self.t):
            self._go(self.pos + 1)
        else:
            self._record = None
            p = self.t.progress()
            self.message = f"that was the last one: {p['read']}/{p['total']} read · q quits"

    def _go(self, pos: int) -> None:
        if 0 <= pos < len(self.t):
            self.pos, self.scroll, self._record = pos, 0, None

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None or self._record["position"] != self.pos:
            self._record = self.t.example(self.pos)
        return self._record

    # -- drawing -----------------------------------------------------------------------
    def render(self, width: int, height: int) -> list[Line]:
        """Exactly ``height`` lines of at most ``width`` cells."""
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            text = f"terminal too small ({width}×{height}): enlarge it to {MIN_WIDTH}×{MIN_HEIGHT} · q quits"
            return [[("message", text[:width])]] + [[] for _ in range(height - 1)]
        r = self.record
        p = self.t.progress()
        rows = max(1, height - CHROME)
        self._page = max(1, rows - 2)
        body = self._lines(width)
        self.scroll = max(0, min(self.scroll, len(body) - rows))
        shown = body[self.scroll:self.scroll + rows]
        more = len(body) - self.scroll - rows
        head = (f" {self.t.run_id} · example {self.pos + 1}/{p['total']}: {r['id']} · "
                f"{p['read']}/{p['total']} read, {p['categories']} categories")
        if more > 0:
            head += f" · ↓ {more} more lines"
        screen: list[Line] = [
            [("header", head[:width].ljust(width))],
            _clip([("dim", " " + _fields_text(r))], width),
            _clip(self._tag_line(r), width),
            *shown,
            *([[]] * (rows - len(shown))),
            _clip([("message", " " + self.message)], width),
            *self._footer(width),
        ]
        return screen

    def _tag_line(self, r: dict[str, Any]) -> Line:
        line: Line = [("tag", f" ● {r['category']}")] if r["category"] else [("dim", " ○ untagged")]
        if r["note"]:
            line.append(("text", f" · note: {r['note']}"))
        if r["earlier"]:
            e = r["earlier"][0]
            note = f", {e['note']}" if e["note"] else ""
            line.append(("earlier", f" · before: {e['category']} (run {e['run_id']}{note}) — . reuses it"))
        return line

    def _footer(self, width: int) -> list[Line]:
        if self.mode != "walk":
            label = "new category" if self.mode == "new" else "note"
            hint = " enter saves · esc cancels" + (" · tab completes" if self.mode == "new" else "")
            return [_clip([("dim", hint)], width), _clip([("prompt", f" {label}: "), ("text", self.buffer + "▏")], width)]
        keys: Line = []
        for k, c in enumerate(self.t.categories[:9], 1):
            keys += [("key", f" {k}"), ("text", f" {c} ")]
        keys += [("key", " n"), ("text", " new category")]
        commands = [("space", "skip"), ("←", "back"), ("e", "note"), ("u", "untag"), (".", "as before"),
                    ("↑↓ PgUp PgDn", "scroll"), ("o", "output"), ("q", "quit")]
        line: Line = []
        for key, what in commands:
            line += [("key", f" {key}"), ("dim", f" {what} ")]
        return [_clip(keys, width), _clip(line, width)]

    def _sections(self) -> dict[str, int]:
        return self._body[3] if self._body else {}

    def _lines(self, width: int) -> list[Line]:
        """The scrolling part: input, output, target and their diff; wrapped once per example and width."""
        if self._body and self._body[:2] == (self.pos, width):
            return self._body[2]
        r = self.record
        lines: list[Line] = []
        starts: dict[str, int] = {}
        for name in ("input", "output", "target"):
            starts[name] = len(lines)
            lines.append([("rule", f"── {name} ".ljust(width, "─"))])
            lines += _wrap([("text" if r[name] is not None else "dim", _as_text(r[name]))], width)
        if isinstance(r["output"], str) and isinstance(r["target"], str):
            lines.append([("rule", "── diff: - target only, + output only ".ljust(width, "─"))])
            diff = text_diff(r["target"], r["output"]) if r["output"] != r["target"] else []
            if not diff:
                lines.append([("dim", "  (the output equals the target)")])
            inline = not any(kind == "head" for line in diff for kind, _ in line)
            for diff_line in diff:  # inline changes are also marked [-like this-]{+so+}: legible without colour
                lines += _wrap([(DIFF_STYLE[kind], INLINE_MARK[kind].format(text) if inline else text)
                                for kind, text in diff_line], width)
        self._body = (self.pos, width, lines, starts)
        return lines


def _as_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    compact = json.dumps(value, ensure_ascii=False)
    return compact if len(compact) <= 80 or not isinstance(value, (dict, list)) else json.dumps(value, ensure_ascii=False, indent=2)


def _fields_text(r: dict[str, Any]) -> str:
    parts = [f"{k}={_as_text(v)}" for k, v in r["fields"].items()]
    if r["score"] is not None:
        parts.append(f"score={r['score']:.4g}")
    if r["stratum"] is not None and not r["fields"]:
        parts.append(f"stratum={r['stratum']}")
    return "  ".join(parts) or "(no fields)"


def _wrap(segments: Line, width: int) -> list[Line]:
    """Styled text broken into screen lines at newlines and at ``width - 2`` cells, indented by two."""
    room = max(1, width - 2)
    lines: list[Line] = [[("text", "  ")]]
    used = 0
    for style, text in segments:
        for i, part in enumerate(text.translate(_CONTROL).replace("\r", "").split("\n")):
            if i:
                lines.append([("text", "  ")])
                used = 0
            while part:
                take = part[: room - used]
                lines[-1].append((style, take))
                used += len(take)
                part = part[len(take):]
                if part:
                    lines.append([("text", "  ")])
                    used = 0
    return lines


def _clip(line: Line, width: int) -> Line:
    """The segments that fit in ``width`` cells."""
    out: Line = []
    left = width
    for style, text in line:
        if left <= 0:
            break
        out.append((style, text[:left]))
        left -= len(text[:left])
    return out


# == curses ==================================================================================
def check_terminal() -> None:
    """Refuse, before anything is drawn, a terminal the view cannot fit in."""
    size = os.get_terminal_size()
    if size.columns < MIN_WIDTH or size.lines < MIN_HEIGHT:
        raise MachineError(f"the terminal is {size.columns}×{size.lines}; the failures view needs at least "
                           f"{MIN_WIDTH}×{MIN_HEIGHT}", fix="enlarge the window, or list the sample with --json")


KEY_NAMES = {"\n": "enter", "\r": "enter", "\x1b": "esc", "\x7f": "backspace", "\x08": "backspace", "\t": "tab"}


def walk(session: Triage, start: int = 0, notes: Sequence[str] = ()) -> None:
    """Walk the sample full-screen until the user quits (q or Ctrl-C); every key is saved as typed."""
    os.environ.setdefault("ESCDELAY", "25")  # esc cancels at once, not after curses' default second
    import curses

    view = View(session, start, notes)
    try:
        curses.wrapper(_loop, view)
    except KeyboardInterrupt:
        pass
    except curses.error as e:
        raise MachineError(f"cannot draw the full-screen view: {e}", fix="list the sample instead: add --json") from None


def _loop(screen: Any, view: View) -> None:
    import curses

    special = {curses.KEY_LEFT: "left", curses.KEY_RIGHT: "right", curses.KEY_UP: "up", curses.KEY_DOWN: "down",
               curses.KEY_NPAGE: "pgdn", curses.KEY_PPAGE: "pgup", curses.KEY_HOME: "home", curses.KEY_END: "end",
               curses.KEY_BACKSPACE: "backspace", curses.KEY_ENTER: "enter", curses.KEY_RESIZE: "resize"}
    styles = _styles(curses)
    try:
        curses.curs_set(0)
    except curses.error:
        pass
    while not view.done:
        height, width = screen.getmaxyx()
        screen.erase()
        for y, line in enumerate(view.render(width, height)):
            x = 0
            for style, text in line:
                if x >= width:
                    break
                try:  # the bottom-right cell raises after drawing: harmless
                    screen.addstr(y, x, text[: width - x], styles.get(style, 0))
                except curses.error:
                    pass
                x += len(text)
        screen.refresh()
        key = screen.get_wch()
        name = special.get(key, f"key{key}") if isinstance(key, int) else KEY_NAMES.get(key, key)
        if name != "resize":
            view.press(name)


def _styles(curses: Any) -> dict[str, int]:
    colors = {"del": curses.COLOR_RED, "add": curses.COLOR_GREEN, "tag": curses.COLOR_GREEN,
              "earlier": curses.COLOR_YELLOW, "key": curses.COLOR_CYAN, "rule": curses.COLOR_BLUE,
              "prompt": curses.COLOR_YELLOW, "message": curses.COLOR_YELLOW}
    styles = {"header": curses.A_REVERSE, "dim": curses.A_DIM, "key": curses.A_BOLD, "tag": curses.A_BOLD,
              "prompt": curses.A_BOLD}
    if curses.has_colors():
        curses.start_color()
        curses.use_default_colors()
        for i, (name, color) in enumerate(colors.items(), 1):
            curses.init_pair(i, color, -1)
            styles[name] = styles.get(name, 0) | curses.color_pair(i)
    return styles
