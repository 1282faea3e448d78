"""Durations and dates as people type them: ``30d``, ``2w``, ``12h``, ``2027-12-31``."""

from __future__ import annotations

import datetime as dt
import re

from hunchlab.errors import BadInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdwy])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str, *, option: str = "--since") -> float:
    """``30d`` → seconds."""
    m = _DURATION.match(text)
    if not m:
        raise BadInput(f"{option} {text!r} is not a duration", fix="write e.g. 12h, 30d, 2w or 1y")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_date(text: str, *, option: str = "--by") -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{option} {text!r} is not a date", fix="write it as YYYY-MM-DD, e.g. 2027-12-31") from None


def today() -> dt.date:
    return dt.date.today()
