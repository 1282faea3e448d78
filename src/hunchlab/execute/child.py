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
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

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


def main(parent: int | None = None) -> int:
    """Supervise ``sys.argv[1:]`` (``--python module:function`` or ``--shell COMMAND``) to its end.

    ``parent``: the fork server this supervisor was forked from (``execute/forkserver.py``), which it
    dies with as a spawned one dies with the runner; None when the runner started it."""
    global _parent
    mode, target = sys.argv[1], sys.argv[2]
    # SIGTERM and SIGCHLD are taken synchronously (``_wait_for``), never by a Python handler: a SIGTERM
    # that came as a forked supervisor started its entry was lost about once in 2,000 (the supervisor
    # had its handler set, the signal was gone, the handler never ran: the trial hung until its
    # end). A SIGTERM before this line kills it as any process; after it, it waits to be taken.
    # SIGINT too: a Ctrl-C (or a sweep's stop, sent to the trial's group) is the entry's to handle, and
    # the supervisor waits for its end; one that came before the entry began would reach no one
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    _parent = parent if parent is not None else _runner()
    if _parent and os.getppid() != _parent:
        return 1  # the runner (or the fork server) died before prctl took effect
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if signal.sigtimedwait({signal.SIGINT}, 0) is not None:  # stopped before its entry began: it never will
        _die_by(signal.SIGINT)
    pid = os.fork()
    if pid == 0:  # the entry: Python's own handling of its exceptions and exit, as if it were the main program
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != _supervisor:
            return 1
        return _entry(mode, target)
    if signal.sigtimedwait({signal.SIGINT}, 0) is not None:
        # it came as we forked: maybe before the entry was in the group (then only we have it), maybe
        # after (then it has one too, and a second at its first instant costs it nothing): pass it on
        os.kill(pid, signal.SIGINT)
    _write_pid_file()
    status = _wait_for(pid)
    _kill_tree(signal.SIGTERM, grace=STRAGGLER_GRACE_SECONDS)
    return _exit_like(status)


TAKEN = {signal.SIGTERM, signal.SIGCHLD}  # blocked in the supervisor, taken with sigwaitinfo
HELD = TAKEN | {signal.SIGINT}  # blocked in the supervisor (a SIGINT meanwhile is the entry's), never in the entry
_supervisor = os.getpid()
_parent: int | None = None  # the process whose death is the runner's: the runner, or the fork server


def _runner() -> int | None:
    runner = os.environ.get(ENV_RUNNER_PID)
    return int(runner) if runner else None


def serve(fd: int) -> int:
    """``--serve FD``: a sweep's fork server (``execute/forkserver.py``); in a supervisor it forked, supervise.

    It dies with the runner (SIGKILL, which then SIGTERMs every supervisor it forked) and never takes
    a SIGINT (Ctrl-C is the runner's to handle): it keeps it blocked, so a supervisor it forks holds
    one sent to its trial's group before it began until its entry can take it (ignored, it was
    lost). Only a forked supervisor returns from ``forkserver.serve``."""
    import gc
    import socket

    from hunchlab.execute import forkserver  # lazy: a supervisor spawned by `hunch run` never serves

    global _supervisor
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    runner = _runner()
    if runner and os.getppid() != runner:
        return 1
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    gc.freeze()  # what is imported now is never collected: a forked trial's collections do not copy it
    server, server_path = os.getpid(), os.environ.get("PYTHONPATH", "")
    request = forkserver.serve(socket.socket(fileno=fd))
    if request is None:
        return 0  # the runner closed the server: the sweep has ended
    _supervisor = os.getpid()
    forkserver.become(request, server_path)
    sys.argv[1:] = [request.mode, request.target]
    _exit_without_teardown(lambda: main(parent=server))


