"""Reading ``key=value`` overrides and filter values as YAML scalars, without loading the spec model.

``hunch compare 'lr=3e-4'`` and ``--where`` read values the way a spec does; importing
``hunchlab.spec`` for that loaded pydantic (45 ms of CPU on the reference machine) into
every command that only filters runs.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from hunchlab.errors import SpecError


class Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``3e-4`` as a string; ML configs mean the number."""


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_override(text: str) -> tuple[str, Any]:
    """``a.b=3e-4`` → ``("a.b", 0.0003)``; the value is read as a YAML scalar."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip("+ "):
        raise SpecError(f"override '{text}' is not key=value", fix="write e.g. lr=3e-4 or model.width=128")
    try:
        value = yaml.load(raw, Loader=Loader) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value
