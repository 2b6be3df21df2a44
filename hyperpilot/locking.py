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


def hold_lock(lock_path: Path, what: str) -> IO[str] | None:
    """Take an exclusive lock on ``lock_path`` (created if needed) for this process's lifetime.

    The kernel drops an ``flock`` when its holder exits, however it exits (SIGKILL included),
    so a crashed run never leaves a stale lock. Returns the open file, which must stay referenced
    while the work lasts; None where ``fcntl`` is missing (not POSIX: no lock). Deleting the file
    while it is held releases it for the next process: :func:`hold_folder_lock` does not.

    Raises:
        LockedError: when another process holds the lock; ``what`` names the locked thing.
    """
    if not _has_flock():
        return None
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    f = open(lock_path, "a+")  # noqa: SIM115 (held for the run)
    try:
        _take(f.fileno(), what, lock_path)
    except LockedError:
        f.close()
        raise
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


class FolderLock:
    """A lock held on a folder (:func:`hold_folder_lock`); :meth:`close` releases it."""

    def __init__(self, fd: int, note: IO[str]) -> None:
        self._fd, self._note = fd, note

    def close(self) -> None:
        """Release the lock (the kernel also does when the process exits)."""
        if self._fd >= 0:
            self._note.close()
            os.close(self._fd)
            self._fd = -1


def hold_folder_lock(folder: Path, what: str, note: str = "run.lock") -> FolderLock | None:
    """Take an exclusive ``flock`` on ``folder`` itself for this process's lifetime.

    Locking the folder, not a file in it, means that deleting the file cannot release the lock:
    removing a bench's ``run.lock`` by hand once let a second runner into a live folder (the
    study store's own check then refused the duplicate trials). The holder's pid is written to
    ``folder / note``, for the message a second process gets. None where ``fcntl`` is missing.

    Raises:
        LockedError: when another process holds the lock; ``what`` names the locked thing.
    """
    if not _has_flock():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        _take(fd, what, folder / note)
    except LockedError:
        os.close(fd)
        raise
    f = open(folder / note, "w")  # noqa: SIM115 (held with the lock)
    f.write(str(os.getpid()))
    f.flush()
    return FolderLock(fd, f)
