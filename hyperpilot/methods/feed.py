"""Feed the surrogate with partial runs: each config's curve extrapolated to the training budget.

Under BOHB's data rule the surrogate sees only results at one budget (the highest with enough
points), so everything learnt from configs that stopped lower is thrown away. With
``feed_curves=True`` every config that has a learning curve below that budget, and no result at
it, enters the training set with the curve model's predicted value at the budget as its target
and the prediction's variance as its known noise (``train_Yvar``), so the surrogate trusts it
less than a real observation.

:class:`CurveFeeder` is the proposer's side: it cuts the history where the fit's last
observation arrived (so the fit depends only on its key: resume-exact), predicts with the
parametric curve model (cached per curve prefix) and appends the rows to the fit's inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from hyperpilot.space import Config
from hyperpilot.trial import Result, Status

Encode = Callable[[list[tuple[int, Config]], bool], Tensor | None]


@dataclass(frozen=True)
class FedRow:
    """One predicted training row: ``y`` and ``var`` in "larger is better" units."""

    config_id: int
    config: Config
    y: float
    var: float


def merged_curves(results: Sequence[Result]) -> dict[int, list[tuple[float, float]]]:
    """Each config's learning curve, merged over its trials (promotions continue a curve).

    Returns:
        ``config_id -> [(budget, value), ...]`` sorted by budget, the later trial winning where
        two report the same budget; values in the study's direction.
    """
    points: dict[int, dict[float, float]] = {}
    for r in results:
        if r.status == Status.FAILED or r.trial.seed_index:  # a config's first seed: its curve
            continue
        pts = points.setdefault(r.trial.config_id, {})
        for b, v in r.curve:
            pts[float(b)] = float(v)
        if r.value is not None and r.status == Status.COMPLETE:
            pts.setdefault(float(r.trial.budget), float(r.value))
    return {cid: sorted(p.items()) for cid, p in points.items()}


def fed_rows(results: Sequence[Result], loss: Callable[[Result], float], level: float,
             predict: Callable[[list[float], list[float], float], tuple[float, float]],
             min_points: int = 3) -> list[FedRow]:
    """Predicted rows for configs whose curves stop below ``level``.

    Args:
        results: the finished trials the model may use (tell order).
        loss: the study's "smaller is better" view of a result.
        level: the training budget.
        predict: ``(budgets, values larger-is-better, target budget) -> (mean, std)``.
        min_points: the shortest curve that is extrapolated.

    Returns:
        One row per config with at least ``min_points`` curve points, all below ``level``,
        ordered by config id.
    """
    sign = _larger_is_better_sign(results, loss)
    configs = {r.trial.config_id: r.trial.config for r in results}
    rows = []
    for cid, curve in sorted(merged_curves(results).items()):
        if len(curve) < min_points or curve[-1][0] >= level:
            continue
        t = [b for b, _ in curve]
        y = [sign * v for _, v in curve]
        mean, std = predict(t, y, level)
        rows.append(FedRow(cid, configs[cid], float(mean), float(std) ** 2))
    return rows


def _larger_is_better_sign(results: Sequence[Result], loss: Callable[[Result], float]) -> float:
    """+1 when the study maximises (loss = -value), -1 when it minimises."""
    for r in results:
        if r.status == Status.COMPLETE and r.value:
            return -1.0 if loss(r) == r.value else 1.0
    return -1.0


class CurveFeeder:
    """Adds fed rows to a fit's training data, with the curve model's predictions cached.

    Args:
        seed: seeds the parametric curve model.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._predictions: dict[tuple[int, int, float], tuple[float, float]] = {}

    def predict(self, t: list[float], y: list[float], target: float) -> tuple[float, float]:
        """The parametric curve model's ``(mean, std)`` at ``target``, cached per curve prefix."""
        from fidelity import ParametricCurveModel

        key = (hash((tuple(t), tuple(y))), len(t), target)
        if key not in self._predictions:
            self._predictions[key] = ParametricCurveModel(seed=self.seed).predict(t, y, target)
        return self._predictions[key]

    def fit_inputs(self, X: Tensor, Y: Tensor, m: int, level: float, results: Sequence[Result],
                   loss: Callable[[Result], float],
                   encode: Encode) -> tuple[Tensor, Tensor, Tensor, float]:
        """The first ``m`` observations plus the predicted rows of configs whose curves, as
        they stood when the ``m``-th observation at ``level`` arrived, stop below ``level``.

        Args:
            X: ``n x d`` inputs of the observations at ``level``; Y: ``n x 1`` targets.
            m: the number of observations in the fit.
            level: the training budget.
            results: the study's results in tell order.
            loss: the study's "smaller is better" view of a result.
            encode: the proposer's encoder (``(config_id, config)`` pairs -> ``k x d``).

        Returns:
            ``X``, ``Y``, ``Yvar`` (zeros for observations, the predictions' variances for fed
            rows) and the best observed value, the acquisition's ``best_f``.
        """
        best = float(Y[:m].max())
        seen, cut = 0, len(results)
        for i, r in enumerate(results):
            if r.status == Status.COMPLETE and r.value is not None and r.trial.budget == level:
                seen += 1
                if seen == m:
                    cut = i + 1
                    break
        rows = fed_rows(results[:cut], loss, level, self.predict)
        if not rows:
            return X[:m].clone(), Y[:m].clone(), torch.zeros(m, 1, dtype=X.dtype), best
        Xf = encode([(r.config_id, r.config) for r in rows], False)
        assert Xf is not None
        Yf = torch.tensor([[r.y] for r in rows], dtype=X.dtype)
        var = torch.tensor([[r.var] for r in rows], dtype=X.dtype)
        return (torch.cat([X[:m], Xf]), torch.cat([Y[:m], Yf]),
                torch.cat([torch.zeros(m, 1, dtype=X.dtype), var]), best)
