"""What a spec's entry is before it runs: the file behind ``module:function`` (found on a search
path without importing it) and the shell command with ``{param}`` placeholders filled in.

The runner and the capture hooks both need these before anything of the user's code runs; they
live here, below both, so that neither imports the other."""

from __future__ import annotations

import re
import shlex
from importlib.machinery import ModuleSpec, PathFinder
from typing import Any

from hunchlab.errors import SpecError, did_you_mean
from hunchlab.spec import Spec

PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")


def locate_module(name: str, paths: list[str]) -> ModuleSpec | None:
    """The spec of dotted module ``name`` found on ``paths`` (packages walked part by part), or None."""
    parts = name.split(".")
    found = PathFinder.find_spec(parts[0], paths)
    for part in parts[1:]:
        if found is None or not found.submodule_search_locations:
            return None
        found = PathFinder.find_spec(part, list(found.submodule_search_locations))
    return found


def expand_command(spec: Spec) -> str:
    """Fill ``{param}`` (dotted for nested params), ``{seed}`` placeholders, shell-quoted."""
    assert spec.command is not None
    values = {"seed": spec.seed, **_flat(spec.params)}

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise SpecError(f"command uses {{{key}}} but there is no such param{did_you_mean(key, values)}",
                            where=spec.path, fix=f"params: {', '.join(values)}")
        return shlex.quote(str(values[key]))

    return PLACEHOLDER.sub(fill, spec.command)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out[f"{prefix}{k}"] = v
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
    return out
