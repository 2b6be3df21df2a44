"""Advisory ``flock`` locks so that two processes never drive one study store or bench folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


class LockedError(RuntimeError):
    """Another live process holds the lock (its pid is in the message)."""


def hold_lock(lock_path: Path, what: str) -> IO[str] | None:
    """Take an exclusive lock on ``lock_path`` (created if needed) for this process's lifetime.

    The kernel drops an ``flock`` when its holder exits, however it exits (SIGKILL included),
    so a crashed run never leaves a stale lock. Returns the open file, which must stay referenced
    while the work lasts; None where ``fcntl`` is missing (not POSIX: no lock).

    Raises:
        LockedError: when another process holds the lock; ``what`` names the locked thing.
    """
    try:
        import fcntl
    except ImportError:
        return None
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    f = open(lock_path, "a+")  # noqa: SIM115 (held for the run)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        raise LockedError(f"{what} is being run by another process (pid {holder}); "
                          "wait for it or stop it before resuming") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f
