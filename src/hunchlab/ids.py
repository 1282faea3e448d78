"""Run ids people can say aloud: ``bright-otter-7``.

The trailing number is the project's run sequence, so ids are unique by
construction and sort by creation time; the two words make them easy to tell apart
and to type by prefix (``hunch show bright``). On a SQLite store the sequence lives in
a small file updated under ``flock`` so parallel terminals and sweep workers never
collide, without touching the store on the logging path. It is rewritten in place with
one fixed-width write, never truncated first, so a process killed while taking a number
leaves the old number or the new one, never an empty file that would restart the
count and hand out a number twice.

A PostgreSQL store may be shared by several project folders (clones, machines), which
cannot share a file: there the number comes from the store (``store/numbering.py``),
one transaction per run start (that import and connection are paid only by team stores).
"""

from __future__ import annotations

import fcntl
import os
import random
import re
from pathlib import Path

from hunchlab.current import process_store
from hunchlab.project import Project

ADJECTIVES = (
    "amber", "bold", "brave", "bright", "brisk", "calm", "clever", "cosmic", "crisp", "curious",
    "daring", "deft", "eager", "early", "fair", "fast", "fierce", "gentle", "giddy", "golden",
    "grand", "happy", "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "lucid",
    "lucky", "merry", "mighty", "misty", "modest", "noble", "plucky", "polite", "proud", "quick",
    "quiet", "rapid", "rosy", "rustic", "shiny", "silent", "silver", "sleek", "smart", "snowy",
    "solid", "steady", "stoic", "sunny", "swift", "tidy", "vivid", "warm", "wild", "wise",
    "witty", "young", "zesty", "zen",
)
NOUNS = (
    "otter", "falcon", "badger", "heron", "lynx", "panda", "raven", "tiger", "whale", "wolf",
    "bison", "cobra", "crane", "dingo", "eagle", "ferret", "gecko", "hare", "ibis", "jackal",
    "koala", "lemur", "marten", "newt", "ocelot", "osprey", "parrot", "puffin", "quail", "robin",
    "salmon", "seal", "shrew", "sloth", "stork", "swan", "tapir", "toucan", "trout", "turtle",
    "viper", "walrus", "wombat", "yak", "zebra", "beaver", "camel", "dolphin", "finch", "gibbon",
    "hawk", "horse", "kestrel", "llama", "magpie", "moose", "owl", "pelican", "pony", "rabbit",
    "sparrow", "squid", "weasel", "wren",
)

RUN_ID = re.compile(r"^[a-z]+-[a-z]+-(\d+)$")


SEQ_WIDTH = 20  # digits: one write of this size is all or nothing, even under kill -9


def next_sequence(hunch_dir: Path) -> int:
    """Atomically take the next number from ``.hunch/seq``."""
    fd = os.open(hunch_dir / "seq", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, 64, 0).strip()
        last = int(raw) if raw.isdigit() else _highest_run_number(hunch_dir)
        n = last + 1
        os.pwrite(fd, f"{n:>{SEQ_WIDTH}}\n".encode(), 0)
        return n
    finally:
        os.close(fd)  # closing releases the lock


def _highest_run_number(hunch_dir: Path) -> int:
    """The counter is missing or unreadable (a new project, or damaged by hand): go on after the newest run."""
    runs = hunch_dir / "runs"
    return max((sequence_of(p.name) for p in runs.iterdir()), default=0) if runs.is_dir() else 0


def new_run_id(project: Project) -> str:
    """A fresh id, numbered by the project's counter (SQLite) or by the store it shares (PostgreSQL)."""
    if project.setting("store") == "sqlite":
        n = next_sequence(project.hunch_dir)
    else:
        n = process_store(project).next_run_number()
    rng = random.Random()
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{n}"


def sequence_of(run_id: str) -> int:
    """The creation order hidden in an id (0 for ids that do not follow the pattern)."""
    m = RUN_ID.match(run_id)
    return int(m.group(1)) if m else 0
