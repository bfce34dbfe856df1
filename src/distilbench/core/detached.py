"""A helper process outside the terminal's process group that still dies with the process that started it.

A terminal's Ctrl-C sends SIGINT to every process of its foreground group at once. A server the run
needs until its very end (the temporary Prefect server) must not be among them: it would die before the
run has said it stopped. So it starts in a session of its own (`start_new_session`), where no terminal
signal reaches it, and the run stops it itself. A session of its own also means nothing would end it if
the run were killed with `kill -9`; Linux's parent-death signal (prctl PR_SET_PDEATHSIG, kept across
exec) sends it SIGTERM when the run dies, however it dies.

This module's `main` is that step: `python -m distilbench.core.detached <parent pid> <command...>` sets the
parent-death signal, checks the parent is still there (it may have died before the signal was set), then
becomes the command. It imports nothing heavy: it runs before every such server.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def supported() -> bool:
    """The parent-death signal is Linux's: elsewhere a detached helper could outlive a killed run."""
    return sys.platform.startswith("linux")


def start_detached(command: list[str], env: Mapping[str, str]) -> subprocess.Popen:
    """`command` in a session of its own, ended by SIGTERM when this process dies (Linux only).

    Call it from the main thread: the kernel sends the parent-death signal when the *thread* that started
    the child ends, and only the main thread lives as long as the process.
    """
    guard = [sys.executable, "-m", __name__, str(os.getpid()), *command]
    return subprocess.Popen(guard, env=dict(env), start_new_session=True)


def die_with_parent(parent: int) -> None:
    """SIGTERM this process when `parent` dies; exit now if it has died already."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # reparented: the parent died before the signal was set
        sys.exit(0)


def main(argv: list[str]) -> None:
    parent, command = int(argv[0]), argv[1:]
    die_with_parent(parent)
    os.execvp(command[0], command)  # the parent-death signal survives exec


if __name__ == "__main__":
    main(sys.argv[1:])
