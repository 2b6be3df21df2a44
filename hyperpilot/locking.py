"""Advisory ``flock`` locks so that two processes never drive one study store or bench folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


class LockedError(RuntimeError):
    """Another live process holds the lock (its pid is in the message)."""


def _take(fd: int, what: str, note: Path) -> None:
    """``flock`` ``fd`` exclusively without waiting; on refusal raise ``LockedError`` naming
    the holder's pid from ``note`` (the caller closes ``fd``)."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            holder = note.read_text().strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise LockedError(f"{what} is being run by another process (pid {holder}); "
                          "wait for it or stop it before resuming") from None


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # not POSIX: no lock
        return False
    return True


class PathLock:
    """A lock held on a folder or file (:func:`hold_folder_lock`, :func:`hold_file_lock`);
    :meth:`close` releases it."""

    def __init__(self, fd: int, note: IO[str] | None) -> None:
        self._fd, self._note = fd, note

    def close(self) -> None:
        """Release the lock (the kernel also does when the process exits)."""
        if self._fd >= 0:
            if self._note is not None:
                self._note.close()
            os.close(self._fd)
            self._fd = -1


def _hold(target: Path, what: str, note: Path) -> PathLock:
    """``flock`` the existing ``target`` (a folder or a file) and write this pid to ``note``
    (best effort: the note only serves a refused process's message, so a read-only place
    leaves the error to whoever writes there next)."""
    fd = os.open(target, os.O_RDONLY)
    try:
        _take(fd, what, note)
    except LockedError:
        os.close(fd)
        raise
    f: IO[str] | None = None
    try:
        f = open(note, "w")  # noqa: SIM115 (held with the lock)
        f.write(str(os.getpid()))
        f.flush()
    except OSError:
        if f is not None:
            f.close()
        f = None
    return PathLock(fd, f)


def hold_folder_lock(folder: Path, what: str, note: str = "run.lock") -> PathLock | None:
    """Take an exclusive ``flock`` on ``folder`` itself for this process's lifetime.

    Locking the folder, not a file in it, means that deleting the file cannot release the lock:
    removing a bench's ``run.lock`` by hand once let a second runner into a live folder (the
    study store's own check then refused the duplicate trials). The holder's pid is written to
    ``folder / note``, for the message a second process gets. The kernel drops an ``flock``
    when its holder exits, however it exits (SIGKILL included), so a crashed run never leaves
    a stale lock. None where ``fcntl`` is missing (not POSIX: no lock).

    Raises:
        LockedError: when another process holds the lock; ``what`` names the locked thing.
    """
    if not _has_flock():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return _hold(folder, what, folder / note)


def hold_file_lock(path: Path, what: str) -> PathLock | None:
    """Take an exclusive ``flock`` on the file ``path`` itself (created empty if missing).

    For a study store: an SQLite file, which may hold several studies, so its folder is not
    the thing to lock. SQLite's own locks are POSIX record locks, which on Linux are independent
    of ``flock``, so the two do not interfere; an empty file is an empty SQLite database. The
    holder's pid goes to ``<path>.lock``, for the message only: deleting it releases nothing.
    None where ``fcntl`` is missing.

    Raises:
        LockedError: when another process holds the lock; ``what`` names the locked thing.
    """
    if not _has_flock():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch()
    return _hold(path, what, path.with_name(path.name + ".lock"))
