"""One metric of one run, thinned for a chart: what the dashboard's run page draws and what
``hunch mcp``'s ``show_run`` gives an agent as a curve.

Both surfaces read it here, in the library, so neither imports the other; it reads the store
(the metric pyramid of ``store.lod``), which the surfaces never import.
"""

from __future__ import annotations

import math
from typing import Any

from hunchlab.current import current_store
from hunchlab.downsample import bucket_bounds, m4, m4_of_pieces
from hunchlab.errors import BadInput, NotFound, did_you_mean
from hunchlab.project import Project
from hunchlab.store import Store, lod
from hunchlab.store import web as q


def metric_series(run_id: str, key: str, *, lo: float | None = None, hi: float | None = None,
                  buckets: int = 1000, project: Project | None = None) -> dict[str, Any]:
    """One metric of one run for a chart ``buckets`` pixels wide: every point with
    ``lo <= step <= hi``, or the M4 selection (first, last, min, max per bucket) when
    there are more than ``4 * buckets``.

    Up to ``lod.MIN_POINTS`` (or ``4 * buckets``) points are read and thinned in numpy;
    a longer range is read from the metric pyramid (``store.lod``; caught up here first where a
    reader's fold left it behind): fewer than ``8 * buckets`` rows plus a few dozen at the
    edges, whatever the metric's length, so a 10-million-point metric charts as fast as a
    10-thousand-point one, and zooming in refetches the narrower range until it is shown
    point for point.
    """
    if not 1 <= buckets <= 20_000:
        raise BadInput(f"buckets={buckets} must be between 1 and 20000")
    with current_store(project) as store:
        run_id = store.resolve_run(run_id)
        exact = not store.catch_up_pyramid(run_id, key)  # a pyramid left behind on a read-only store
        return _series(store, run_id, key, lo, hi, buckets, exact)


def _series(store: Store, run_id: str, key: str, lo: float | None, hi: float | None, buckets: int,
            exact: bool) -> dict[str, Any]:
    """``metric_series`` of a resolved run; ``exact``: thin every point in numpy, not the pyramid."""
    with store.read() as conn:
        first, last = lod.step_span(conn, run_id, key)
        if first is None or last is None:
            known = sorted(store.get_run(run_id, metrics=False, examples=False)["metrics"])
            raise NotFound(f"run {run_id} logged no metric '{key}'{did_you_mean(key, known)}",
                           fix=f"logged: {', '.join(known) or 'nothing yet'}")
        start = first if lo is None else max(first, math.ceil(lo))
        stop = last if hi is None else min(last, math.floor(hi))
        cap = 1 << 62 if exact else max(4 * buckets, lod.MIN_POINTS)
        n = q.count_points(conn, run_id, key, start, stop, cap + 1)
        if n <= cap:
            steps, values = q.metric_range(conn, run_id, key, start, stop)
            keep = m4(steps, [math.nan if v is None else v for v in values], buckets).tolist()
            xs, ys = [steps[i] for i in keep], [values[i] for i in keep]
        else:
            kept = m4_of_pieces(lod.pieces(conn, run_id, key, start, stop, buckets),
                                bucket_bounds(start, stop, buckets))
            xs, ys = [p[0] for p in kept], [p[1] for p in kept]
    return {"run": run_id, "key": key, "first": first, "last": last, "lo": start, "hi": stop,
            "in_range": n if n <= cap else None, "shown": len(xs),
            "downsampled": n > len(xs), "method": "m4" if n > len(xs) else None, "x": xs, "y": ys}
