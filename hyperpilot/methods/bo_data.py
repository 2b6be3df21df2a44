"""What the surrogate is trained on: the two data rules, and config encodings cached per id.

* ``"fidelity"`` (default): every observation, with the budget as an extra input column
  (log-scaled to ``[0, 1]`` by :func:`budget_column`); the acquisition is optimised with that
  column fixed at the max budget;
* ``"bohb"``: the highest budget with at least ``min_points`` observations (Falkner et al. 2018).

Targets are in BoTorch's "larger is better": ``Y = -loss``.

The default data rule was chosen by measurement (``runs/bench/fid20``, README "Multi-fidelity
defaults"): at 20 FFE on Hartmann-6, the bandit and two LCBench development tasks the fidelity
input gave lower regret than the BOHB rule in most paired runs, for the deep ensemble and for
the GP alike. In full-fidelity mode every observation has the max budget, the two rules
coincide, and the methods use ``"bohb"`` (no constant input column).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Result

DataRule = Literal["bohb", "fidelity"]
RoundFn = Callable[[Tensor], Tensor]


def budget_column(budget: float, min_budget: float, max_budget: float) -> float:
    """The fidelity input of a budget: ``log(b / min) / log(max / min)`` in ``[0, 1]``."""
    if max_budget <= min_budget:
        return 1.0
    return math.log(budget / min_budget) / math.log(max_budget / min_budget)


class Encoder:
    """Unit-cube encodings of configs, cached per config id (a config never changes).

    An ask thus costs O(n) row copies rather than O(n) encodings.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._rows: dict[int, np.ndarray] = {}  # config_id -> encoding

    def encode(self, configs: list[tuple[int, Config]], fid: bool) -> Tensor | None:
        """``n x d`` (``+1`` fidelity column of ones with ``fid``) encodings, float64, or None.

        Args:
            configs: ``(config_id, config)`` pairs.
            fid: append the fidelity column at the max budget.
        """
        if not configs:
            return None
        new = [(cid, c) for cid, c in configs if cid not in self._rows]
        if new:
            for (cid, _), row in zip(new, self.space.encode([c for _, c in new]), strict=True):
                self._rows[cid] = row
        X = torch.as_tensor(np.stack([self._rows[cid] for cid, _ in configs]),
                            dtype=torch.float64)
        if fid:
            X = torch.cat([X, torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
        return X

    def round_fn(self, fid: bool) -> RoundFn:
        """Snap ``... x d`` (``+1`` with ``fid``) points to valid configs' encodings.

        The fidelity column, if any, is kept as it is.
        """
        space, d = self.space, self.space.dim

        def snap(X: Tensor) -> Tensor:
            flat = X.reshape(-1, X.shape[-1]).detach().cpu().numpy()
            snapped = space.canonical(flat[:, :d])
            out = torch.as_tensor(snapped, dtype=X.dtype).reshape(*X.shape[:-1], d)
            if fid:
                out = torch.cat([out, X[..., d:]], dim=-1)
            return out

        return snap


class TrainingData:
    """Assembles the surrogate's training set under one data rule.

    Args:
        rule: ``"fidelity"`` or ``"bohb"`` (see the module docstring).
        min_budget: the smallest budget (the fidelity column's log scale).
        min_points: the fewest observations a model is fitted on (per budget with ``"bohb"``).
        encoder: the shared encoding cache.
    """

    def __init__(self, rule: DataRule, min_budget: float, min_points: int,
                 encoder: Encoder) -> None:
        if rule not in ("bohb", "fidelity"):
            raise ValueError(f"data_rule must be 'bohb' or 'fidelity', got {rule!r}")
        self.rule, self.min_budget, self.min_points = rule, min_budget, min_points
        self.encoder = encoder

    def assemble(self, done: list[Result], loss: Callable[[Result], float],
                 max_budget: float) -> tuple[Tensor, Tensor, float] | None:
        """``(X n x d', Y n x 1, training budget)``, or None with too few observations.

        Args:
            done: completed results with a value, in tell order.
            loss: the study's "smaller is better" view of a result.
            max_budget: the max budget (``d' = d + 1`` under ``"fidelity"``).
        """
        if self.rule == "bohb":
            counts: dict[float, int] = {}
            for r in done:
                counts[r.trial.budget] = counts.get(r.trial.budget, 0) + 1
            ok = [b for b, n in counts.items() if n >= self.min_points]
            if not ok:
                return None
            level = max(ok)
            rows = [r for r in done if r.trial.budget == level]
            X = self.encoder.encode([(r.trial.config_id, r.trial.config) for r in rows], False)
        else:
            if len(done) < self.min_points:
                return None
            level, rows = max_budget, done
            X = self.encoder.encode([(r.trial.config_id, r.trial.config) for r in rows], False)
            assert X is not None
            z = torch.tensor([budget_column(r.trial.budget, self.min_budget, max_budget)
                              for r in rows], dtype=torch.float64)
            X = torch.cat([X, z[:, None]], dim=1)
        assert X is not None
        Y = torch.tensor([-loss(r) for r in rows], dtype=torch.float64)[:, None]
        return X, Y, level
