"""Hyperband arithmetic (one pure function) and the bracket bookkeeping (one small class).

Li et al. (2017), "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization",
Algorithm 1 and Table 1; the asynchronous promotion rule is ASHA's (Li et al. 2020).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Rung = tuple[int, float]
"""``(n_configs, budget)`` of one rung of a bracket."""


def hyperband_brackets(min_budget: float, max_budget: float, eta: float = 3) -> list[list[Rung]]:
    """The Hyperband schedule: brackets from most to least aggressive.

    Args:
        min_budget: smallest budget, ``> 0``.
        max_budget: full budget ``R``, ``>= min_budget``.
        eta: reduction factor, ``> 1``.

    Returns:
        ``s_max + 1`` brackets; bracket ``s`` (listed first for the largest ``s``) is a list of
        ``s + 1`` rungs ``(n_i, r_i)`` with ``n_i = floor(n * eta^-i)`` and ``r_i = R * eta^(i - s)``,
        where ``n = ceil((s_max + 1) / (s + 1) * eta^s)``. For ``R = 81, eta = 3, min = 1`` the
        first bracket is ``[(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]`` (Table 1 of Li et al.).
    """
    if not (min_budget > 0 and max_budget >= min_budget):
        raise ValueError(f"need 0 < min_budget <= max_budget, got {min_budget}, {max_budget}")
    if not eta > 1:
        raise ValueError(f"need eta > 1, got {eta}")
    s_max = int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))
    brackets = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s - 1e-9))
        brackets.append([(int(math.floor(n * eta ** (-i) + 1e-9)), float(max_budget * eta ** (i - s)))
                         for i in range(s + 1)])
    return brackets


@dataclass(frozen=True)
class Job:
    """What a free worker should run next.

    Attributes:
        bracket_id: the bracket instance (0, 1, 2, ... in the order they were opened).
        s: which bracket of the schedule (index into ``hyperband_brackets``).
        rung: rung index inside the bracket.
        budget: the budget to train to.
        config_id: None for a new config; the promoted config's id otherwise.
        resume_budget: budget the config already reached (0 for a new config).
    """

    bracket_id: int
    s: int
    rung: int
    budget: float
    config_id: int | None = None
    resume_budget: float = 0.0

    @property
    def is_promotion(self) -> bool:
        return self.config_id is not None


@dataclass
class _Bracket:
    bracket_id: int
    s: int
    rungs: list[Rung]
    members: list[list[int]] = field(default_factory=list)  # config ids per rung
    results: list[dict[int, float]] = field(default_factory=list)  # config id -> loss per rung

    def __post_init__(self) -> None:
        self.members = [[] for _ in self.rungs]
        self.results = [{} for _ in self.rungs]

    def rung_full(self, i: int) -> bool:
        return len(self.members[i]) >= self.rungs[i][0]

    def rung_done(self, i: int) -> bool:
        return self.rung_full(i) and len(self.results[i]) >= len(self.members[i])

    def promotable(self, i: int, sync: bool) -> int | None:
        """The best config of rung ``i`` that may go up to ``i + 1`` now, or None."""
        if i + 1 >= len(self.rungs) or self.rung_full(i + 1):
            return None
        if sync and not self.rung_done(i):
            return None
        done = sorted(self.results[i].items(), key=lambda kv: (kv[1], kv[0]))
        k = self.rungs[i + 1][0] if sync else int(len(done) // _eta_of(self.rungs))
        k = min(k, self.rungs[i + 1][0])
        above = set(self.members[i + 1])
        for cid, loss in done[:k]:
            if cid not in above and math.isfinite(loss):
                return cid
        return None


def _eta_of(rungs: list[Rung]) -> float:
    if len(rungs) < 2:
        return math.inf
    return round(rungs[1][1] / rungs[0][1], 9)


class HyperbandScheduler:
    """Bracket bookkeeping for synchronous or asynchronous Hyperband.

    A free worker calls :meth:`next_job` and gets, in order: (1) a promotion, if a rung of an open
    bracket has a config among its top ``1/eta`` (asynchronous) or the rung is complete and the
    config is in its top ``n_{i+1}`` (synchronous); (2) otherwise a new config in the current
    bracket, opening the next bracket of the schedule when the current one's first rung is full.
    Losses are "smaller is better"; failures are reported as ``inf`` and are never promoted.

    The scheduler is deterministic: the same sequence of calls gives the same jobs, so a study
    can rebuild it by replaying its stored events.
    """

    def __init__(self, min_budget: float, max_budget: float, eta: float = 3,
                 mode: Literal["async", "sync"] = "async") -> None:
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
        self.schedule = hyperband_brackets(min_budget, max_budget, eta)
        self.mode = mode
        self.brackets: list[_Bracket] = []
        self._where: dict[int, tuple[int, int]] = {}  # config id -> (bracket_id, highest rung)

    def _open(self) -> _Bracket:
        bid = len(self.brackets)
        s_idx = bid % len(self.schedule)
        b = _Bracket(bid, s_idx, self.schedule[s_idx])
        self.brackets.append(b)
        return b

    def next_job(self) -> Job:
        """The next job for a free worker (see the class docstring for the order)."""
        sync = self.mode == "sync"
        for b in self.brackets:
            for i in range(len(b.rungs) - 2, -1, -1):
                cid = b.promotable(i, sync)
                if cid is not None:
                    return Job(b.bracket_id, b.s, i + 1, b.rungs[i + 1][1], cid, b.rungs[i][1])
        b = self.brackets[-1] if self.brackets else self._open()
        if b.rung_full(0):
            b = self._open()
        return Job(b.bracket_id, b.s, 0, b.rungs[0][1])

    def start(self, job: Job, config_id: int) -> None:
        """Record that ``config_id`` now runs ``job`` (for a promotion, ``job.config_id``)."""
        b = self.brackets[job.bracket_id]
        if job.is_promotion and job.config_id != config_id:
            raise ValueError("a promotion must keep its config_id")
        b.members[job.rung].append(config_id)
        self._where[config_id] = (job.bracket_id, job.rung)

    def report(self, config_id: int, rung: int, loss: float) -> None:
        """Record the loss (smaller is better; ``inf`` for a failure) of ``config_id`` at ``rung``."""
        bid, _ = self._where[config_id]
        self.brackets[bid].results[rung][config_id] = float(loss)

    @property
    def max_budget(self) -> float:
        return self.schedule[0][-1][1]
