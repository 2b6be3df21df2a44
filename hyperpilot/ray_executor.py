"""Trials on persistent Ray actors: one actor per worker slot, on a local or remote Ray cluster.

The optimizer stays in the driver (``Study``); an actor only runs ``objective`` and sends back an
:class:`~hyperpilot.executor.Outcome`. Actors live across trials (no process start-up per trial),
run with ``OMP_NUM_THREADS=1`` and ``torch.set_num_threads(1)``, and are replaced when they die or
when a trial passes its timeout (the actor is killed; the trial is recorded as failed).

``import ray`` happens in :meth:`RayExecutor.start`, never at import time, and nothing is started in
the constructor: the first ``submit`` connects to Ray (or starts a local instance).

Order: with asynchronous workers the order in which trials finish decides Hyperband's promotions,
so two runs with one seed differ trial by trial (on Ray as with local processes). With synchronous
batches (``batch_size``) and a deterministic objective the results are independent of completion
order, and a Ray run equals a local one exactly (``tests/hyperpilot/test_ray.py``).

Checkpoint directories are paths on the driver's file system: on a multi-node cluster they must be
on a shared file system for promotions to resume from a checkpoint.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from hyperpilot.executor import Executor, Outcome, evaluate, limit_threads
from hyperpilot.trial import Context, Trial

log = logging.getLogger(__name__)

THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


class TrialActor:
    """Holds the objective in a Ray worker process and runs one trial per call."""

    def __init__(self, objective: Any) -> None:
        limit_threads()
        self.objective = objective

    def ready(self) -> int:
        """The actor's process id (a call that returns once the actor is up)."""
        return os.getpid()

    def run(self, trial: Trial, ctx: Context) -> Outcome:
        return evaluate(self.objective, trial, ctx)


@dataclass
class _Slot:
    actor: Any
    ref: Any = None  # the ObjectRef of the running trial
    trial: Trial | None = None
    started: float = 0.0


class RayExecutor(Executor):
    """``n_workers`` persistent Ray actors; a free actor takes the next trial at once.

    Args:
        objective: the objective; pickled once (cloudpickle) into the Ray object store.
        n_workers: number of actors (parallel trials).
        address: ``None`` starts a local Ray instance with ``n_workers * cpus_per_trial`` CPUs;
            ``"auto"`` or ``"HOST:PORT"`` connects to a running cluster.
        cpus_per_trial: CPUs each actor reserves.
        gpus_per_trial: GPUs each actor reserves (fractions share a GPU).
        timeout: seconds after which a running trial's actor is killed and the trial failed.
    """

    def __init__(self, objective: Any, n_workers: int, address: str | None = None,
                 cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                 timeout: float | None = None) -> None:
        if n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        if cpus_per_trial < 0 or gpus_per_trial < 0:
            raise ValueError("cpus_per_trial and gpus_per_trial must be >= 0")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        self.objective = objective
        self.n_workers = n_workers
        self.address = address
        self.cpus_per_trial = cpus_per_trial
        self.gpus_per_trial = gpus_per_trial
        self.timeout = timeout
        self.restarts = 0
        self._slots: list[_Slot] = []
        self._backlog: deque[tuple[Trial, Context]] = deque()
        self._owns_ray = False
        self._actor_cls: Any = None
        self._objective_ref: Any = None

    # ----------------------------------------------------------------- life cycle
    def start(self) -> None:
        """Connect to (or start) Ray and wait until every actor is up; idempotent."""
        if self._slots:
            return
        import ray

        if not ray.is_initialized():
            if self.address is None:
                # the local Ray processes inherit this environment; a runtime_env would cost
                # seconds of agent start-up per job on a small machine
                os.environ.update(THREAD_ENV)
                gpus = math.ceil(self.n_workers * self.gpus_per_trial)
                ray.init(num_cpus=max(1, math.ceil(self.n_workers * self.cpus_per_trial)),
                         num_gpus=gpus or None, include_dashboard=False,
                         logging_level=logging.WARNING)
            else:
                ray.init(address=self.address, logging_level=logging.WARNING,
                         runtime_env={"env_vars": THREAD_ENV})
            self._owns_ray = True
        self._actor_cls = ray.remote(num_cpus=self.cpus_per_trial, num_gpus=self.gpus_per_trial,
                                     max_restarts=0, max_task_retries=0)(TrialActor)
        self._objective_ref = ray.put(self.objective)
        self._slots = [_Slot(self._new_actor()) for _ in range(self.n_workers)]
        try:
            ray.get([s.actor.ready.remote() for s in self._slots], timeout=300)
        except ray.exceptions.RayError as e:
            self.close()
            raise RuntimeError(f"Ray actors could not start: {_first_line(e)}") from e

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self._objective_ref)

    def close(self) -> None:
        """Kill the actors; shut Ray down if this executor started or connected it."""
        if not self._slots and not self._owns_ray:
            return
        import ray

        for s in self._slots:
            ray.kill(s.actor, no_restart=True)
        self._slots = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    # ----------------------------------------------------------------- Executor
    def submit(self, trial: Trial, ctx: Context) -> None:
        self.start()
        self._backlog.append((trial, ctx))
        self._dispatch()

    def _dispatch(self) -> None:
        for s in self._slots:
            if s.trial is None and self._backlog:
                s.trial, ctx = self._backlog.popleft()
                s.started = time.monotonic()
                s.ref = s.actor.run.remote(s.trial, ctx)

    @property
    def n_running(self) -> int:
        return len(self._backlog) + sum(s.trial is not None for s in self._slots)

    def wait(self) -> Outcome:
        if self.n_running == 0:
            raise RuntimeError("wait() with no trial submitted")
        import ray

        while True:
            busy = {s.ref: s for s in self._slots if s.ref is not None}
            done, _ = ray.wait(list(busy), num_returns=1, timeout=0.2)
            if done:
                return self._collect(busy[done[0]])
            late = self._late()
            if late is not None:
                return late

    def _collect(self, s: _Slot) -> Outcome:
        """The outcome of the finished call on slot ``s``; a dead actor is replaced."""
        import ray

        trial, elapsed = s.trial, time.monotonic() - s.started
        assert trial is not None
        try:
            out: Outcome = ray.get(s.ref)
        except ray.exceptions.RayTaskError as e:  # the call itself failed (e.g. unpicklable args)
            out = Outcome(trial, error=f"Ray task failed: {_first_line(e)}", wall_time=elapsed)
        except ray.exceptions.RayError as e:  # actor died (os._exit, OOM, node lost, ...)
            out = Outcome(trial, error=f"Ray actor died: {_first_line(e)}", wall_time=elapsed,
                          crashed=True)
            self._replace(s)
        s.ref, s.trial = None, None
        self._dispatch()
        return out

    def _late(self) -> Outcome | None:
        """Kill the actor of a trial past its timeout, replace it, and return the failed trial."""
        if self.timeout is None:
            return None
        now = time.monotonic()
        for s in self._slots:
            if s.trial is not None and now - s.started > self.timeout:
                trial, elapsed = s.trial, now - s.started
                self._replace(s)
                s.ref, s.trial = None, None
                self._dispatch()
                return Outcome(trial, error=f"timeout: killed after {elapsed:.1f} s "
                                            f"(limit {self.timeout} s)", wall_time=elapsed)
        return None

    def _replace(self, s: _Slot) -> None:
        import ray

        ray.kill(s.actor, no_restart=True)
        s.actor = self._new_actor()
        self.restarts += 1


def _first_line(e: BaseException) -> str:
    lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__
