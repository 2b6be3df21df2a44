"""GainCurveModel: the last value plus the remaining gains of the most similar finished runs."""

from __future__ import annotations

import numpy as np
import pytest

from fidelity import GainCurveModel
from fidelity.curves.base import Curve
from fidelity.curves.gain import value_at

T = np.arange(1.0, 11.0)


def _curves(n: int, gain: float = 0.2) -> list[tuple[np.ndarray, np.ndarray]]:
    """Runs that start at ``a`` and gain ``gain`` by t = 10 (``a`` spread over [0, 1])."""
    return [(T, a + gain * (1 - 1 / T) / 0.9) for a in np.linspace(0.0, 1.0, n)]


def test_value_at_interpolates_in_log_budget() -> None:
    c = Curve.make([1.0, 100.0], [0.0, 1.0])
    assert value_at(c, 10.0) == pytest.approx(0.5)
    assert value_at(c, 1.0) == 0.0 and value_at(c, 100.0) == 1.0


def test_predictions_add_the_neighbours_gain_to_the_last_value() -> None:
    m = GainCurveModel(k=5).fit(_curves(30))
    mean, std = m.predict(T[:3], [0.5, 0.55, 0.6], 10.0)
    gain = 0.2 * ((1 - 1 / 10) - (1 - 1 / 3)) / 0.9  # every run gains the same from t = 3
    assert mean == pytest.approx(0.6 + gain) and std < 1e-6
    assert m.last_source == "gain" and m.fallbacks == 0


def test_the_stopping_probability_counts_outcomes_with_a_laplace_correction() -> None:
    m = GainCurveModel(k=20).fit(_curves(40))
    hopeless = m.prob_better(T[:3], [0.1, 0.1, 0.1], 10.0, incumbent=0.9)
    assert hopeless == pytest.approx(1 / 22)  # none of 20 neighbours' outcomes beats 0.9
    sure = m.prob_better(T[:3], [0.9, 0.95, 0.95], 10.0, incumbent=0.9)
    assert sure == pytest.approx(21 / 22)
    # a bound the metric cannot pass: an accuracy of 1 cannot be beaten
    assert m.prob_better(T[:3], [0.9, 0.95, 0.99], 10.0, incumbent=1.0, bounds=(0.0, 1.0)) == (
        pytest.approx(1 / 22))


def test_neighbours_are_the_runs_closest_in_value_at_the_same_budget() -> None:
    """Low runs gain a lot, high runs little: a low prefix borrows the low runs' gains."""
    curves = [(T, a + (1 - a) * 0.5 * (1 - 1 / T)) for a in np.linspace(0.0, 1.0, 21)]
    m = GainCurveModel(k=3).fit(curves)
    low, _ = m.predict(T[:2], [0.0, 0.25], 10.0)
    high, _ = m.predict(T[:2], [1.0, 1.0], 10.0)
    assert low - 0.25 > 0.15 and abs(high - 1.0) < 0.02


def test_too_few_finished_runs_fall_back_to_the_parametric_model_and_count_it() -> None:
    """Runs that stopped before the target are no neighbours; below ``min_curves`` the
    parametric model answers, and the fallback is counted and named."""
    short = [(T[:5], y[:5]) for _, y in _curves(10)]
    m = GainCurveModel(min_curves=5).fit(short + _curves(4))
    mean, std = m.predict(T[:3], [0.5, 0.55, 0.6], 10.0)
    assert np.isfinite(mean) and std > 0
    assert m.last_source == "parametric" and m.fallbacks == 1
    m.prob_better(T[:3], [0.5, 0.55, 0.6], 10.0, incumbent=0.9)
    assert m.fallbacks == 2
    m.fit(short + _curves(5))
    m.predict(T[:3], [0.5, 0.55, 0.6], 10.0)
    assert m.last_source == "gain" and m.fallbacks == 2


def test_samples_are_drawn_from_the_neighbours_outcomes() -> None:
    m = GainCurveModel(k=4).fit(_curves(20))
    s = m.sample(T[:3], [0.5, 0.55, 0.6], 10.0, 100, seed=1)
    assert s.shape == (100,) and np.allclose(s, s[0])  # every neighbour gains the same
    with pytest.raises(ValueError, match="k >= 1"):
        GainCurveModel(k=0)
