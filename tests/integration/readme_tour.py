"""The README's tour as a script: read the fenced blocks of a Markdown page, then run them in order.

A page says what the tour does with each block through its fence and through markers, HTML
comments that a rendered page does not show, written on the lines before the block:

- a ```` ```bash ```` block of README.md is run, one line at a time (docs pages' blocks run only
  when marked ``<!-- tour: run -->``), each line by ``bash -e -o pipefail`` in the folder the
  previous line left, so ``cd`` carries on and ``a; b`` fails when ``a`` does;
- a block whose first line is a comment naming a file (``# exp.yaml``) is written to that file,
  as a reader copies it (in a docs page, only when marked ``<!-- tour: run -->``);
- ``<!-- tour: new folder NAME -->``: the block and the ones after it run in a new, empty folder
  NAME beside the demo ("in your own project");
- ``<!-- tour: exits N "PREFIX": why -->``: the line starting with PREFIX exits with N, on purpose;
- ``<!-- tour: not run "PREFIX": why -->``: lines starting with PREFIX are not run (``not run:
  why`` alone: the whole block), listed with the reason by the test.

Any other block of README.md must be marked ``not run``, so nothing is left out silently; an
unknown marker or one whose PREFIX names no line of its block is an error too.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(\S*)")
MARKER = re.compile(r"^\s*<!--\s*tour:\s*(.*?)\s*-->\s*$")
EXITS = re.compile(r'^exits (\d+) "([^"]+)":\s*(\S.*)$')
NOT_RUN = re.compile(r'^not run(?: "([^"]+)")?:\s*(\S.*)$')
NEW_FOLDER = re.compile(r"^new folder ([\w.-]+)$")
FILE_LINE = re.compile(r"^#\s*([\w.-]+\.\w+)\s*(?::.*)?$")


class TourError(Exception):
    """A page the tour cannot read: an unknown or unused marker, a block nobody decided about."""


@dataclass
class Step:
    """One thing the tour does: run a command line, write a file, or move to a new folder."""

    where: str  # page:line, for messages
    kind: str  # command | file | folder
    text: str  # the command line, the file's content, or the folder's name
    path: str | None = None  # the file's name (kind "file")
    expect: int = 0  # the exit code the page announces
    skip: str | None = None  # why the page says this is not run


@dataclass
class Block:
    where: str
    lang: str
    lines: list[str]
    markers: list[tuple[str, str]] = field(default_factory=list)  # (where, marker text)


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a page with the tour markers written before each."""
    found: list[Block] = []
    pending: list[tuple[str, str]] = []
    current: Block | None = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        where = f"{path.name}:{number}"
        if current is not None:
            if line.startswith("```"):
                found.append(current)
                current = None
            else:
                current.lines.append(line)
            continue
        if marker := MARKER.match(line):
            pending.append((where, marker.group(1)))
        elif fence := FENCE.match(line):
            current = Block(where, fence.group(1), [], pending)
            pending = []
    if pending:
        raise TourError(f"{pending[0][0]}: a tour marker with no block after it")
    return found


def steps(path: Path, *, everything: bool) -> list[Step]:
    """What the tour does with a page; ``everything`` (README.md): every block unless marked ``not run``."""
    out: list[Step] = []
    for block in blocks(path):
        out.extend(_block_steps(block, everything))
    return out


