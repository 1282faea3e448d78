"""Finding an entry's module on a search path without importing it (the runner and the capture
hooks both need the file behind ``module:function`` before anything of the user's code runs)."""

from __future__ import annotations

from importlib.machinery import ModuleSpec, PathFinder


def locate_module(name: str, paths: list[str]) -> ModuleSpec | None:
    """The spec of dotted module ``name`` found on ``paths`` (packages walked part by part), or None."""
    parts = name.split(".")
    found = PathFinder.find_spec(parts[0], paths)
    for part in parts[1:]:
        if found is None or not found.submodule_search_locations:
            return None
        found = PathFinder.find_spec(part, list(found.submodule_search_locations))
    return found
