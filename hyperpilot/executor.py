"""Executors run trials: in-process, or in persistent local worker processes with timeouts.

A worker process lives across trials (imports of torch or SB3 cost seconds), sets
``OMP_NUM_THREADS=1`` and ``torch.set_num_threads(1)``, and sends back either the parsed objective
output or the traceback. The driver kills a worker whose trial passes its timeout and starts a
fresh one; a worker that dies mid-trial is reported as a failed trial with ``crashed=True``
(the runner may retry it). A worker whose driver was killed exits by itself instead of waiting
forever for work.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from typing import Any

from hyperpilot.trial import Context, Curve, Trial, parse_objective_output


@dataclass(frozen=True)
class Outcome:
    """What came back from one trial: a parsed output, or a failure reason."""

    trial: Trial
    value: float | None = None
    curve: Curve = field(default_factory=list)
    cost: float | None = None
    error: str | None = None
    wall_time: float = 0.0
    stopped: bool = False
    crashed: bool = False  # the worker died under the trial: the run was lost, not judged
    decisions: tuple[dict[str, Any], ...] = ()  # the pruner's decisions (Decision.to_dict)


def limit_threads() -> None:
    """One BLAS/OpenMP/torch thread: two threads made PPO 5.6x slower on the reference machines."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")  # a later ``import torch`` reads OMP_NUM_THREADS itself;
    if torch is not None:  # importing it here would cost every fresh worker seconds
        torch.set_num_threads(1)


MALLOC_TUNABLE = "glibc.malloc.hugetlb=1"


def quiet_optimizer_warnings() -> None:
    """Hide BoTorch's ``RuntimeWarning: Optimization failed ...`` in this process.

    BoTorch retries a failed L-BFGS restart with new initial conditions and says so each time;
    that is not a fallback of ours (those are logged and counted in the results), so entry
    points (the ``hyperpilot`` CLI, ``bench run`` and its cell processes) keep the terminal
    readable with this filter.
    """
    import warnings

    warnings.filterwarnings("ignore", message=r"Optimization failed", category=RuntimeWarning)


def huge_page_malloc() -> None:
    """Processes started after this call back glibc's large blocks with transparent huge pages.

    torch's big temporaries (64 MiB in an MC-dropout forward pass late in a study) are blocks
    that glibc maps and unmaps on every call, one page fault per 4 KiB page: 2.4 million faults
    in a 50 s bench cell. With ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (glibc >= 2.35; older
    versions ignore it; the kernel's THP mode must be ``madvise`` or ``always``) the faults fall
    about 30x and the cell's CPU time by about 6%, with identical results. glibc reads tunables
    when a process starts, so only children started after this call use it (``make`` sets it
    for the commands it runs). A user's own ``glibc.malloc.hugetlb`` setting is kept.
    """
    cur = os.environ.get("GLIBC_TUNABLES", "")
    if sys.platform.startswith("linux") and "glibc.malloc.hugetlb" not in cur:
        os.environ["GLIBC_TUNABLES"] = f"{cur}:{MALLOC_TUNABLE}" if cur else MALLOC_TUNABLE


def evaluate(objective: Any, trial: Trial, ctx: Context) -> Outcome:
    """Call ``objective`` on ``trial`` and turn anything it does into an :class:`Outcome`."""
    t0 = time.perf_counter()
    try:
        out = objective(trial.config, trial.budget, trial.resume_budget, ctx)
        value, curve, cost = parse_objective_output(out)
    except Exception as e:  # noqa: BLE001 - any error of user code is a failed trial, kept with its traceback
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
        return Outcome(trial, error=f"{type(e).__name__}: {e}\n{tb}", wall_time=time.perf_counter() - t0)
    stopped = bool(ctx.extras.get("stopped_at") is not None)
    return Outcome(trial, value, curve, cost, None, time.perf_counter() - t0, stopped,
                   decisions=tuple(ctx.extras.get("decisions") or ()))


class Executor(ABC):
    """Runs trials; ``submit`` hands one over, ``wait`` returns the next one that finished."""

    n_workers: int = 1

    @abstractmethod
    def submit(self, trial: Trial, ctx: Context) -> None: ...

    @abstractmethod
    def wait(self) -> Outcome: ...

    @property
    @abstractmethod
    def n_running(self) -> int: ...

    def close(self) -> None:
        return None


