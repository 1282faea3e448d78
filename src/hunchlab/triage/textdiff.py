"""How a failing output differs from its target, as the triage view and page show it.

Reading a hundred failures is fast only when the difference jumps out: ``42`` against ``24`` as
one word replaced, not as shuffled digits; a long answer as a unified diff. Both the terminal
view (``cli/failures_view.py``) and the dashboard's triage page render these lines, so the diff
is computed once here, as plain ``(kind, text)`` pairs that each surface styles its own way.
"""

from __future__ import annotations

import difflib
import re

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
INLINE_DIFF_LIMIT = 2000  # characters; beyond this a single line too is diffed whole (word diffs are quadratic)


def text_diff(target: str, output: str, context: int = 2) -> list[list[tuple[str, str]]]:
    """How ``output`` differs from ``target``: lines of ``(kind, text)``, kind same/del/add/head.

    A single-line pair is compared word by word (``42`` against ``24`` shows as one
    word replaced, not as shuffled digits); text with several lines as a unified diff,
    ``-`` for what the target has and the output lacks, ``+`` for the reverse.
    """
    if "\n" not in target + output and len(target) + len(output) <= INLINE_DIFF_LIMIT:
        a, b = _TOKEN.findall(target), _TOKEN.findall(output)
        line: list[tuple[str, str]] = []
        for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                line.append(("same", "".join(a[a0:a1])))
                continue
            if a1 > a0:
                line.append(("del", "".join(a[a0:a1])))
            if b1 > b0:
                line.append(("add", "".join(b[b0:b1])))
        return [line]
    lines = []
    for text in difflib.unified_diff(target.splitlines(), output.splitlines(), "target", "output", n=context,
                                     lineterm=""):
        kind = "head" if text.startswith(("---", "+++", "@@")) else {"-": "del", "+": "add"}.get(text[:1], "same")
        lines.append([(kind, text)])
    return lines
