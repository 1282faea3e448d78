"""A fork server for a sweep's trials: one interpreter, started once per sweep with hunchlab imported,
forks each trial's supervisor (``execute/child.py``) instead of a fresh ``python -m`` per trial.

Why: a trial of a tiny entry cost ~133 ms of CPU against 13 ms for a bare ``python train.py``,
and ~100 ms of it was the supervisor's interpreter starting and importing hunchlab (measured
with ``-X importtime`` on the shared 2-core machine; ``bench/README.md``, issue 23). A fork of
the warm server costs ~1-2 ms.

What a trial keeps: the forked supervisor is the same code as a spawned one (``child.main``),
owning the entry's tree (subreaper, straggler kill); it runs in the trial's folder, environment,
``sys.path`` (the ``PYTHONPATH`` it would have been started with) and new session, with its
stdout and stderr on the driver's pipes, teed into the run folder as before. It dies with the
driver through two links of ``PR_SET_PDEATHSIG``: the driver's death SIGKILLs the server, the
server's death SIGTERMs each supervisor, which kills its tree. The server reports each
supervisor's pid as it forks it and its wait status when it reaps it, on a socket of the
trial's own, so the driver records the same exit code or signal as from ``subprocess``.

A trial whose environment differs from the server's in what an interpreter reads only as it
starts (``PYTHON*`` other than ``PYTHONPATH``, the locale, ``LD_*``...) gets a fresh process.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO

# What a running interpreter does not pick up from os.environ: such a variable that differs makes
# the trial a fresh process (PYTHONPATH is the exception: it is applied to sys.path by hand).
STARTUP_ONLY = ("PYTHON", "LD_", "MALLOC_", "GLIBC_", "LC_", "LANG", "TZ")
MAX_REQUEST = 1 << 20  # one request: the argv, folder and environment of a trial (~5 KB)


@dataclass
class Request:
    """What a forked supervisor is to run, as the driver sent it."""

    mode: str
    target: str
    cwd: str
    env: dict[str, str]
    new_session: bool
    stdout: int
    stderr: int
    ready: int  # closed once the supervisor is in its session: the server then tells the driver its pid


def forkserver_supported() -> bool:
    """Whether this system has what the server needs: fork, and pidfds (Linux 5.3+) to wait on several children."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


def serve(sock: socket.socket) -> Request | None:
    """The server's loop; returns only in a forked supervisor (its request), or None when the driver closed."""
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, the trial's status socket)
    while True:
        for key, _ in sel.select():
            if key.fileobj is not sock:
                pid, status = children.pop(key.fd)
                sel.unregister(key.fd)
                os.close(key.fd)
                _, wait_status = os.waitpid(pid, 0)
                _send_line(status, str(wait_status))
                status.close()
                continue
            msg, fds, _, _ = socket.recv_fds(sock, MAX_REQUEST, 3)
            if not msg:
                return None
            body = json.loads(msg)
            out, err, status_fd = fds
            status = socket.socket(fileno=status_fd)
            ready_r, ready_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                sel.close()
                sock.close()
                status.close()
                os.close(ready_r)
                for pidfd, (_, other) in children.items():
                    os.close(pidfd)
                    other.close()
                return Request(body["mode"], body["target"], body["cwd"], body["env"], body["new_session"], out, err,
                               ready_w)
            for fd in (out, err, ready_w):
                os.close(fd)
            # the driver may signal the trial's process group as soon as it has the pid: wait until it exists
            os.read(ready_r, 1)
            os.close(ready_r)
            pidfd = os.pidfd_open(pid)
            children[pidfd] = (pid, status)
            sel.register(pidfd, selectors.EVENT_READ)
            _send_line(status, str(pid))


def _send_line(sock: socket.socket, line: str) -> None:
    try:
        sock.sendall(f"{line}\n".encode())
    except OSError:
        pass  # the driver's thread is gone (it died): nothing to tell


