"""Whether the sides of a comparison ran the same code: each run's code state as a fingerprint
(commit, uncommitted diff, untracked files), and one sentence over all sides.

Apart from the statistics because it reads each run's captured code files (``code/`` in the
run folder) where the analysis reads only numbers, and ``hunch compare --code`` diffs the
states it fingerprints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hunchlab.project import Project
from hunchlab.run_files import sha256_of
from hunchlab.selectors import plural

if TYPE_CHECKING:
    from hunchlab.shapes import CodeSummary, SideCode


def code_state(project: Project, run: dict[str, Any]) -> dict[str, Any]:
    """A run's code state with a fingerprint: equal fingerprints mean byte-identical code."""
    code = run.get("code") or {}
    if not code.get("git"):
        return {"captured": False, "fingerprint": None}
    parts = [code.get("commit") or "no-commit"]
    for name in ("diff.patch", "untracked.tar"):
        path = project.run_dir(run["id"]) / "code" / name
        parts.append(sha256_of(path)[:16] if path.exists() else "-")
    return {"captured": True, "commit": code.get("commit"), "dirty": bool(code.get("dirty")),
            "diff_bytes": code.get("diff_bytes", 0), "untracked": len(code.get("untracked") or []),
            "fingerprint": ":".join(parts)}


def code_summary(sides: Sequence[dict[str, Any]]) -> CodeSummary:
    """Did the sides run the same code? One sentence, and the distinct states per side."""
    per_side: list[SideCode] = []
    for s in sides:
        distinct: dict[str | None, dict[str, Any]] = {}
        for r in s["runs"]:
            state = r.get("code_state") or {"captured": False, "fingerprint": None}
            distinct.setdefault(state["fingerprint"], state)
        per_side.append({"label": s["label"], "states": list(distinct.values())})
    if any(not st["captured"] for side in per_side for st in side["states"]):
        missing = [side["label"] for side in per_side if any(not st["captured"] for st in side["states"])]
        return {"same": None, "sides": per_side,
                "text": f"code state not captured on {', '.join(missing)} (not run in a git repo): cannot tell"}
    prints = {st["fingerprint"] for side in per_side for st in side["states"]}
    if len(prints) == 1:
        text = f"same code on every run: {_describe_state(per_side[0]['states'][0])}"
        return {"same": True, "sides": per_side, "text": text}
    parts = []
    for side in per_side:
        shown = "; ".join(_describe_state(st) for st in side["states"][:2])
        many = f" ({len(side['states'])} different states)" if len(side["states"]) > 1 else ""
        parts.append(f"{side['label']} {shown}{many}")
    return {"same": False, "sides": per_side, "text": f"code differs: {' | '.join(parts)} (--code shows the diff)"}


def _describe_state(st: dict[str, Any]) -> str:
    commit = (st.get("commit") or "no commit")[:10]
    if not st["dirty"]:
        return f"commit {commit}, clean"
    extra = [f"diff {_size(st['diff_bytes'])}"] if st["diff_bytes"] else []
    if st["untracked"]:
        extra.append(plural(st["untracked"], "untracked file"))
    return f"commit {commit} + uncommitted changes ({', '.join(extra)})"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB" if n < 1024 * 1024 else f"{n / 2**20:.1f} MB"
