"""Run ids people can say aloud: ``bright-otter-7``.

The trailing number is the project's run sequence, so ids are unique by
construction and sort by creation time; the two words make them easy to tell apart
and to type by prefix (``hunch show bright``). The sequence lives in a small file
updated under ``flock`` so parallel terminals and sweep workers never collide,
without touching the store on the logging path.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
from pathlib import Path

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


def next_sequence(hunch_dir: Path) -> int:
    """Atomically take the next number from ``.hunch/seq``."""
    fd = os.open(hunch_dir / "seq", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 32).strip()
        n = int(raw) + 1 if raw else 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(n).encode())
        return n
    finally:
        os.close(fd)  # closing releases the lock


def new_run_id(hunch_dir: Path) -> str:
    n = next_sequence(hunch_dir)
    rng = random.Random()
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{n}"


def sequence_of(run_id: str) -> int:
    """The creation order hidden in an id (0 for ids that do not follow the pattern)."""
    m = RUN_ID.match(run_id)
    return int(m.group(1)) if m else 0
