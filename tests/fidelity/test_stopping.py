"""prob_better and CurveStopper guards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fidelity import CurveStopper, ParametricCurveModel, prob_better
from fidelity.curves.base import CurveModel


class Fixed(CurveModel):
    """Always predicts the same Gaussian (counts its calls)."""

    def __init__(self, mean: float, std: float) -> None:
        self.mean, self.std, self.calls = mean, std, 0

    def _predict(self, t, y, t_target, x):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.mean, self.std


def test_prob_better() -> None:
    assert prob_better(0.0, 1.0, 0.0) == pytest.approx(0.5)
    assert prob_better(1.0, 1.0, 0.0) == pytest.approx(0.8413447, abs=1e-6)
    assert prob_better(0.0, 1.0, 10.0) < 1e-10
    assert prob_better(1.0, 0.0, 0.5) == 1.0 and prob_better(0.0, 0.0, 0.5) == 0.0
    with pytest.raises(ValueError):
        prob_better(0.0, -1.0, 0.0)


def test_stopper_guards_and_patience() -> None:
    model = Fixed(0.0, 1.0)  # P(better than 5) ~ 3e-7
    st = CurveStopper(model, threshold=0.05, min_fraction=0.2, min_points=3, patience=2)
    t, y = np.arange(1.0, 11.0), np.zeros(10)
    assert st.should_stop(t[:5], y[:5], 100.0, incumbent=5.0)[0] is False  # below min_fraction
    assert model.calls == 0
    assert st.should_stop(t[:2], y[:2], 4.0, incumbent=5.0)[0] is False  # below min_points
    stop, p = st.should_stop(t, y, 50.0, incumbent=None)
    assert stop is False and math.isnan(p)
    stop, p = st.should_stop(t, y, 50.0, incumbent=5.0)
    assert stop is False and p < 0.05  # patience 2: first low check
    assert st.should_stop(t, y, 50.0, incumbent=5.0)[0] is True
    st.reset()
    assert st.should_stop(t, y, 50.0, incumbent=5.0)[0] is False
    assert st.should_stop(t, y, 50.0, incumbent=-5.0) == (False, pytest.approx(1.0))


def test_stopper_with_parametric_model() -> None:
    st = CurveStopper(ParametricCurveModel(seed=0), threshold=0.05, min_fraction=0.1)
    t = np.arange(1.0, 21.0)
    good, bad = 0.9 - 0.5 * t ** -0.7, 0.3 - 0.2 * t ** -0.7
    assert st.should_stop(t, bad, 52.0, incumbent=0.85)[0] is True
    st.reset()
    stop, p = st.should_stop(t, good, 52.0, incumbent=0.5)
    assert stop is False and p > 0.9


def test_stopper_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        CurveStopper(Fixed(0, 1), threshold=1.5)
    with pytest.raises(ValueError):
        CurveStopper(Fixed(0, 1), patience=0)


def test_prob_better_keeps_a_bounded_metric_in_its_bounds() -> None:
    """An accuracy cannot pass 1: an incumbent at 1 is never beaten, and the mass a Gaussian
    puts above 1 is not counted as a chance to beat 0.95."""
    assert prob_better(0.99, 0.05, 1.0, (0.0, 1.0)) == 0.0
    assert prob_better(0.5, 0.1, -0.1, (0.0, 1.0)) == 1.0
    free = prob_better(0.97, 0.05, 0.95)
    bounded = prob_better(0.97, 0.05, 0.95, (0.0, 1.0))
    assert 0 < bounded < free  # P(0.95 < Y <= 1 | Y <= 1) < P(Y > 0.95)
    assert prob_better(2.1, 0.01, 0.9, (0.0, 1.0)) == 1.0  # far above: the nearest bound
    assert prob_better(0.3, 0.2, 0.5, (-1e9, 1e9)) == pytest.approx(prob_better(0.3, 0.2, 0.5))
    with pytest.raises(ValueError, match="lo < hi"):
        prob_better(0.3, 0.2, 0.5, (1.0, 0.0))


def test_the_stopper_passes_bounds_and_the_config_to_the_model() -> None:
    class Seen(Fixed):
        def _predict(self, t, y, t_target, x):  # type: ignore[no-untyped-def]
            self.x = x
            return super()._predict(t, y, t_target, x)

    model = Seen(0.99, 0.05)
    stopper = CurveStopper(model, threshold=0.05, min_fraction=0.0, min_points=1,
                           bounds=(0.0, 1.0))
    stop, p = stopper.should_stop([1, 2], [0.5, 0.6], 10, 1.0, x=[0.25, 0.75])
    assert stop and p == 0.0 and list(model.x) == [0.25, 0.75]