def _exit_without_teardown(body: Callable[[], int]) -> NoReturn:
    """Run ``body`` and end the process as the interpreter would, without tearing its modules down.

    A forked supervisor and its entry share the server's heap copy-on-write; the teardown at
    the end of an interpreter touches every object, so it copied the whole heap twice: 60 ms
    of CPU a trial (37 user, 23 sys, 6,300 page faults) against 16 ms ending this way
    (``multiprocessing`` ends its forked workers the same way). What a Python program's end
    promises is kept: an uncaught exception's traceback and exit code 1 (``SystemExit``'s
    code or message), a ``KeyboardInterrupt`` exits by SIGINT, non-daemon threads are waited
    for, ``atexit`` functions run and stdout/stderr are flushed.
    """
    import atexit
    import threading

    interrupted = False
    try:
        code = body()
    except SystemExit as e:
        code = _exit_code(e)
    except KeyboardInterrupt:
        interrupted, code = True, 1
        sys.excepthook(*sys.exc_info())
    except BaseException:  # noqa: BLE001 - printed and exited with, as the interpreter does
        code = 1
        sys.excepthook(*sys.exc_info())
    threading._shutdown()  # type: ignore[attr-defined]  # what the interpreter and multiprocessing call
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # the interpreter's code for output it could not flush
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


def _exit_code(e: SystemExit) -> int:
    """The exit status ``sys.exit(arg)`` gives: 0 for None, the int, else 1 with the message on stderr."""
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    print(e.code, file=sys.stderr)
    return 1


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
    """Reap children (orphans re-parented to us included) until ``pid`` exits; its wait status.

    A SIGTERM meanwhile (the runner stops the trial, or died) takes the whole tree down and ends
    the supervisor by that SIGTERM."""
    while True:
        while True:
            reaped, status = os.waitpid(-1, os.WNOHANG)
            if reaped == pid:
                return status
            if reaped == 0:
                break
        if signal.sigwaitinfo(TAKEN).si_signo == signal.SIGTERM:
            _terminate()


def _terminate() -> NoReturn:
    """The runner died (or asked us to stop): take the whole tree down, then end by SIGTERM."""
    _kill_tree(signal.SIGKILL, grace=0.0, stoppable=False)
    scratch = os.environ.get(ENV_SCRATCH)
    if scratch and _parent and os.getppid() != _parent:  # re-parented: the runner (or its server) is gone
        shutil.rmtree(scratch, ignore_errors=True)
    _die_by(signal.SIGTERM)


def _die_by(sig: int) -> NoReturn:
    """End this process by ``sig``, as the entry ended (no core file of our own)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sig not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be caught, so need no reset
        signal.signal(sig, signal.SIG_DFL)
    os.kill(_supervisor, sig)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})  # a blocked one is delivered here
    os._exit(128 + sig)  # not reached: the signal's default action ends the process


def _kill_tree(sig: int, *, grace: float, stoppable: bool = True) -> None:
    """Signal every descendant, then SIGKILL what is left after ``grace`` and reap until none remain.

    A SIGTERM during the grace (``stoppable``) ends it at once, as a SIGTERM while the entry runs.

    A supervisor with no child left has no descendant (every orphan of its tree is re-parented to
    it, the subreaper), so the usual end, an entry that left nothing behind, reads no ``/proc``:
    each walk reads every process's ``stat`` (~4 ms of CPU with ~190 processes), twice a trial."""
    deadline = time.monotonic() + grace
    if not _reap():
        return
    for pid in _descendants():
        _signal(pid, sig)
    while True:
        if not _reap():
            return
        left = _descendants()
        if not left:
            return
        if time.monotonic() >= deadline:
            for pid in left:
                _signal(pid, signal.SIGKILL)
        _reap()
        if signal.sigtimedwait({signal.SIGTERM}, 0.01) and stoppable:
            _terminate()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap() -> bool:
    """Reap every child that has ended; whether any child is left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


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
    """Exit as the entry did: its code, or death by the same signal."""
    if os.WIFSIGNALED(status):
        _die_by(os.WTERMSIG(status))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[2])) if sys.argv[1] == "--serve" else main())
