"""Dial problems: arithmetic word problems with a checkable answer, generated from a fixed seed.

A dial shows the digits 0-9 in a circle; it starts at a digit and is turned forward or
back K times, and the question is where it ends: ``3, forward 7, back 2, forward 9`` ends
at 7. It is the test-time compute studies' toy world (``test_time_compute.world``: a
start digit and K operations mod 10) in words, so any chat model can be asked it, the
answer is checked exactly, K sets the difficulty, and the toy generator can answer the
same prompts (``toy_endpoint``) to test the path without a real model.

A completion's answer is the digit on its last ``Answer: d`` line, and nothing else: a
model that ignores the format gets no answer (wrong, and no vote), rather than a digit
picked out of its working; the run's ``answered`` metric says how often that happened.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PROMPT = (
    "A dial shows the digits 0 to 9 in a circle: turning it forward from 9 comes back to 0, "
    "and turning it back from 0 comes to 9.\n"
    "The dial starts at {start}. It is turned {moves}.\n"
    "Which digit does it show now? Work it out step by step, then give the digit on a last line "
    "of the form 'Answer: <digit>'."
)
START = re.compile(r"The dial starts at (\d)\.")
MOVE = re.compile(r"(forward|back) (\d)")
ANSWER = re.compile(r"answer:\s*\**\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    id: str  # "k4-017": difficulty and index, stable for a data seed
    k: int
    start: int
    moves: tuple[int, ...]  # signed turns: +7 forward, -2 back
    answer: int
    prompt: str


def turns_text(moves: tuple[int, ...]) -> str:
    """``forward 7, then back 2, then forward 9``."""
    return ", then ".join(f"{'forward' if m >= 0 else 'back'} {abs(m)}" for m in moves)


def make_problems(k_values: tuple[int, ...], n_per_k: int, data_seed: int) -> list[Problem]:
    """``n_per_k`` problems per K, uniform start and turns (0-9 steps either way), from their own seed per K."""
    out = []
    for k in k_values:
        rng = random.Random(f"dial:{data_seed}:{k}")  # a string seed: never shared between K or data seeds
        for i in range(n_per_k):
            start = rng.randrange(10)
            moves = tuple(rng.randrange(10) * rng.choice((1, -1)) for _ in range(k))
            out.append(Problem(f"k{k}-{i:03d}", k, start, moves, (start + sum(moves)) % 10,
                               PROMPT.format(start=start, moves=turns_text(moves))))
    return out


def read_prompt(prompt: str) -> tuple[int, tuple[int, ...]] | None:
    """The start and the turns of a dial problem's prompt, or None when it is not one."""
    start = START.search(prompt)
    turned = prompt[start.end():].split("\n", 1)[0] if start else ""
    moves = tuple(int(n) * (1 if way == "forward" else -1) for way, n in MOVE.findall(turned))
    return (int(start.group(1)), moves) if start and moves else None


def parse_answer(text: str) -> int | None:
    """The number on the last ``Answer: d`` of a completion, or None."""
    found = ANSWER.findall(text)
    return int(found[-1]) if found else None
