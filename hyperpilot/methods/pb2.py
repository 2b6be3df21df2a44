"""``pb2`` and ``pb2-bnn``: PBT whose explore step is a time-varying bandit (Parker-Holder et al. 2020).

Everything but the explore step is ``pbt``'s (``hyperpilot.methods.pbt``). Each finished ready
interval is an observation: the input is the interval's start as a fraction of the max budget
(time) and the mutable numeric parameters it trained with, in the unit cube (log parameters in
log space); the target is the improvement over the interval (the loss of the weights it started
from minus its loss at the end; larger is better), standardised. PB2 models time with a
time-varying kernel; here **time is one more input dimension** of the surrogate, so the model
learns how the best values drift over training.

When members are exploited, the surrogate (``gp``: BoTorch's GP, ``pb2``; the default surrogate,
our BNN, ``pb2-bnn``; any name in ``surrogates.SURROGATES`` through ``surrogate``) is fitted on all
intervals so far, and the new values are picked from a seeded Sobol pool of candidates at the new
interval's start time by greedy batch UCB (``acquisition.ucb.propose_ucb``), with the members that
continue unchanged as pending points, so the picks spread out. Categorical mutable parameters
are copied from the exploited member. Until ``min_data`` intervals with a known start loss exist
(after the second generation), the step is PBT's perturbation (``info["explore_model"] ==
"none"``); a model that fails to fit or propose also falls back to perturbation, marked
``fallback`` in the trial's info and counted in ``method.fallbacks``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, cast

import numpy as np

from fidelity.pbt import NumRange
from hyperpilot.methods.pbt import PBT, Explorer, Interval
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Fidelity

log = logging.getLogger(__name__)


def to_unit(v: float, r: NumRange) -> float:
    """``v`` in ``[0, 1]`` (log space for a log parameter)."""
    lo, hi, x = ((math.log(r.low), math.log(r.high), math.log(v)) if r.log
                 else (r.low, r.high, v))
    return float(min(max((x - lo) / (hi - lo), 0.0), 1.0))


def from_unit(u: float, r: NumRange) -> float:
    lo, hi = (math.log(r.low), math.log(r.high)) if r.log else (r.low, r.high)
    x = lo + min(max(u, 0.0), 1.0) * (hi - lo)
    v = math.exp(x) if r.log else x
    v = float(round(v)) if r.integer else v
    return float(min(max(v, r.low), r.high))


class BanditExplorer(Explorer):
    """The explore step of PB2: a surrogate on (time, hyperparameters) -> improvement, then UCB."""

    def __init__(self, ranges: dict[str, NumRange], categorical: dict[str, list[Any]],
                 resample_probability: float, max_budget: float, surrogate: str,
                 surrogate_options: dict[str, Any] | None, beta: float, n_candidates: int,
                 min_data: int) -> None:
        super().__init__(ranges, categorical, resample_probability)
        self.name = f"ucb@{surrogate}"
        self.max_budget = max_budget
        self.surrogate = surrogate
        self.surrogate_options = dict(surrogate_options or {})
        self.beta = beta
        self.n_candidates = n_candidates
        self.min_data = min_data

    def encode(self, t: float, values: Config) -> list[float]:
        """``[t / max budget, unit values...]``; an inactive (conditional) parameter is 0.5, as
        ``SearchSpace.encode`` has it."""
        return [t / self.max_budget] + [to_unit(float(values[n]), r) if n in values else 0.5
                                        for n, r in self.ranges.items()]

    def data(self, history: list[Interval]) -> tuple[np.ndarray, np.ndarray]:
        """``n x (1 + m)`` inputs and ``n`` standardised improvements of the usable intervals."""
        rows = [iv for iv in history if iv.start_loss is not None
                and math.isfinite(iv.start_loss) and math.isfinite(iv.loss)]
        X = np.array([self.encode(iv.start, iv.values) for iv in rows]).reshape(
            len(rows), 1 + len(self.ranges))
        y = np.array([iv.start_loss - iv.loss for iv in rows if iv.start_loss is not None])
        if len(y) > 1:
            y = (y - y.mean()) / (y.std() + 1e-12)
        return X, y

    def explore(self, parents: list[Config], running: list[Config], t: float,
                history: list[Interval], rng: np.random.Generator
                ) -> list[tuple[Config, dict[str, Any]]]:
        X, y = self.data(history)
        if len(y) < self.min_data or not self.ranges:
            return [(v, {**how, "explore_model": "none"})
                    for v, how in super().explore(parents, running, t, history, rng)]
        seed = int(rng.integers(2**31 - 1))
        try:
            picks = self._propose(X, y, t, running, len(parents), seed)
        except (RuntimeError, ValueError) as e:  # a fit or proposal that failed: counted
            log.warning("pb2 explore with %s failed (%s); perturbing instead", self.surrogate, e)
            return [(v, {**how, "explore_model": "none", "fallback": True,
                         "reason": f"{type(e).__name__}: {e}"[:300]})
                    for v, how in super().explore(parents, running, t, history, rng)]
        out = []
        for parent, u in zip(parents, picks, strict=True):
            new = dict(parent)
            for (n, r), x in zip(self.ranges.items(), u[1:], strict=True):
                if n in parent:
                    new[n] = from_unit(float(x), r)
            out.append((new, {"explore": "ucb", "explore_model": self.surrogate,
                              "n_data": len(y)}))
        return out

    def _propose(self, X: np.ndarray, y: np.ndarray, t: float, running: list[Config], q: int,
                 seed: int) -> list[list[float]]:
        import torch
        from botorch.models.model import Model
        from torch.quasirandom import SobolEngine

        from acquisition.ucb import propose_ucb
        from surrogates import make_surrogate

        model = make_surrogate(self.surrogate, seed=seed, options=self.surrogate_options)
        tx = torch.tensor(X, dtype=torch.float64)
        model.fit(tx, torch.tensor(y, dtype=torch.float64).reshape(-1, 1))
        pool = SobolEngine(len(self.ranges), scramble=True, seed=seed).draw(
            self.n_candidates, dtype=torch.float64)
        cand = torch.cat([torch.full((len(pool), 1), t / self.max_budget,
                                     dtype=torch.float64), pool], dim=1)
        pend = [self.encode(t, c) for c in running]
        pending = torch.tensor(pend, dtype=torch.float64) if pend else None
        idx = propose_ucb(cast(Model, model), cand, q, pending, self.beta, seed)
        return [cand[i].tolist() for i in idx]


class PB2(PBT):
    """PBT with the bandit explore step (module docstring).

    Args:
        surrogate: a key of ``surrogates.SURROGATES`` (``gp`` for ``pb2``,
            ``hyperpilot.methods.PB2_BNN_SURROGATE`` for ``pb2-bnn``).
        surrogate_options: the surrogate's keyword options.
        beta: UCB's exploration weight.
        n_candidates: Sobol candidates per explore step.
        min_data: intervals with a known start loss needed before the model is used; None: the
            population size (one generation of them).
        **pbt: ``pbt``'s options (``population``, ``interval``, ``quantile``,
            ``resample_probability``, ``mutable``).
    """

    def __init__(self, space: SearchSpace, fidelity: Fidelity, seed: int, surrogate: str = "gp",
                 surrogate_options: dict[str, Any] | None = None, beta: float = 4.0,
                 n_candidates: int = 512, min_data: int | None = None, name: str = "pb2",
                 **pbt: Any) -> None:
        self._bandit = (surrogate, surrogate_options, beta, n_candidates, min_data)
        super().__init__(space, fidelity, seed, name=name, **pbt)

    def make_explorer(self) -> Explorer:
        base = super().make_explorer()
        surrogate, options, beta, n_cand, min_data = self._bandit
        return BanditExplorer(base.ranges, base.categorical, self.resample_probability,
                              self.fidelity.max, surrogate, options, beta, n_cand,
                              min_data if min_data is not None else self.population)

    def options(self) -> dict[str, Any]:
        surrogate, options, beta, n_cand, min_data = self._bandit
        return {**super().options(), "surrogate": surrogate, "surrogate_options": options or {},
                "beta": beta, "n_candidates": n_cand, "min_data": min_data}
