"""``pbt``: population-based training (Jaderberg et al. 2017) as a synchronous, generation-based method.

A population of ``population`` members trains in ready intervals of ``interval`` budget units.
Each member's interval is one trial: a **new** ``config_id`` whose checkpoint folder starts as a
copy of the folder of the trial it continues (``Suggestion.info["clone_from"]``, copied by the
runner before the trial starts), with ``resume_budget`` the interval's start. Because a finished
interval's folder is never written again, a copy cannot race with the source member's next
interval, and a trial re-run after a kill copies the same folder again.

When every member of a generation has finished, truncation selection ranks them by the value at
the interval's end: the bottom ``quantile`` copies a member of the top ``quantile`` (its weights
through ``clone_from``, its hyperparameters and their history), then explores: the ``mutable``
parameters are perturbed (x0.8 / x1.2, clipped) or resampled (``fidelity.pbt``; PB2 replaces this
step, ``hyperpilot.methods.pb2``). The others continue as they are. A trial's config holds the
schedule it trained with (``hyperpilot.schedule``): its mutable parameters are schedules, with
the inherited history, so the final best member's config is the schedule to re-run on test seeds.

When the last interval ends (the max budget) and the study still has budget, a new round starts
with a fresh random population. Every decision depends only on the seed and the set of results,
never on the order they arrive in, so suggestions replay exactly after a kill.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fidelity.pbt import NumRange, boundaries, exploit_pairs, truncation
from fidelity.pbt import explore as perturb
from hyperpilot.methods.base import History, Method, Suggestion
from hyperpilot.methods.scheduled import ReplayMismatch
from hyperpilot.schedule import config_at, extend, make_schedule
from hyperpilot.space import Categorical, Config, Float, Int, SearchSpace
from hyperpilot.trial import Fidelity, Result, Trial

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interval:
    """One finished ready interval of a member: what an explore model learns from.

    Attributes:
        start: the budget the interval started at.
        end: the budget it ended at.
        values: the member's plain config during the interval.
        start_loss: the loss of the weights it started from (None in the first interval).
        loss: the loss at ``end`` (``inf`` if the trial failed).
    """

    start: float
    end: float
    values: Config
    start_loss: float | None
    loss: float


@dataclass
class _Plan:
    member: int
    config: Config
    budget: float
    resume: float
    clone_from: int | None
    start_loss: float | None
    info: dict[str, Any] = field(default_factory=dict)


class Explorer:
    """PBT's explore step: new values of the mutable parameters for the exploiting members."""

    name = "perturb"

    def __init__(self, ranges: dict[str, NumRange], categorical: dict[str, list[Any]],
                 resample_probability: float) -> None:
        self.ranges = ranges
        self.categorical = categorical
        self.resample_probability = resample_probability

    def explore(self, parents: list[Config], running: list[Config], t: float,
                history: list[Interval], rng: np.random.Generator
                ) -> list[tuple[Config, dict[str, Any]]]:
        """New plain values for each parent's copy (numeric and categorical mutable parameters).

        Args:
            parents: the plain configs (at ``t``) of the members being copied, one per copy.
            running: the plain configs (at ``t``) of the members that continue unchanged.
            t: the budget the new interval starts at.
            history: every finished interval so far, in (round, generation, member) order.
            rng: the generator of this explore step.
        """
        return [self._perturb(p, rng) for p in parents]

    def _perturb(self, parent: Config, rng: np.random.Generator) -> tuple[Config, dict[str, Any]]:
        new, how = perturb(parent, self.ranges, rng, self.resample_probability)
        for name, choices in self.categorical.items():
            if name in parent and rng.random() < self.resample_probability:
                new[name], how[name] = choices[int(rng.integers(len(choices)))], "resample"
        return new, {"explore": how}


def default_interval(fidelity: Fidelity) -> float:
    """``fidelity.max / 8``, rounded to a whole budget unit (at least 1) when the max is whole."""
    x = fidelity.max / 8
    return float(max(1, round(x))) if float(fidelity.max).is_integer() and x >= 1 else x


