"""The inspect_ai task of docs/models-and-evals.md: two-digit sums answered by inspect's mock model.

The mock (``mockllm/model`` with a ``custom_outputs`` function, so nothing leaves the
machine) drops the carry, as a careless adder does, unless the system prompt tells it to
carry (``-T prompt=careful``). With ``-T noisy=true`` it also slips on the k-th time it sees
a problem where ``(a + k) % 3 == 0``, so epochs of one sample disagree in a known way. It
sets token usage itself: mockllm would otherwise count tokens with tiktoken, which
downloads its encoding.
"""

import re
from pathlib import Path

PAIRS = [(12, 5), (17, 8), (23, 14), (36, 47), (41, 30), (58, 27), (62, 16), (75, 19), (80, 11), (94, 3)]
CARRY = {f"q{i}" for i, (a, b) in enumerate(PAIRS) if a % 10 + b % 10 >= 10}  # q1 q3 q5 q7


def slips(a: int, k: int) -> bool:
    """Whether the noisy mock errs on the k-th (0-based) time it sees a problem starting with a."""
    return (a + k) % 3 == 0


# The task file of docs/models-and-evals.md, as a reader copies it: the tests run the documented example.
PAGE = (Path(__file__).parents[3] / "docs" / "models-and-evals.md").read_text()
TASK = re.search(r"```python\n(# arith.py.*?)```", PAGE, re.S).group(1)  # type: ignore[union-attr]
assert f"PAIRS = {PAIRS!r}" in TASK, "the page's PAIRS and these tests' differ"

# The same task with a scorer that raises: inspect ends the eval with status "error".
BROKEN = TASK.replace('scorer=match(location="end")', "scorer=explode()") + '''

from inspect_ai.scorer import accuracy, scorer


@scorer(metrics=[accuracy()])
def explode():
    async def score(state, target):
        raise RuntimeError("the scorer broke")

    return score
'''
