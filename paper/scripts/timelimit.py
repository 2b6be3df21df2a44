"""Calls with a wall-clock limit: ``fn(job)`` runs in a kept-alive worker process.

A call past its limit cannot be interrupted from inside (a GP's Cholesky or an optimiser loop
does not poll a clock), so the worker is killed and the next call starts a fresh one. The limit
counts from the moment the job is sent to a ready worker: the child's imports are not in it.

    worker = TimeLimitedWorker(time_one)
    out = worker.call(job, timeout=600.0)  # Outcome("ok", value) / ("timeout") / ...
    worker.close()
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

Status = Literal["ok", "timeout", "error", "crashed"]


@dataclass(frozen=True)
class Outcome:
    """One call's result.

    Attributes:
        status: ``ok`` (``value`` holds the return value), ``timeout`` (killed at the limit),
            ``error`` (``fn`` raised; ``message`` holds the exception) or ``crashed`` (the worker
            died, e.g. out of memory).
        value: What ``fn`` returned (``ok`` only).
        message: The reason for any other status.
    """

    status: Status
    value: Any = None
    message: str = ""


def _serve(fn: Callable[[Any], Any], conn: Connection) -> None:
    conn.send("ready")
    while (job := conn.recv()) is not None:
        try:
            conn.send(("ok", fn(job)))
        except Exception as e:  # reported to the caller, who records it; never swallowed
            conn.send(("error", f"{type(e).__name__}: {e}"))


class TimeLimitedWorker:
    """Runs ``fn(job)`` in a child process (``spawn``), one call at a time, each with a limit.

    Args:
        fn: A module-level function (pickled by reference); its module is imported in the
            child, once per worker.
        start_timeout: Seconds a new worker may take to import and report ready.
    """

    def __init__(self, fn: Callable[[Any], Any], start_timeout: float = 300.0) -> None:
        self.fn, self.start_timeout = fn, start_timeout
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self.fn, child), daemon=True)
        self._proc.start()
        child.close()
        if not parent.poll(self.start_timeout) or parent.recv() != "ready":
            self._kill()
            raise RuntimeError(f"worker did not start within {self.start_timeout:g} s")
        self._conn = parent
        return parent

    def call(self, job: Any, timeout: float | None) -> Outcome:
        """``fn(job)`` in the worker, killed after ``timeout`` seconds (None: no limit)."""
        conn = self._conn or self._start()
        conn.send(job)
        if not conn.poll(timeout):
            self._kill()
            return Outcome("timeout", message=f"timed out (> {timeout:g} s)")
        try:
            status, value = conn.recv()
        except EOFError:
            code = self._kill()
            return Outcome("crashed", message=f"worker died (exit code {code})")
        return Outcome("ok", value) if status == "ok" else Outcome("error", message=value)

    def _kill(self) -> int | None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        if self._proc is None:
            return None
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        code, self._proc = self._proc.exitcode, None
        return code

    def close(self) -> None:
        """Stop the worker (politely when idle)."""
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            self._conn.send(None)
            self._proc.join(10)
        self._kill()

    def __enter__(self) -> TimeLimitedWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
