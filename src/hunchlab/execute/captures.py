"""What the runner takes from an entry that does not log with hunchlab: stdout scalars, wandb
calls, TensorBoard files, inspect_ai eval logs, and the files it writes.

``start`` is called once the run exists and before its entry starts; it says what the
entry's process needs (``EntryHooks``: a path and environment for the wandb stand-in, a
sink for stdout; ``INSPECT_LOG_DIR``, where eval logs should go) and starts a thread that
reads TensorBoard files while the entry runs. ``EntryHooks.finish`` is called when the
entry has ended, before the run is finished: a last read of everything, the eval logs it
wrote read into the run (``compat.inspect_capture``), the spec's ``outputs:`` kept as artifacts, the files the run wrote
remembered as outputs (not code), and a ``captured`` record saying how many points came
from where, which ``hunch show`` prints.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.compat.attach import add_record
from hunchlab.compat.inspect_capture import existing_logs, log_roots
from hunchlab.compat.tensorboard import TensorBoardFollower
from hunchlab.errors import HunchError, SpecError
from hunchlab.execute.entrypoint import expand_command, locate_module
from hunchlab.execute.scalars import StdoutScalars, build
from hunchlab.outputs import git_root, kept_by_globs, remember, written_since
from hunchlab.project import Project
from hunchlab.run import Run
from hunchlab.spec import Spec

TB_POLL_SECONDS = 5.0  # a live curve a few seconds behind; each poll walks the folders (ms for a small repo)
# How deep below the working folder event files are looked for: SummaryWriter writes runs/DATE/
# (add_scalars one level more), Lightning lightning_logs/version_N/, the Trainer OUT/runs/DATE/.
TB_SEARCH_DEPTH = 4
SHIM = Path(__file__).resolve().parent.parent / "compat" / "shim" / "wandb" / "__init__.py"
WANDB_IMPORT = re.compile(r"^[ \t]*(?:import[ \t]+wandb\b|from[ \t]+wandb\b)", re.MULTILINE)
MAX_SCANNED = 200  # .py files read to see whether a script imports wandb


@dataclass
class EntryHooks:
    """What the entry's process gets (``path_first`` on PYTHONPATH, ``env``, ``on_stdout``), and the end of it all."""

    run: Run
    project: Project
    spec: Spec
    cwd: Path
    started: float
    path_first: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    scalars: StdoutScalars | None = None
    captured: dict[str, dict[str, Any]] = field(default_factory=dict)
    inspect_roots: list[Path] = field(default_factory=list)  # where the entry's eval logs go
    inspect_before: dict[str, int] = field(default_factory=dict)  # logs there as it started (not its own)
    failed: tuple[str, str] | None = None  # (status, error) when an eval log says the eval did not succeed
    _tensorboard: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def on_stdout(self) -> Callable[[bytes], None] | None:
        return self.scalars.feed if self.scalars else None

    def finish(self) -> None:
        """The entry has ended: read what is left, keep outputs, record what was captured."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._poll_tensorboard()
        if self.scalars is not None:
            self.scalars.close()
            self.captured["stdout"] = {"points": self.scalars.points, "patterns": self.scalars.counts,
                                       "lines": self.scalars.lines_read}
        if self._tensorboard is not None and self._tensorboard.points:
            self.captured["tensorboard"] = {"points": self._tensorboard.points,
                                            "note": f"from {len(self._tensorboard._accumulators)} folder(s)"}
        # local: the name is bound differently elsewhere in this module
        from hunchlab.compat.inspect_capture import capture

        evals = capture(self.run, self.inspect_roots, self.started, self.inspect_before)
        if evals:
            self.failed = evals.pop("failed", None)
            self.captured["inspect"] = evals
        record: dict[str, Any] = {"captured": self.captured} if self.captured else {}
        record.update(_outputs(self.run, self.project, self.spec, self.cwd, self.started))
        add_record(self.run, record)

    def _poll_tensorboard(self) -> None:
        if self._tensorboard is None:
            return
        try:
            for step, values in self._tensorboard.poll():
                self.run.log(values, step=step)
        except HunchError as e:  # the tensorboard package is missing: say so once, stop reading
            self.captured["tensorboard"] = {"note": f"event files found but not read: {e.what} ({e.fix})"}
            self._tensorboard = None

    def _follow(self) -> None:
        while not self._stop.wait(TB_POLL_SECONDS):
            self._poll_tensorboard()


def start(project: Project, spec: Spec, run: Run, cwd: Path, search: list[str]) -> EntryHooks:
    """Set up every capture the spec asks for (or its defaults) for a run about to start."""
    hooks = EntryHooks(run, project, spec, cwd, started=time.time())
    hooks.scalars = build(spec.metrics_from, command=bool(spec.command),
                          log=lambda values, step: run.log(values, step=step), where=spec.path)
    mode, why = wandb_mode(spec, cwd, search)
    if mode:
        hooks.path_first.append(str(shim_folder(project)))
        hooks.env["HUNCH_CAPTURE_WANDB"] = mode
        hooks.captured["wandb"] = {"note": f"{mode}: {why}"}
        add_record(run, {"captured": hooks.captured})  # said before the entry starts, in case it never ends

    command = expand_command(spec) if spec.command else None
    hooks.inspect_roots = log_roots(spec, command, run.dir, cwd, hooks.env)
    hooks.inspect_before = existing_logs(hooks.inspect_roots, hooks.started)
    roots = [cwd / spec.tensorboard_dir] if spec.tensorboard_dir else [run.dir, cwd]
    hooks._tensorboard = TensorBoardFollower(roots, since=hooks.started, max_depth=None if spec.tensorboard_dir
                                             else TB_SEARCH_DEPTH)
    hooks._thread = threading.Thread(target=hooks._follow, name="hunch-tensorboard", daemon=True)
    hooks._thread.start()
    return hooks


def shim_folder(project: Project) -> Path:
    """``.hunch/shim/``: the ``wandb`` stand-in and a link to this hunchlab, first on the entry's path.

    The link lets a command's own ``python`` (which may be another interpreter, without
    hunchlab installed) import the stand-in; it needs nothing beyond the standard library.
    """
    folder = project.hunch_dir / "shim"
    (folder / "wandb").mkdir(parents=True, exist_ok=True)
    init = folder / "wandb" / "__init__.py"
    # temporary names per thread, not per process: a sweep's first trials start here at once
    mine = f"{os.getpid()}.{threading.get_ident()}"
    if not init.exists() or init.read_bytes() != SHIM.read_bytes():
        tmp = init.with_name(f"__init__.py.{mine}.tmp")
        tmp.write_bytes(SHIM.read_bytes())
        os.replace(tmp, init)
    link, target = folder / "hunchlab", SHIM.parent.parent.parent.parent
    if not link.is_symlink() or Path(os.readlink(link)) != target:
        tmp_link = folder / f"hunchlab.{mine}.tmp"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(target, target_is_directory=True)
        os.replace(tmp_link, link)
    return folder


def wandb_mode(spec: Spec, cwd: Path, search: list[str]) -> tuple[str | None, str]:
    """``("on" | "tee" | None, why)`` from the spec's ``capture:``, or found in the entry's source."""
    capture = spec.capture
    if capture is False:
        return None, "capture: false"
    if isinstance(capture, dict) or isinstance(capture, list) and capture:
        asked = capture if isinstance(capture, dict) else {name: "on" for name in capture}
        unknown = set(asked) - {"wandb"}
        mode = asked.get("wandb", "off")
        if unknown or mode not in ("on", "tee", "off"):
            raise SpecError(f"capture: {capture!r} is not understood", where=spec.path,
                            fix="write capture: [wandb], capture: {wandb: tee} (also send to W&B) or capture: false")
        return (None if mode == "off" else mode), "the spec's capture: asks for it"
    if capture == []:
        return None, "capture: []"
    for script in _scripts(spec, cwd, search):
        try:
            if WANDB_IMPORT.search(script.read_text(errors="replace")):
                return "on", (f"{script.name} imports wandb, so wandb.* calls log into this run "
                              "(capture: [] turns it off)")
        except OSError:
            continue
    return None, ""


def _scripts(spec: Spec, cwd: Path, search: list[str]) -> list[Path]:
    """The entry's source file and the .py files beside it (the helpers it may import)."""
    mains: list[Path] = []
    if spec.entry:
        found = locate_module(spec.entry.split(":")[0], search)
        if found is not None and found.origin:
            mains.append(Path(found.origin))
    elif spec.command:
        try:
            words = shlex.split(spec.command)
        except ValueError:
            words = spec.command.split()
        mains += [cwd / w for w in words if w.endswith(".py")]
        mains += [Path(f.origin) for w, m in zip(words, words[1:]) if w == "-m"
                  for f in [locate_module(m, [str(cwd), *search])] if f is not None and f.origin]
    files = [m for m in mains if m.is_file()]
    for folder in dict.fromkeys(m.parent for m in files):
        files += sorted(folder.glob("*.py"))[:MAX_SCANNED]
    return list(dict.fromkeys(files))


def _outputs(run: Run, project: Project, spec: Spec, cwd: Path, started: float) -> dict[str, Any]:
    """Keep the spec's ``outputs:`` as artifacts; remember every file the run wrote as an output, not code."""
    for path in kept_by_globs(cwd, spec.outputs, started):
        run.artifact(path, name=str(path.relative_to(cwd)))
    root = git_root(cwd)
    if root is None:
        return {}
    written = written_since(root, started)
    remember(project.hunch_dir, written)
    return {"outputs": written[:200], "n_outputs": len(written)} if written else {}
