"""CPU seconds of each part of a fold of the pending runs in the current project (for
first_read_after_kill.sh): JSON decode and check, columns, the points' insert, the pyramid, and
the rest (SQL, commit, stats). Wrappers around the parts, no profiler: cProfile doubled them."""

from __future__ import annotations

import json
import os
import resource
from collections import defaultdict
from typing import Any

T: dict[str, float] = defaultdict(float)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wrap(mod: Any, name: str, label: str) -> None:
    f = getattr(mod, name)

    def timed(*a: Any, **k: Any) -> Any:
        c = cpu()
        try:
            return f(*a, **k)
        finally:
            T[label] += cpu() - c

    setattr(mod, name, timed)


def main() -> None:
    c0 = cpu()
    import hunchlab.store as st
    from hunchlab.project import find_project
    from hunchlab.store import fold, lod

    T["import"] = cpu() - c0
    wrap(fold, "read_events", "decode+check")
    wrap(fold, "series" if hasattr(fold, "series") else "_series", "columns")
    wrap(lod, "update", "pyramid")
    if hasattr(fold, "points"):
        wrap(fold.points, "append", "insert")
    else:  # a tree from before the blocks: a row per point
        wrap(fold, "insert_rows", "insert")
    c1 = cpu()
    with st.open_store(find_project()) as store:
        store.sync()
    total = cpu() - c1
    parts = {k: round(v, 3) for k, v in T.items()}
    rest = total - sum(v for k, v in T.items() if k != "import")
    print(json.dumps({"load": os.getloadavg()[0], "fold_cpu_s": round(total, 3), **parts, "rest": round(rest, 3)}))


if __name__ == "__main__":
    main()