class InlineExecutor(Executor):
    """Runs each trial in this process when :meth:`wait` is called (no timeout)."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective
        self._queue: deque[tuple[Trial, Context]] = deque()
        limit_threads()

    def submit(self, trial: Trial, ctx: Context) -> None:
        self._queue.append((trial, ctx))

    def wait(self) -> Outcome:
        trial, ctx = self._queue.popleft()
        return evaluate(self.objective, trial, ctx)

    @property
    def n_running(self) -> int:
        return len(self._queue)


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Exit this process (code 1) within ``interval`` seconds of ``parent``'s death.

    A pool initializer for worker processes whose driver may be killed (SIGTERM, SIGKILL, OOM):
    without it they finish their task as orphans, still writing and using the cores. A daemon
    thread polls ``os.getppid()``; ``os._exit`` skips cleanup, which the callers' crash-safe
    storage does not need.

    Args:
        parent: the driver's pid (``os.getpid()`` there, passed through ``initargs``).
        interval: seconds between polls.
    """
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker_main(objective: Any, conn: Connection, parent: int) -> None:
    limit_threads()
    while True:
        if not conn.poll(1.0):
            if os.getppid() != parent:  # the driver was killed: do not linger as an orphan
                return
            continue
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        trial, ctx = item
        conn.send(evaluate(objective, trial, ctx))


@dataclass
class _Worker:
    proc: Any
    conn: Connection  # the driver's end of this worker's own pipe (tasks out, outcomes back)
    trial: Trial | None = None
    started: float = 0.0


class WorkerPoolExecutor(Executor):
    """``n_workers`` persistent processes; a free worker takes the next trial at once.

    Each worker has its own pipe, so a worker killed at any moment (timeout, OOM killer, crash)
    cannot leave a shared lock held or a half-written message for the others.

    Args:
        objective: the objective (with the default ``fork`` start method it need not pickle).
        n_workers: number of processes.
        timeout: seconds after which a running trial is killed and recorded as failed.
        start_method: multiprocessing start method; ``HYPERPILOT_MP_START`` overrides.
    """

    def __init__(self, objective: Any, n_workers: int, timeout: float | None = None,
                 start_method: str | None = None) -> None:
        if n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        method = start_method or os.environ.get("HYPERPILOT_MP_START", "fork")
        self._mp = mp.get_context(method)
        self.objective = objective
        self.n_workers = n_workers
        self.timeout = timeout
        self._backlog: deque[tuple[Trial, Context]] = deque()
        self._workers = [self._spawn() for _ in range(n_workers)]
        self.restarts = 0

    def _spawn(self) -> _Worker:
        ours, theirs = self._mp.Pipe()
        proc = self._mp.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(self.objective, theirs, os.getpid()), daemon=True)
        proc.start()
        theirs.close()  # only the worker holds its end: its death reads as EOF here
        return _Worker(proc, ours)

    def submit(self, trial: Trial, ctx: Context) -> None:
        self._backlog.append((trial, ctx))
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if w.trial is None and self._backlog:
                w.trial, ctx = self._backlog.popleft()
                w.started = time.monotonic()
                try:
                    w.conn.send((w.trial, ctx))
                except OSError:  # the worker is already dead; _reap reports the trial
                    continue

    @property
    def n_running(self) -> int:
        return len(self._backlog) + sum(w.trial is not None for w in self._workers)

    def wait(self) -> Outcome:
        if self.n_running == 0:
            raise RuntimeError("wait() with no trial submitted")
        while True:
            busy = [w for w in self._workers if w.trial is not None]
            ready = set(wait_any([w.conn for w in busy], timeout=0.2))
            for w in busy:
                if w.conn not in ready:
                    continue
                try:
                    out: Outcome = w.conn.recv()
                except (EOFError, OSError):  # died before answering; _reap reports it
                    continue
                w.trial = None
                self._dispatch()
                return out
            dead = self._reap()
            if dead is not None:
                return dead

    def _reap(self) -> Outcome | None:
        """Kill a worker past its timeout, or notice one that died; return its failed trial."""
        now = time.monotonic()
        for i, w in enumerate(self._workers):
            if w.trial is None:
                continue
            late = self.timeout is not None and now - w.started > self.timeout
            if not late and w.proc.is_alive():
                continue
            trial, elapsed = w.trial, now - w.started
            if late:
                reason = f"timeout: killed after {elapsed:.1f} s (limit {self.timeout} s)"
                w.proc.kill()
            else:
                reason = f"worker process died (exit code {w.proc.exitcode})"
            w.proc.join(timeout=5)
            w.conn.close()
            self._workers[i] = self._spawn()
            self.restarts += 1
            self._dispatch()
            return Outcome(trial, error=reason, wall_time=elapsed, crashed=not late)
        return None

    def close(self) -> None:
        for w in self._workers:
            try:
                w.conn.send(None)
            except OSError:  # already gone
                continue
        for w in self._workers:
            w.proc.join(timeout=2)
            if w.proc.is_alive():
                w.proc.kill()
            w.conn.close()