class PBT(Method):
    """Population-based training; see the module docstring.

    Args:
        space: the search space.
        fidelity: the budget range; a member trains from 0 to ``fidelity.max``.
        seed: the master seed.
        population: members per round.
        interval: the ready interval in budget units; None: :func:`default_interval`.
        quantile: the fraction of members exploited (and copied).
        resample_probability: per parameter, the chance of a fresh draw instead of a perturbation.
        mutable: the parameters that change during training; None: every ``Float`` parameter
            that decides no condition.
    """

    needs_checkpoints = True
    """The objective must resume from ``context.checkpoint_dir`` (``runner.run_study`` checks)."""

    def __init__(self, space: SearchSpace, fidelity: Fidelity, seed: int, population: int = 8,
                 interval: float | None = None, quantile: float = 0.25,
                 resample_probability: float = 0.25, mutable: list[str] | None = None,
                 name: str = "pbt") -> None:
        super().__init__(space, fidelity, seed)
        if isinstance(population, bool) or not isinstance(population, int) or population < 2:
            raise ValueError(f"population must be an integer >= 2, got {population!r}")
        if not 0 < quantile <= 0.5:
            raise ValueError(f"quantile must be in (0, 0.5], got {quantile}")
        if not 0 <= resample_probability <= 1:
            raise ValueError(f"resample_probability must be in [0, 1], got {resample_probability}")
        self.name = name
        self.population = population
        self.interval = float(interval if interval is not None else default_interval(fidelity))
        self.ends = boundaries(fidelity.max, self.interval)
        self.quantile = quantile
        self.resample_probability = resample_probability
        self.mutable = self._mutable(space, mutable)
        self.explorer = self.make_explorer()
        self.history: list[Interval] = []
        self.round, self.gen = 0, -1
        self._queue: list[_Plan] = []
        self._members: list[Config] = []  # config (with schedules) per member
        self._cids: dict[int, int] = {}  # member -> config_id in the current generation
        self._start_loss: dict[int, float | None] = {}
        self._losses: dict[int, float] = {}
        self._intervals: dict[int, Interval] = {}

    @staticmethod
    def _mutable(space: SearchSpace, mutable: list[str] | None) -> list[str]:
        parents = {c.parent for c in space.conditions}
        names = mutable if mutable is not None else [
            n for n, p in space.params.items() if isinstance(p, Float) and n not in parents]
        bad = [n for n in names if n not in space.params or n in parents]
        if bad or not names:
            raise ValueError(f"mutable parameters {bad or names} are not parameters of the space "
                             f"that decide no condition; the space has {space.names}")
        return list(names)

    def make_explorer(self) -> Explorer:
        """The explore step; PB2 overrides this."""
        ranges, cats = {}, {}
        for n in self.mutable:
            p = self.space.params[n]
            if isinstance(p, Categorical):
                cats[n] = list(p.choices)
            elif isinstance(p, (Float, Int)):
                ranges[n] = NumRange(float(p.low), float(p.high), p.log, isinstance(p, Int))
        return Explorer(ranges, cats, self.resample_probability)

    def rng(self, purpose: int) -> np.random.Generator:
        """A generator that depends only on (seed, round, generation, purpose): replay-safe."""
        return np.random.default_rng(np.random.SeedSequence(
            [self.seed, self.round, max(self.gen, 0), purpose]))

    # ----------------------------------------------------------------- the generations
    def _advance(self) -> None:
        """Plan the next generation when the current one has been handed out and has finished."""
        if self._queue or len(self._losses) < len(self._cids):
            return
        self.history += [self._intervals[i] for i in sorted(self._intervals)]  # member order
        if self.gen < 0 or self.gen == len(self.ends) - 1 or not self._any_top_alive():
            if self.gen >= 0:
                self.round += 1
            self._new_round()
        else:
            self._next_generation()

    def _any_top_alive(self) -> bool:
        """False when a member to be copied failed (too many failures): a new round starts."""
        _, top = truncation([self._losses[i] for i in range(self.population)], self.quantile)
        alive = all(math.isfinite(self._losses[i]) for i in top)
        if not alive:
            log.warning("pbt round %d: too many members failed in generation %d; new round",
                        self.round, self.gen)
        return alive

    def _new_round(self) -> None:
        self.gen = 0
        configs = self.space.sample(self.population, self.rng(0))
        self._members = [self._scheduled(c) for c in configs]
        self._queue = [_Plan(i, c, self.ends[0], 0.0, None, None, {"source": "random"})
                       for i, c in enumerate(self._members)]
        self._reset_generation()

    def _scheduled(self, config: Config) -> Config:
        return {k: (make_schedule([(0.0, v)]) if k in self.mutable else v)
                for k, v in config.items()}

    def _reset_generation(self) -> None:
        self._cids, self._losses, self._intervals = {}, {}, {}
        self._start_loss = {p.member: p.start_loss for p in self._queue}

    def _next_generation(self) -> None:
        t = self.ends[self.gen]
        losses = [self._losses[i] for i in range(self.population)]
        pairs = exploit_pairs(losses, self.rng(1), self.quantile)
        parents = [config_at(self._members[j], t) for _, j in sorted(pairs.items())]
        running = [config_at(self._members[i], t) for i in range(self.population)
                   if i not in pairs]
        explored = self.explorer.explore(parents, running, t, self.history, self.rng(2))
        self.fallbacks += sum(bool(info.get("fallback")) for _, info in explored)
        new = dict(zip(sorted(pairs), explored, strict=True))
        prev = dict(self._cids)
        self.gen += 1
        plans = []
        for i in range(self.population):
            j = pairs.get(i, i)
            cfg = dict(self._members[j])
            info: dict[str, Any] = {"source": "continue"}
            if i in new:
                values, how = new[i]
                cfg = {k: (extend(v, t, values[k]) if k in self.mutable and k in values else v)
                       for k, v in cfg.items()}
                info = {"source": "exploit", "exploited": j, **how}
            self._members[i] = cfg
            plans.append(_Plan(i, cfg, self.ends[self.gen], t, prev[j], losses[j], info))
        self._queue = plans
        self._reset_generation()

    # ----------------------------------------------------------------- Method
    def suggest(self, n: int, history: History, ask_index: int) -> list[Suggestion]:
        out: list[Suggestion] = []
        while len(out) < n:
            self._advance()
            if not self._queue:
                break  # the generation is still running: the runner waits for results
            plan = self._queue.pop(0)
            cid = history.new_config_id()
            self._cids[plan.member] = cid
            out.append(Suggestion(cid, plan.config, plan.budget, plan.resume, None, None,
                                  self._info(plan)))
        return out

    def _info(self, plan: _Plan) -> dict[str, Any]:
        return {**plan.info, "member": plan.member, "round": self.round, "generation": self.gen,
                "clone_from": plan.clone_from}

    def replay_ask(self, trial: Trial) -> None:
        self._advance()
        plan = self._queue.pop(0) if self._queue else None
        want = None if plan is None else (plan.member, self.round, self.gen, plan.budget,
                                          plan.resume, plan.clone_from, plan.config)
        got = (trial.info.get("member"), trial.info.get("round"), trial.info.get("generation"),
               trial.budget, trial.resume_budget, trial.info.get("clone_from"), trial.config)
        if plan is None or want != got:
            raise ReplayMismatch(f"stored trial {trial.trial_id} ({got[:6]}) differs from the "
                                 f"population's plan ({None if want is None else want[:6]})")
        self._cids[plan.member] = trial.config_id

    def observe(self, result: Result, loss: float) -> None:
        t = result.trial
        member = t.info.get("member")
        if not isinstance(member, int) or self._cids.get(member) != t.config_id or (
                t.info.get("round"), t.info.get("generation")) != (self.round, self.gen):
            raise ReplayMismatch(f"trial {t.trial_id} is not of the running generation "
                                 f"(round {self.round}, generation {self.gen})")
        self._losses[member] = loss
        start = self.ends[self.gen - 1] if self.gen > 0 else 0.0
        self._intervals[member] = Interval(start, t.budget, config_at(t.config, start),
                                           self._start_loss.get(member), loss)

    def options(self) -> dict[str, Any]:
        return {"population": self.population, "interval": self.interval,
                "quantile": self.quantile, "resample_probability": self.resample_probability,
                "mutable": self.mutable, "explorer": self.explorer.name}
