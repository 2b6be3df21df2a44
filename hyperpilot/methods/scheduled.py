"""A method = a Hyperband scheduler (when, at which budget) + a proposer (which config).

With racing (``racing={"max_seeds": 3}``) a :class:`fidelity.racing.Racer` runs beside the
scheduler: configs that reach the max budget race on more seeds, and its jobs come first. Lower
rungs stay at one seed. Race runs are trials outside the brackets (``bracket`` and ``rung`` None,
``seed_index > 0``, ``info["source"] == "race"``), trained from scratch at the max budget, so each
costs one full-fidelity equivalent of the study's budget.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from fidelity import HyperbandScheduler, Job
from fidelity.racing import Racer, RaceRule
from hyperpilot.methods.base import History, Method, Suggestion
from hyperpilot.methods.proposers import Proposer
from hyperpilot.selection import rule_of
from hyperpilot.space import SearchSpace
from hyperpilot.stopping import OnlineCurveModel, StopRule
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
        racing: options of ``fidelity.racing.RaceRule`` (``{"max_seeds": 3}``) to race configs
            at the max budget on more seeds (None: one seed per config); implies paired seeds.
        incumbent: options of ``hyperpilot.selection.IncumbentRule`` (``{"statistic":
            "mean-std"}``, ``{"statistic": "model"}``; with racing ``min_seeds`` defaults to
            ``max_seeds``); None: the best mean over ``max_seeds`` seeds with racing, else the
            best single run.
    """

    def __init__(self, space: SearchSpace, fidelity: Fidelity, seed: int, proposer: Proposer,
                 mode: Literal["async", "sync"] = "async", full_fidelity: bool = False,
                 name: str = "scheduled", stop_rule: dict[str, Any] | None = None,
                 paired_seeds: bool = False, racing: dict[str, Any] | None = None,
                 incumbent: dict[str, Any] | None = None) -> None:
        super().__init__(space, fidelity, seed)
        self.race_rule = None if racing is None else RaceRule(**racing)
        self.racer = None if self.race_rule is None else Racer(self.race_rule)
        self.paired_seeds = bool(paired_seeds) or self.racer is not None
        self.incumbent_options = None if incumbent is None else dict(incumbent)
        self.incumbent_rule = rule_of({"method_options": {
            "racing": None if self.race_rule is None else dict(vars(self.race_rule)),
            "incumbent": self.incumbent_options}})
        self.name = name
        self.proposer = proposer
        self.mode = mode
        self.full_fidelity = full_fidelity or fidelity.single
        lo = fidelity.max if self.full_fidelity else fidelity.min
        self.scheduler = HyperbandScheduler(lo, fidelity.max, fidelity.eta, mode)
        self.stop_rule = None if stop_rule is None else StopRule(**stop_rule)
        self.stop_curves = OnlineCurveModel.for_rule(self.stop_rule, space, seed)

    def rng(self, ask_index: int, purpose: int = 0) -> np.random.Generator:
        """A generator that depends only on (seed, ask_index, purpose): replay-safe."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, ask_index, purpose]))

    def suggest(self, n: int, history: History, ask_index: int) -> list[Suggestion]:
        races = self._race_jobs(n, history)
        n -= len(races)
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
        return races + out

    def _race_jobs(self, n: int, history: History) -> list[Suggestion]:
        """Up to ``n`` race runs (the racer's queue), before any Hyperband job."""
        out: list[Suggestion] = []
        if self.racer is None:
            return out
        configs = {r.trial.config_id: r.trial.config for r in history.results}
        while len(out) < n and (job := self.racer.next_job()) is not None:
            self.racer.start(job.config_id, job.seed_index)
            out.append(Suggestion(job.config_id, configs[job.config_id], self.fidelity.max, 0.0,
                                  None, None, {"source": "race", "race": job.role},
                                  job.seed_index))
        return out

    def replay_ask(self, trial: Trial) -> None:
        if trial.seed_index > 0:
            if self.racer is None:
                raise ReplayMismatch(f"stored trial {trial.trial_id} is a race run (seed "
                                     f"{trial.seed_index}) but this method does not race")
            try:
                self.racer.start(trial.config_id, trial.seed_index)
            except ValueError as e:
                raise ReplayMismatch(f"stored trial {trial.trial_id}: {e}") from None
            return
        job = self.scheduler.next_job()
        same = (job.bracket_id == trial.bracket and job.rung == trial.rung
                and (job.config_id is None or job.config_id == trial.config_id))
        if not same:
            raise ReplayMismatch(f"stored trial {trial.trial_id} (bracket {trial.bracket}, rung "
                                 f"{trial.rung}) differs from the scheduler's {job}")
        self.scheduler.start(job, trial.config_id)

    def observe(self, result: Result, loss: float) -> None:
        t = result.trial
        if t.rung is not None and t.seed_index == 0:
            self.scheduler.report(t.config_id, t.rung, loss)
        if self.racer is not None and t.budget >= self.fidelity.max:
            self.racer.report(t.config_id, t.seed_index, loss)

    def options(self) -> dict[str, Any]:
        stop = None if self.stop_rule is None else self.stop_rule.options()
        out = {"mode": self.mode, "full_fidelity": self.full_fidelity, "stop_rule": stop,
               **self.proposer.options()}
        return {**out, **self._extra_options()}

    def _extra_options(self) -> dict[str, Any]:
        """Options stored only when set, so a stored study's definition stays as it was."""
        out: dict[str, Any] = {}
        if self.paired_seeds:
            out["paired_seeds"] = True
        if self.race_rule is not None:
            out["racing"] = dict(vars(self.race_rule))
        if self.incumbent_options is not None:
            out["incumbent"] = self.incumbent_rule.options()
        return out
