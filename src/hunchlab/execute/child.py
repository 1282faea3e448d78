"""The process an entry runs under, started by ``hunch run`` (``python -m hunchlab.execute.child``).

It is a small supervisor that owns the entry's whole process tree, so that no process
of a run outlives it and keeps appending to its event file after the run has ended or
been marked crashed (a shell entry ``python x.py; true`` once left ``python x.py``
running as an orphan when the runner was killed):

- It is a *subreaper* (``PR_SET_CHILD_SUBREAPER``): every process the entry starts,
  however deep, and even one whose parent exits or that starts a new session, stays
  a descendant of the supervisor instead of being re-parented to init.
- It dies with the runner: ``PR_SET_PDEATHSIG`` sends it SIGTERM when the runner goes,
  even by ``kill -9``. On SIGTERM it kills every process of the tree (SIGKILL), waits
  until they are gone, and exits.
- When the entry's main process exits, processes it left behind (``cmd &``) get
  SIGTERM, then SIGKILL after ``STRAGGLER_GRACE_SECONDS``: the tree ends with the run.
- The entry's main process has ``PR_SET_PDEATHSIG`` = SIGKILL on the supervisor, so
  even a ``kill -9`` of the supervisor alone takes the entry down.
- When the runner died, the folder named in ``HUNCH_SCRATCH`` (a Ray worker's scratch
  project, which the worker removes itself when it lives to) is removed once the tree
  is gone: a force-cancelled trial once left its scratch folder behind.
- Its pid is written to ``entry.pid`` in the run folder. A reader counts a run alive
  while its runner *or* this supervisor lives (``rundir.entry_alive``), so a run is marked
  crashed only when no process of its tree can still write.

The supervisor ends with the entry's exit status (re-raising the signal that killed
it, so the runner sees the same thing). A Python entry stopped by a fault of the
machine (say, the disk filled while it logged) exits after a one-line message instead
of a traceback, with ``EXIT_NO_SPACE`` when the disk was full.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import hunchlab
from hunchlab.errors import MachineError, NoSpace
from hunchlab.rundir import ENTRY_PID_FILE, process_start_time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
ENV_RUNNER_PID = "HUNCH_RUNNER_PID"
ENV_SCRATCH = "HUNCH_SCRATCH"
EXIT_NO_SPACE = 74  # EX_IOERR (sysexits.h): the disk filled while the entry logged
# Background processes an entry leaves behind get this long after SIGTERM to flush and exit.
STRAGGLER_GRACE_SECONDS = 2.0


def _prctl(option: int, value: int) -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value) == 0)
    except (OSError, AttributeError):
        return False  # not Linux: an orphan is possible, nothing else changes


def shell_argv(command: str) -> tuple[str, list[str]]:
    """bash with ``pipefail`` where there is one (a failing command in a pipeline fails the run), else sh."""
    bash = shutil.which("bash")
    if bash:
        return bash, [bash, "-o", "pipefail", "-c", command]
    return "/bin/sh", ["/bin/sh", "-c", command]


def main() -> int:
    mode, target = sys.argv[1], sys.argv[2]
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    runner = os.environ.get(ENV_RUNNER_PID)
    if runner and os.getppid() != int(runner):
        return 1  # the runner died before prctl took effect
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the entry's to handle; we wait for its end
    pid = os.fork()
    if pid == 0:  # the entry: Python's own handling of its exceptions and exit, as if it were the main program
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _supervisor:
            return 1
        return _entry(mode, target)
    _write_pid_file()
    status = _wait_for(pid)
    _kill_tree(signal.SIGTERM, grace=STRAGGLER_GRACE_SECONDS)
    return _exit_like(status)


_supervisor = os.getpid()


def _entry(mode: str, target: str) -> int:
    """Runs in the forked child: the shell command, or the Python ``module:function`` with the run."""
    if mode == "--shell":
        os.execv(*shell_argv(target))
    import importlib


    module_name, func_name = target.split(":")
    sys.path.insert(0, os.getcwd())
    func = getattr(importlib.import_module(module_name), func_name)

    run = hunchlab.current_run()
    hunchlab.seed_everything(run.seed)
    try:
        func(run)
    except MachineError as e:  # e.g. the disk filled under the entry: a message, not a traceback of hunchlab's code
        print(f"error: {e.format_message()}", file=sys.stderr, flush=True)
        return EXIT_NO_SPACE if isinstance(e, NoSpace) else 1
    return 0


def _write_pid_file() -> None:
    run_dir = os.environ.get("HUNCH_RUN_DIR")
    if not run_dir:
        return

    try:
        (Path(run_dir) / ENTRY_PID_FILE).write_text(f"{_supervisor} {process_start_time(_supervisor)}\n")
    except OSError:
        pass  # a full disk: the runner still owns the run; readers then see only its pid


def _wait_for(pid: int) -> int:
    """Reap children (orphans re-parented to us included) until ``pid`` exits; its wait status."""
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        if reaped == pid:
            return status


def _on_term(signum: int, frame: object) -> None:
    """The runner died (or asked us to stop): take the whole tree down, then go."""
    _kill_tree(signal.SIGKILL, grace=0.0)
    runner, scratch = os.environ.get(ENV_RUNNER_PID), os.environ.get(ENV_SCRATCH)
    if scratch and runner and os.getppid() != int(runner):  # re-parented: the runner is gone
        shutil.rmtree(scratch, ignore_errors=True)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(_supervisor, signal.SIGTERM)


def _kill_tree(sig: int, *, grace: float) -> None:
    """Signal every descendant, then SIGKILL what is left after ``grace`` and reap until none remain."""
    deadline = time.monotonic() + grace
    for pid in _descendants():
        _signal(pid, sig)
    while True:
        _reap()
        left = _descendants()
        if not left:
            return
        if time.monotonic() >= deadline:
            for pid in left:
                _signal(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.01)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _descendants() -> list[int]:
    """Every live process below the supervisor (zombies excluded), from ``/proc``'s parent links."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: list[int] = []
    todo = [_supervisor]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _exit_like(status: int) -> int:
    """Exit as the entry did: its code, or death by the same signal (no core file of our own)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be caught, so need no reset
            signal.signal(sig, signal.SIG_DFL)
        os.kill(_supervisor, sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