def _block_steps(block: Block, everything: bool) -> list[Step]:
    run = everything
    exits: dict[str, tuple[int, str]] = {}  # PREFIX: (exit code, where the marker is)
    not_run: dict[str, tuple[str, str]] = {}  # PREFIX: (why, where the marker is)
    whole: str | None = None
    lead: list[Step] = []
    for where, text in block.markers:
        if text == "run":
            run = True
        elif m := EXITS.match(text):
            exits[m.group(2)] = (int(m.group(1)), where)
        elif m := NOT_RUN.match(text):
            if m.group(1):
                not_run[m.group(1)] = (m.group(2), where)
            else:
                whole = m.group(2)
        elif m := NEW_FOLDER.match(text):
            lead.append(Step(where, "folder", m.group(1)))
        else:
            raise TourError(f"{where}: unknown tour marker {text!r}")
    if not run and not lead:
        return []
    first = block.lines[0] if block.lines else ""
    named = FILE_LINE.match(first) if block.lang != "bash" else None
    if whole is not None:
        return [*lead, Step(block.where, "block", "\n".join(block.lines), skip=whole)]
    if named:
        return [*lead, Step(block.where, "file", "\n".join(block.lines) + "\n", path=named.group(1))]
    if block.lang != "bash":
        raise TourError(f"{block.where}: a ```{block.lang} block the tour neither runs nor writes: "
                        "mark it <!-- tour: not run: why -->, or start it with '# FILE' to have it written")
    return [*lead, *_command_steps(block, exits, not_run)]


def _command_steps(block: Block, exits: dict[str, tuple[int, str]],
                   not_run: dict[str, tuple[str, str]]) -> list[Step]:
    out: list[Step] = []
    used: set[str] = set()
    number = int(block.where.rsplit(":", 1)[1])
    page = block.where.rsplit(":", 1)[0]
    for offset, line in enumerate(block.lines, 1):
        command = line.strip()
        if not command or command.startswith("#"):
            continue
        step = Step(f"{page}:{number + offset}", "command", command)
        for prefix, (code, _) in exits.items():
            if command.startswith(prefix):
                step.expect = code
                used.add(prefix)
        for prefix, (why, _) in not_run.items():
            if command.startswith(prefix):
                step.skip = why
                used.add(prefix)
        out.append(step)
    unused = [w for p, (_, w) in exits.items() if p not in used] + [w for p, (_, w) in not_run.items() if p not in used]
    if unused:
        raise TourError(f"{unused[0]}: the marker's PREFIX starts no line of the block after it")
    return out


@dataclass
class Outcome:
    step: Step
    code: int
    seconds: float
    output: str


def run_steps(tour: list[Step], root: Path, cwd: Path, env: dict[str, str], *,
              timeout: float = 300) -> tuple[Path, list[Outcome]]:
    """Run the steps from ``cwd``; returns the folder the last one left and each command's outcome.

    Stops at the first command whose exit code is not the announced one (later lines
    build on it): that outcome is the last in the list.
    """
    outcomes: list[Outcome] = []
    where_file = root / ".tour-cwd"
    for step in tour:
        if step.skip is not None:
            continue
        if step.kind == "folder":
            cwd = root / step.text
            cwd.mkdir()
            continue
        if step.kind == "file":
            (cwd / str(step.path)).write_text(step.text)
            continue
        script = f"set -eo pipefail\n{step.text}\nprintf %s \"$PWD\" > {where_file}\n"
        started = time.monotonic()
        try:
            proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
            code, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            told = b"".join(x if isinstance(x, bytes) else x.encode() for x in (e.stdout, e.stderr) if x)
            code, output = 124, f"timed out after {timeout:.0f} s\n{told.decode(errors='replace')}"
        outcomes.append(Outcome(step, code, time.monotonic() - started, output))
        if code != step.expect:
            break
        if code == 0:
            cwd = Path(where_file.read_text())
    return cwd, outcomes


def tour_env(bin_dir: Path, python: str, home: Path) -> dict[str, str]:
    """The shell of a reader who followed the set-up: ``hunch`` on the PATH, no terminal, an editor
    that adds a line (``hunch note`` opens $EDITOR)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    hunch = bin_dir / "hunch"
    hunch.write_text(f'#!/bin/sh\nexec "{python}" -m hunchlab "$@"\n')
    hunch.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUNCH_", "VISUAL"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), CI="true",
               EDITOR="sed -i '$a What I now believe: typed by the tour.'")
    return env
