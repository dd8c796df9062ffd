"""One command at a time over the data, and clean ends when a command is interrupted or killed.

``cchc ingest``, ``cchc parse`` and ``cchc build`` take an exclusive lock (``flock`` on the folders themselves, so no
lock file enters a folder or a cache key) over the raw, processed and report folders they read and write. A second
command waits for the first, saying so, and gives up with a clear error after ``WAIT_SECONDS``. Under the lock no other
command is writing, so the staging folders (``.cchc-*``) found there were left by a killed command and are removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cchc_analysis.errors import CchcError

STAGING_PREFIX = ".cchc-"
WAIT_SECONDS = 600.0
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_folder(folder: Path, stack: contextlib.ExitStack, announce) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    stack.callback(os.close, fd)
    if _try_lock(fd):
        return
    announce(f"waiting: another cchc command is using {folder}")
    deadline = time.monotonic() + WAIT_SECONDS
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise CchcError(f"another cchc command (ingest, parse or build) is still using this folder after "
                            f"{WAIT_SECONDS:.0f} s; try again when it has finished", file=folder)
        time.sleep(POLL_SECONDS)


def remove_stale_staging(folder: Path) -> None:
    """Staging folders of a command that was killed (only safe under the lock: no live command owns one)."""
    for path in folder.glob(STAGING_PREFIX + "*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def exclusive(*folders: Path, announce=None) -> Iterator[None]:
    """Hold the lock over the existing ``folders`` (in one global order, so two commands never deadlock)."""
    announce = announce or (lambda message: print(message, file=sys.stderr, flush=True))
    existing = sorted({Path(f).resolve() for f in folders if Path(f).is_dir()})
    with contextlib.ExitStack() as stack:
        for folder in existing:
            _lock_folder(folder, stack, announce)
        for folder in existing:
            remove_stale_staging(folder)
        yield


def _terminate(signum, frame) -> None:
    for child in multiprocessing.active_children():  # worker processes: they would run their notebooks on
        child.terminate()
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM (``kill``, a CI timeout, a service manager) ends a command like Ctrl-C: its worker processes are
    stopped, and rollback and clean-up run."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_with(parent_pid: int) -> None:
    """Make this worker process exit when ``parent_pid`` (the command that started it) is gone.

    Linux delivers SIGTERM at once when the direct parent dies (the forkserver, which exits with the command);
    a watchdog thread also covers the command being killed while the forkserver lingers. A notebook kernel exits
    with its worker (ipykernel polls its parent).
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(143)

    threading.Thread(target=watch, name="cchc-parent-watch", daemon=True).start()
