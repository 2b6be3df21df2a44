"""Optuna's median rule as a :class:`Pruner`: stop a run whose best value so far is worse than
the median of the other runs' values at the same budget (``optuna.pruners.MedianPruner``).

A peer's value at a budget is its last value at or before it (curves of one study share their
budgets when the objective reports on a fixed schedule, as Optuna's steps do). In a HyperPilot
study the peers are the runs that had finished when this one started.
"""

from __future__ import annotations

import statistics

from hyperpilot.pruners.base import CurveView, Decision, Peer, Pruner


class MedianRule(Pruner):
    """Stop when the run's best value is worse than the peers' median at this budget.

    Args:
        n_startup_trials: judge only once this many peers have values at the budget.
        n_warmup_steps: never judge at budgets below this.
        interval_steps: judge at every ``interval_steps``-th point of the run.
    """

    name = "median"
    needs_peers = True

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: float = 0,
                 interval_steps: int = 1) -> None:
        if n_startup_trials < 0 or n_warmup_steps < 0 or interval_steps < 1:
            raise ValueError("need n_startup_trials >= 0, n_warmup_steps >= 0, interval_steps >= 1")
        self.n_startup_trials, self.n_warmup_steps = n_startup_trials, n_warmup_steps
        self.interval_steps = interval_steps

    def _decide(self, view: CurveView) -> Decision | None:
        b = view.budget
        if b < self.n_warmup_steps or (len(view.curve) - 1) % self.interval_steps:
            return None
        values = [v for p in view.peers if (v := value_at(p, b)) is not None]
        if len(values) < max(self.n_startup_trials, 1):
            return None
        med = statistics.median(values)
        s = view.sign
        best = max(s * v for _, v in view.curve) * s  # the run's best so far, user's direction
        worse = s * best < s * med
        word = "worse" if worse else "not worse"
        return Decision("stop" if worse else "continue",
                        f"best so far {best:.6g} is {word} than the median {med:.6g} of "
                        f"{len(values)} runs at budget {b:g}", self.name, b)


def value_at(peer: Peer, budget: float) -> float | None:
    """The peer's last value at a budget ``<= budget`` (None: it has none there)."""
    out = None
    for b, v in peer.curve:
        if b > budget * (1 + 1e-9):
            break
        out = v
    return out
