"""A method = a Hyperband scheduler (when, at which budget) + a proposer (which config)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from fidelity import HyperbandScheduler, Job
from hyperpilot.methods.base import History, Method, Suggestion
from hyperpilot.methods.proposers import Proposer
from hyperpilot.space import SearchSpace
from hyperpilot.stopping import StopRule
from hyperpilot.trial import Fidelity, Result, Trial


class ReplayMismatch(RuntimeError):
    """A stored trial does not match what the scheduler would give: the method is not the same."""


class ScheduledMethod(Method):
    """Hyperband brackets (synchronous or asynchronous) filled by a proposer.

    With ``full_fidelity=True`` (or a fidelity with ``min == max``) every trial runs at the max
    budget, which makes this plain (batch) random search or BO.

    Args:
        space: the search space.
        fidelity: budget range and eta.
        seed: master seed of the method.
        proposer: picks new configs.
        mode: ``"async"`` (ASHA-style promotions) or ``"sync"`` (promote when a rung is complete).
        full_fidelity: ignore the lower fidelities.
        stop_rule: options of ``hyperpilot.stopping.StopRule`` to stop runs early from their
            learning curves (None: no curve-based stopping).
        paired_seeds: every config's first run uses the study's first tuning seed (common
            random numbers, ``hyperpilot.seeds``) instead of a seed of its own.
    """

    def __init__(self, space: SearchSpace, fidelity: Fidelity, seed: int, proposer: Proposer,
                 mode: Literal["async", "sync"] = "async", full_fidelity: bool = False,
                 name: str = "scheduled", stop_rule: dict[str, Any] | None = None,
                 paired_seeds: bool = False) -> None:
        super().__init__(space, fidelity, seed)
        self.paired_seeds = bool(paired_seeds)
        self.name = name
        self.proposer = proposer
        self.mode = mode
        self.full_fidelity = full_fidelity or fidelity.single
        lo = fidelity.max if self.full_fidelity else fidelity.min
        self.scheduler = HyperbandScheduler(lo, fidelity.max, fidelity.eta, mode)
        self.stop_rule = None if stop_rule is None else StopRule(**stop_rule)

    def rng(self, ask_index: int, purpose: int = 0) -> np.random.Generator:
        """A generator that depends only on (seed, ask_index, purpose): replay-safe."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, ask_index, purpose]))

    def suggest(self, n: int, history: History, ask_index: int) -> list[Suggestion]:
        slots: list[tuple[Job, int]] = []
        for _ in range(n):
            job = self.scheduler.next_job()
            cid = job.config_id if job.config_id is not None else history.new_config_id()
            self.scheduler.start(job, cid)
            slots.append((job, cid))
        new = [i for i, (job, _) in enumerate(slots) if not job.is_promotion]
        proposed = self.proposer.propose(len(new), history, self.rng(ask_index),
                                         self.fidelity.max) if new else []
        self.fallbacks += sum(bool(info.get("fallback")) for _, info in proposed)
        by_slot = dict(zip(new, proposed, strict=True))
        configs = {r.trial.config_id: r.trial.config for r in history.results}
        out = []
        for i, (job, cid) in enumerate(slots):
            if job.is_promotion:
                cfg, info = configs[cid], {"source": "promotion"}
            else:
                cfg, info = by_slot[i]
            out.append(Suggestion(cid, cfg, job.budget, job.resume_budget, job.bracket_id,
                                  job.rung, info))
        return out

    def replay_ask(self, trial: Trial) -> None:
        job = self.scheduler.next_job()
        same = (job.bracket_id == trial.bracket and job.rung == trial.rung
                and (job.config_id is None or job.config_id == trial.config_id))
        if not same:
            raise ReplayMismatch(f"stored trial {trial.trial_id} (bracket {trial.bracket}, rung "
                                 f"{trial.rung}) differs from the scheduler's {job}")
        self.scheduler.start(job, trial.config_id)

    def observe(self, result: Result, loss: float) -> None:
        t = result.trial
        if t.rung is not None:
            self.scheduler.report(t.config_id, t.rung, loss)

    def options(self) -> dict[str, Any]:
        stop = None if self.stop_rule is None else dict(vars(self.stop_rule))
        out = {"mode": self.mode, "full_fidelity": self.full_fidelity, "stop_rule": stop,
               **self.proposer.options()}
        if self.paired_seeds:  # only when on: a stored study's definition stays as it was
            out["paired_seeds"] = True
        return out
