"""How many forecasts are due, read from a small file beside the store.

Every command ends by mentioning due forecasts, so this is read on every ``hunch``
call: it stays a file read and a date comparison, importing neither the store nor
the prediction code (``hunchlab.predict`` keeps the file current).
"""

from __future__ import annotations

import json

from hunchlab.project import Project
from hunchlab.timeparse import today

DUE_FILE = "due.json"


def due_count(project: Project) -> int:
    """How many forecasts are due (no database opened)."""
    try:
        dates = json.loads((project.hunch_dir / DUE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return 0
    now = today().isoformat()
    return sum(1 for d in dates if d <= now)
