"""Find and create a project: a folder holding ``.hunch/``, found like ``.git``.

A project is the unit a researcher works in: one store, one folder per run. It is
found by walking up from the current folder so every command works from any
subfolder; ``HUNCH_DIR`` overrides discovery (for scripts, workers and tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import NotFound, SpecError, did_you_mean

HUNCH = ".hunch"
SETTINGS_FILE = "settings.yaml"


@dataclass(frozen=True)
class Setting:
    """One key of ``.hunch/settings.yaml``: its default, a check of its value, and what is allowed."""

    default: Any
    check: Callable[[Any], bool]
    allowed: str


def _number(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        return (isinstance(v, (int, float)) and not isinstance(v, bool) and (lo < v if lo_open else lo <= v)
                and (v < hi if hi_open else v <= hi))

    return check


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _prices(v: Any) -> bool:
    """``{model: {input: USD, output: USD}}`` per million tokens, every price a number from 0."""
    price = _number(0, float("inf"))
    return isinstance(v, dict) and all(
        _text(model) and isinstance(p, dict) and set(p) == {"input", "output"} and all(price(x) for x in p.values())
        for model, p in v.items())


# Every setting (docs/settings.md lists the same, with what each means; a test keeps the two in step).
SETTINGS: dict[str, Setting] = {
    # "sqlite" (the store lives in .hunch/store.db) or a SQLAlchemy URL such as
    # postgresql+psycopg://user@host/db for a store shared by a team.
    "store": Setting("sqlite", lambda v: v == "sqlite" or (_text(v) and "://" in v),
                     "sqlite, or a SQLAlchemy URL such as postgresql+psycopg://user@host/db"),
    # "process": a returned log call survives a crash of the process (bytes reach the OS).
    # "machine": it also survives a power loss (fsync per write; see bench/README.md for the cost).
    "durability": Setting("process", lambda v: v in ("process", "machine"), "process or machine"),
    # A prediction that resolves wrong at this stated confidence or more files a surprise in the journal.
    "surprise_threshold": Setting(0.8, _number(0.5, 1, hi_open=True), "a probability from 0.5 to below 1, e.g. 0.8"),
    # How long a write to a store on a server waits out an outage (store/faults.py).
    "store_retry_seconds": Setting(60, _number(0, 86400), "a number of seconds from 0 to 86400, e.g. 60"),
    # Threads torch may use in a study's runs (1 keeps parallel runs from fighting over cores).
    "torch_threads": Setting(None, lambda v: v is None or (type(v) is int and v >= 1), "a whole number from 1, e.g. 4"),
    # The Ray cluster `hunch sweep --executor ray` joins (execute/ray_connect.py says which comes first).
    "ray_address": Setting(None, lambda v: v is None or _text(v),
                           "host:port of a Ray cluster, auto (one running here) or local (one of the sweep's own)"),
    # The token `hunch ui` asks for when it serves beyond this machine.
    "ui_token": Setting(None, lambda v: v is None or (_text(v) and len(v) >= 16),
                        "a secret of at least 16 characters"),
    # The name `hunch mcp` records agents' runs, predictions, tags and notes under (default: the
    # name the MCP client gives itself). Checked again when the server starts (hunchlab.who).
    "agent_name": Setting(None, lambda v: v is None or _text(v), "a name such as claude-code"),
    # What one `hunch mcp` session may start: runs (a sweep's trials count) and the CPU minutes they use.
    "mcp_max_runs": Setting(20, lambda v: type(v) is int and v >= 0, "a whole number from 0, e.g. 20"),
    "mcp_max_cpu_minutes": Setting(60, _number(0, 100_000), "a number of minutes from 0, e.g. 60"),
    # The token `hunch mcp --http` asks for (a fresh one is printed at start without it).
    "mcp_token": Setting(None, lambda v: v is None or (_text(v) and len(v) >= 16),
                         "a secret of at least 16 characters"),
    # The environment variable holding the key for an OpenAI-compatible endpoint (hunchlab.models):
    # the key itself never goes in a file hunchlab writes.
    "model_key_env": Setting("OPENAI_API_KEY", lambda v: _text(v) and v.replace("_", "").isalnum(),
                             "the name of an environment variable, e.g. OPENAI_API_KEY"),
    # Requests in flight at once to an endpoint.
    "model_concurrency": Setting(8, lambda v: type(v) is int and 1 <= v <= 1024, "a whole number from 1 to 1024"),
    # US dollars per million tokens, per model: what a run's token usage cost.
    "model_prices": Setting({}, lambda v: _prices(v),
                            "a mapping of model name to {input: USD, output: USD} per million tokens"),
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
        return self.settings.get(key, SETTINGS[key].default)


def _load_settings(hunch_dir: Path) -> dict[str, Any]:
    """The settings file, validated like a spec: a bad key or value names the file, line, key and what is allowed."""
    path = hunch_dir / SETTINGS_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return {}  # all comments: skip importing yaml on the logging path
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SpecError(f"settings are not valid YAML: {getattr(e, 'problem', e)}", where=where,
                        fix="fix or delete the file") from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise SpecError("settings must be a mapping of key: value", where=str(path), fix="fix or delete the file")
    lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
    for key, value in data.items():
        where = f"{path}:{lines.get(key, '?')}"
        if key not in SETTINGS:
            raise SpecError(f"unknown setting '{key}'{did_you_mean(str(key), SETTINGS)}", where=where,
                            fix=f"known settings: {', '.join(SETTINGS)} (docs/settings.md)")
        if not SETTINGS[key].check(value):
            raise SpecError(f"setting '{key}' is {value!r}: it must be {SETTINGS[key].allowed}", where=where,
                            fix=f"fix the value or remove the line (default: {SETTINGS[key].default!r})")
    return data


def find_project(start: str | os.PathLike[str] | None = None) -> Project:
    """The project containing ``start`` (default: cwd), or ``HUNCH_DIR`` when set."""
    env = os.environ.get("HUNCH_DIR")
    if env:
        p = Path(env).resolve()
        root = p.parent if p.name == HUNCH else p
        if (root / HUNCH).is_dir():
            return Project(root, _load_settings(root / HUNCH))
        raise NotFound(f"HUNCH_DIR={env} holds no {HUNCH}/ folder", fix="run `hunch init` there or unset HUNCH_DIR")
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / HUNCH).is_dir():
            return Project(folder, _load_settings(folder / HUNCH))
    raise NotFound(
        f"not inside a hunchlab project ({here} and its parents have no {HUNCH}/ folder)",
        fix="run `hunch init` in your project's top folder",
    )


def make_project(path: str | os.PathLike[str] = ".") -> tuple[Project, bool]:
    """Create ``.hunch/`` at ``path`` (idempotent); returns the project and whether it was new.

    The folders and settings only: ``run_records.init_project`` also creates the store."""
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
    return Project(root, _load_settings(hunch_dir)), created
