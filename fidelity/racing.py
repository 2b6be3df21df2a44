"""Racing at the top rung: SMAC's intensification on shared seeds, as bookkeeping for Hyperband.

A config that reaches the max budget on its first seed is a *challenger*. It earns more seeds
only while its mean over the seeds it shares with the incumbent beats or ties the incumbent's
mean over the same seeds (Hutter et al. 2011, "Sequential Model-Based Optimization for General
Algorithm Configuration", procedure ``Intensify``; SMAC3's ``Intensifier``):

* the first config to finish the top rung is the incumbent;
* each arriving challenger first gives the incumbent one more seed, up to ``max_seeds``;
* a challenger worse than the incumbent on the shared seeds is rejected (after its first seed
  if it is worse there); one that beats or ties gets more seeds in doubling steps (1, 2, 4, ...)
  up to the incumbent's number of seeds, never past ``max_seeds``;
* a challenger that has run every seed the incumbent has and is strictly better on them
  becomes the incumbent; a tie there leaves the incumbent in place.

Seed ``k`` means the study's ``k``-th tuning seed for every config (common random numbers), so
every comparison is paired. Losses are "smaller is better"; a failure (``inf``) loses every
comparison. The racer is deterministic: the same calls give the same jobs, so a study rebuilds
it by replaying its stored events, and a race job is never started twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

RaceCompare = Literal["paired", "both"]


@dataclass(frozen=True)
class RaceRule:
    """How a race is run.

    Attributes:
        max_seeds: the most seeds any config runs at the max budget (1 switches racing off).
        compare: ``"paired"`` rejects a challenger whose mean on the shared seeds is worse than
            the incumbent's on the same seeds (SMAC); ``"both"`` rejects it only when it is also
            worse than the incumbent's mean over all its seeds, so an incumbent that was lucky
            on its first seed cannot keep rejecting every challenger on that seed alone.
    """

    max_seeds: int = 3
    compare: RaceCompare = "paired"

    def __post_init__(self) -> None:
        if isinstance(self.max_seeds, bool) or not isinstance(self.max_seeds, int) or not (
                1 <= self.max_seeds <= 1000):
            raise ValueError(f"racing max_seeds must be an integer in [1, 1000], got {self.max_seeds!r}")
        if self.compare not in ("paired", "both"):
            raise ValueError(f"racing compare must be 'paired' or 'both', got {self.compare!r}")


@dataclass(frozen=True)
class RaceJob:
    """Run config ``config_id`` at the max budget on its ``seed_index``-th seed (from scratch)."""

    config_id: int
    seed_index: int
    role: Literal["incumbent", "challenger"]


@dataclass
class Racer:
    """The state of the race (see the module docstring).

    Call :meth:`next_job` / :meth:`start` to run the race's jobs (they come before Hyperband's),
    and :meth:`report` with every result at the max budget, first seeds included.
    """

    rule: RaceRule = field(default_factory=RaceRule)
    incumbent: int | None = None
    losses: dict[int, dict[int, float]] = field(default_factory=dict)  # config -> seed -> loss
    queue: list[RaceJob] = field(default_factory=list)
    running: set[tuple[int, int]] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)
    retired: set[int] = field(default_factory=set)  # raced to the end, or dethroned
    waiting: set[int] = field(default_factory=set)  # challengers waiting on the incumbent's seeds

    def next_job(self) -> RaceJob | None:
        """The next race job, or None (then Hyperband schedules)."""
        return self.queue[0] if self.queue else None

    def start(self, config_id: int, seed_index: int) -> RaceJob:
        """Record that the next job, which must be ``(config_id, seed_index)``, now runs.

        Raises:
            ValueError: when it is not the next job (a replayed study that differs).
        """
        job = self.next_job()
        if job is None or (job.config_id, job.seed_index) != (config_id, seed_index):
            raise ValueError(f"race job ({config_id}, seed {seed_index}) is not the next one "
                             f"({job})")
        self.queue.pop(0)
        self.running.add((config_id, seed_index))
        return job

    def n_seeds(self, config_id: int) -> int:
        """Seeds the config has finished at the max budget."""
        return len(self.losses.get(config_id, {}))

    def planned(self, config_id: int) -> int:
        """Seeds finished, running or queued."""
        queued = sum(j.config_id == config_id for j in self.queue)
        running = sum(c == config_id for c, _ in self.running)
        return self.n_seeds(config_id) + queued + running

    def report(self, config_id: int, seed_index: int, loss: float) -> None:
        """Take a result at the max budget (``loss``: smaller is better, ``inf`` if it failed)."""
        self.losses.setdefault(config_id, {})[seed_index] = float(loss)
        self.running.discard((config_id, seed_index))
        if seed_index == 0:
            if not math.isfinite(loss):
                self.rejected.add(config_id)
            elif self.incumbent is None:
                self.incumbent = config_id
            elif config_id != self.incumbent:
                self._add_seed(self.incumbent, "incumbent")  # a challenger arrives
                self._decide(config_id)
        elif config_id == self.incumbent:
            for c in sorted(self.waiting):
                self._decide(c)
        else:
            self._decide(config_id)

    def _add_seed(self, config_id: int, role: Literal["incumbent", "challenger"]) -> None:
        k = self.planned(config_id)
        if k < self.rule.max_seeds:
            self.queue.append(RaceJob(config_id, k, role))

    def _compare(self, c: int, inc: int) -> tuple[float, float]:
        """``(challenger's mean, incumbent's mean)`` on their shared seeds, under the rule."""
        mine, theirs = self.losses[c], self.losses[inc]
        shared = sorted(set(mine) & set(theirs))
        mc = sum(mine[k] for k in shared) / len(shared)
        mi = sum(theirs[k] for k in shared) / len(shared)
        if self.rule.compare == "both":
            mi = max(mi, sum(theirs.values()) / len(theirs))
        return mc, mi

    def _decide(self, c: int) -> None:
        inc = self.incumbent
        if inc is None or c == inc or c in self.rejected or c in self.retired:
            return
        if self.planned(c) > self.n_seeds(c):  # its own seeds are still running
            return
        self.waiting.discard(c)
        mc, mi = self._compare(c, inc)
        if not math.isfinite(mc) or mc > mi:
            self.rejected.add(c)
            return
        n, target = self.n_seeds(c), min(self.planned(inc), self.rule.max_seeds)
        if n < target:
            for _ in range(min(2 * n, target) - n):
                self._add_seed(c, "challenger")
            return
        if self.planned(inc) > self.n_seeds(inc):  # compare once the incumbent's seeds are in
            self.waiting.add(c)
            return
        if mc < mi:
            self._crown(c)
        else:
            self.retired.add(c)

    def _crown(self, c: int) -> None:
        old = self.incumbent
        assert old is not None
        self.incumbent = c
        self.retired.add(old)
        self.queue = [j for j in self.queue if j.config_id != old]
        for w in sorted(self.waiting):
            self._decide(w)
