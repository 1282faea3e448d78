"""The supervisor an entry runs under (execute/child.py), started as `hunch run` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def test_a_sigint_that_comes_before_the_entry_begins_ends_the_supervisor_at_once(tmp_path):
    # A SIGINT held (blocked) for the supervisor as it starts, as the fork server holds one for a
    # supervisor it forks: setting SIGINT to ignored threw it away, and the entry began and ran on
    # (a sweep's stop then waited out its 10 s grace). Now the supervisor takes it before it forks.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc = subprocess.Popen([sys.executable, "-m", "hunchlab.execute.child", "--shell", "sleep 30"],
                                cwd=tmp_path, env=os.environ.copy(), start_new_session=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    os.kill(proc.pid, signal.SIGINT)  # still starting its interpreter: the signal waits, blocked
    try:
        assert proc.wait(timeout=20) == -signal.SIGINT
    finally:
        proc.kill()
