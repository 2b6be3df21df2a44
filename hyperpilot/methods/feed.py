"""Feed the surrogate with partial runs: each config's curve extrapolated to the training budget.

Under BOHB's data rule the surrogate sees only results at one budget (the highest with enough
points), so everything learnt from configs that stopped lower is thrown away. With
``feed_curves=True`` every config that has a learning curve below that budget, and no result at
it, enters the training set with the curve model's predicted value at the budget as its target
and the prediction's variance as its known noise (``train_Yvar``), so the surrogate trusts it
less than a real observation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hyperpilot.space import Config
from hyperpilot.trial import Result, Status


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
        if r.status == Status.FAILED:
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
