"""What the surrogate is trained on: the two data rules, and config encodings cached per id.

* ``"fidelity"`` (default): every observation, with the budget as an extra input column
  (log-scaled to ``[0, 1]`` by :func:`budget_column`); the acquisition is optimised with that
  column fixed at the max budget;
* ``"bohb"``: the highest budget with at least ``min_points`` observations (Falkner et al. 2018);
* ``"curves"``: like ``"fidelity"``, but the model is fitted on every point of every learning
  curve, ``(config, budget, value)``, not one point per trial (DyHPO and ifBO model whole curves
  on LCBench). The refit schedule still counts trials; the curve points of the trials told up to
  the fit's last observation are expanded at fit time (:meth:`TrainingData.curve_points`), so a
  fit never sees a point told after it, and a resumed study refits the same models.

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

DataRule = Literal["bohb", "fidelity", "curves"]
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
        if rule not in ("bohb", "fidelity", "curves"):
            raise ValueError(f"data_rule must be 'bohb', 'fidelity' or 'curves', got {rule!r}")
        self.rule, self.min_budget, self.min_points = rule, min_budget, min_points
        self.encoder = encoder

    def assemble(self, done: list[Result], loss: Callable[[Result], float],
                 max_budget: float) -> tuple[Tensor, Tensor, float] | None:
        """``(X n x d', Y n x 1, training budget)``, or None with too few observations.

        Args:
            done: completed results with a value, in tell order.
            loss: the study's "smaller is better" view of a result.
            max_budget: the max budget (``d' = d + 1`` under ``"fidelity"`` and ``"curves"``,
                whose rows here are one per trial, as the refit schedule counts them).
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

    def curve_points(self, results: list[Result], value_loss: Callable[[float], float],
                     max_budget: float) -> tuple[Tensor, Tensor]:
        """Every learning-curve point of ``results`` as ``(X n x (d + 1), Y n x 1)``.

        A trial contributes each ``(budget, value)`` of its curve and its final value at its
        budget (one row per budget; a promoted trial's curve continues where its previous rung
        stopped, so a config's rows together are its whole curve). Points below the min budget
        (outside the fidelity column's range) and non-finite values are left out. Complete and
        stopped trials count; failed ones do not.

        Args:
            results: finished trials in tell order (the caller cuts them at the fit's point).
            value_loss: a value in the user's direction -> "smaller is better".
            max_budget: the max budget (top of the fidelity column).
        """
        ids: list[tuple[int, Config]] = []
        z: list[float] = []
        y: list[float] = []
        for r in results:
            if r.value is None or r.status.value not in ("complete", "stopped"):
                continue
            points = dict(r.curve)
            if r.status.value == "complete":
                points[r.trial.budget] = r.value
            for b, v in sorted(points.items()):
                if b < self.min_budget or not math.isfinite(v):
                    continue
                ids.append((r.trial.config_id, r.trial.config))
                z.append(budget_column(b, self.min_budget, max_budget))
                y.append(-value_loss(v))
        X = self.encoder.encode(ids, False)
        if X is None:
            return torch.empty(0, self.encoder.space.dim + 1, dtype=torch.float64), \
                torch.empty(0, 1, dtype=torch.float64)
        X = torch.cat([X, torch.tensor(z, dtype=torch.float64)[:, None]], dim=1)
        return X, torch.tensor(y, dtype=torch.float64)[:, None]