def become(request: Request, server_pythonpath: str) -> None:
    """In the forked supervisor: take the trial's output, folder, environment and import path."""
    if request.new_session:
        os.setsid()
    os.close(request.ready)
    null = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((null, 0), (request.stdout, 1), (request.stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    # sys.path as `python -m` in this folder with this PYTHONPATH would start: the folder, PYTHONPATH, the rest
    # (site.py makes each entry absolute and drops repeats: so here)
    ours = {os.path.abspath(p) for p in server_pythonpath.split(os.pathsep) if p}
    inherited = [p for p in sys.path[1:] if p not in ours]
    extra = [os.path.abspath(p) for p in request.env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = list(dict.fromkeys([os.getcwd(), *extra, *inherited]))
    sys.path_importer_cache.clear()


class ForkServer:
    """The driver's side: starts the server, asks it for a trial's supervisor."""

    def __init__(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = env
        # its own session: a Ctrl-C in the terminal is the driver's to handle, never the server's
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hunchlab.execute.child", "--serve", str(theirs.fileno())],
            env=env, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True)
        theirs.close()
        self.sock = ours

    def serves(self, env: dict[str, str]) -> bool:
        """Whether a trial with ``env`` can be forked (it differs from the server's in nothing read at start)."""
        keys = set(env) | set(self.env)
        return not any(k.startswith(STARTUP_ONLY) and k != "PYTHONPATH" and env.get(k) != self.env.get(k)
                       for k in keys)

    def spawn(self, argv: list[str], *, cwd: str, env: dict[str, str], new_session: bool) -> ServedProcess:
        """Fork a supervisor for ``argv`` (``python -m hunchlab.execute.child MODE TARGET``) with pipes for its output."""
        mode, target = argv[-2:]
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            body = json.dumps({"mode": mode, "target": target, "cwd": cwd, "env": env, "new_session": new_session})
            socket.send_fds(self.sock, [body.encode()], [out_w, err_w, theirs.fileno()])
        except OSError:
            for fd in (out_r, err_r):
                os.close(fd)
            ours.close()
            raise
        finally:
            for fd in (out_w, err_w):
                os.close(fd)
            theirs.close()
        return ServedProcess(ours, os.fdopen(out_r, "rb", buffering=0), os.fdopen(err_r, "rb", buffering=0))

    def close(self) -> None:
        """Closing its socket ends the server; a supervisor still running dies with it (its PDEATHSIG)."""
        self.sock.close()
        self.proc.wait()


class ServedProcess:
    """A forked supervisor, seen from the driver as the part of ``subprocess.Popen`` the runner uses."""

    def __init__(self, status: socket.socket, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.stdout, self.stderr = stdout, stderr
        self.returncode: int | None = None
        self._status = status
        self._buf = b""
        self._lock = threading.Lock()
        line = self._line(None)
        if line is None:
            status.close()
            raise OSError("the sweep's fork server is gone: it could not start the trial")
        self.pid = int(line)

    def _line(self, timeout: float | None) -> str | None:
        """The next line the server sends; None at its end (the server died), TimeoutError after ``timeout``."""
        self._status.settimeout(timeout)
        while b"\n" not in self._buf:
            chunk = self._status.recv(64)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def wait(self, timeout: float | None = None) -> int:
        """The supervisor's exit code (negative: the signal that killed it), as ``Popen.wait``."""
        with self._lock:
            if self.returncode is not None:
                return self.returncode
            try:
                line = self._line(timeout)
            except TimeoutError:
                raise subprocess.TimeoutExpired("hunchlab.execute.child", timeout or 0.0) from None
            # no status: the server died, and the supervisor with it (its PDEATHSIG)
            self.returncode = -9 if line is None else os.waitstatus_to_exitcode(int(line))
            self._status.close()
            return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(15)

    def kill(self) -> None:
        self.send_signal(9)
