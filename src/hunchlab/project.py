"""Find and create a project: a folder holding ``.hunch/``, found like ``.git``.

A project is the unit a researcher works in: one store, one folder per run. It is
found by walking up from the current folder so every command works from any
subfolder; ``HUNCH_DIR`` overrides discovery (for scripts, workers and tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import HunchError

HUNCH = ".hunch"
SETTINGS_FILE = "settings.yaml"

DEFAULT_SETTINGS: dict[str, Any] = {
    # "sqlite" (the store lives in .hunch/store.db) or a SQLAlchemy URL such as
    # postgresql+psycopg://user@host/db for a store shared by a team.
    "store": "sqlite",
    # "process": a returned log call survives a crash of the process (bytes reach the OS).
    # "machine": it also survives a power loss (fsync per write; see bench/README.md for the cost).
    "durability": "process",
    # A prediction that resolves wrong at this stated confidence or more files a surprise in the journal.
    "surprise_threshold": 0.8,
}

SETTINGS_TEMPLATE = """\
# hunchlab project settings (see docs/settings.md)
# store: sqlite            # or a SQLAlchemy URL, e.g. postgresql+psycopg://me@host/db
# durability: process      # or "machine": fsync every write, survives power loss
"""


@dataclass(frozen=True)
class Project:
    """A located project: where its store, runs and settings are."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def hunch_dir(self) -> Path:
        return self.root / HUNCH

    @property
    def runs_dir(self) -> Path:
        return self.hunch_dir / "runs"

    @property
    def pending_dir(self) -> Path:
        """Markers of runs whose event files are not fully folded into the store yet."""
        return self.hunch_dir / "pending"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULT_SETTINGS.get(key))


def _load_settings(hunch_dir: Path) -> dict[str, Any]:
    path = hunch_dir / SETTINGS_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return {}  # all comments: skip importing yaml on the logging path
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise HunchError(f"settings are not valid YAML: {e}", where=str(path), fix="fix or delete the file") from None
    if not isinstance(data, dict):
        raise HunchError("settings must be a mapping of key: value", where=str(path), fix="fix or delete the file")
    unknown = set(data) - set(DEFAULT_SETTINGS) - EXTRA_SETTINGS
    if unknown:
        raise HunchError(
            f"unknown setting(s): {', '.join(sorted(unknown))}",
            where=str(path),
            fix=f"known settings: {', '.join(sorted(set(DEFAULT_SETTINGS) | EXTRA_SETTINGS))}",
        )
    return data


# Settings read by later features (kept here so an unknown key is still caught).
EXTRA_SETTINGS = {"torch_threads", "ray_address", "ui_token"}


def find_project(start: str | os.PathLike[str] | None = None) -> Project:
    """The project containing ``start`` (default: cwd), or ``HUNCH_DIR`` when set."""
    env = os.environ.get("HUNCH_DIR")
    if env:
        p = Path(env).resolve()
        root = p.parent if p.name == HUNCH else p
        if (root / HUNCH).is_dir():
            return Project(root, _load_settings(root / HUNCH))
        raise HunchError(f"HUNCH_DIR={env} holds no {HUNCH}/ folder", fix="run `hunch init` there or unset HUNCH_DIR")
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / HUNCH).is_dir():
            return Project(folder, _load_settings(folder / HUNCH))
    raise HunchError(
        f"not inside a hunchlab project ({here} and its parents have no {HUNCH}/ folder)",
        fix="run `hunch init` in your project's top folder",
    )


def init_project(path: str | os.PathLike[str] = ".") -> tuple[Project, bool]:
    """Create ``.hunch/`` at ``path`` (idempotent); returns the project and whether it was new."""
    root = Path(path).resolve()
    hunch_dir = root / HUNCH
    created = not hunch_dir.exists()
    for sub in (hunch_dir, hunch_dir / "runs", hunch_dir / "pending"):
        sub.mkdir(parents=True, exist_ok=True)
    # The store and run folders are data, not code: keep them out of the user's git
    # and out of the "untracked files" captured with each run.
    (hunch_dir / ".gitignore").write_text("*\n")
    settings = hunch_dir / SETTINGS_FILE
    if not settings.exists():
        settings.write_text(SETTINGS_TEMPLATE)
    project = Project(root, _load_settings(hunch_dir))
    from hunchlab.store import open_store

    open_store(project).close()  # creates or migrates the schema now, not at the first run
    return project, created
