"""ParametricCurveModel and the CurveModel interface: shapes, accuracy, uncertainty, robustness."""

from __future__ import annotations

import numpy as np
import pytest

from fidelity import CurveModel, ParametricCurveModel
from fidelity.curves import Curve, Mixture

T = np.arange(1.0, 53.0)


def pow3(t: np.ndarray) -> np.ndarray:
    return 0.9 - 0.5 * t ** -0.7


def exp3(t: np.ndarray) -> np.ndarray:
    return 0.9 - 0.5 * np.exp(-0.1 * t)


def test_interface_and_shapes() -> None:
    m = ParametricCurveModel(seed=0)
    assert isinstance(m, CurveModel)
    mean, std = m.predict(T[:10], pow3(T[:10]), 52.0)
    assert isinstance(mean, float) and isinstance(std, float) and std > 0
    s = m.sample(T[:10], pow3(T[:10]), 52.0, n_samples=200, seed=1)
    assert s.shape == (200,) and np.all(np.isfinite(s))
    assert isinstance(m.mixture(T[:10], pow3(T[:10]), 52.0), Mixture)


@pytest.mark.parametrize("f", [pow3, exp3])
def test_noiseless_curve_extrapolated_accurately(f) -> None:
    m = ParametricCurveModel(seed=0)
    mean, std = m.predict(T[:20], f(T[:20]), 52.0)
    assert abs(mean - f(52.0)) < 0.02
    assert abs(mean - f(52.0)) < 2 * std


def test_std_grows_with_distance_and_shrinks_with_prefix() -> None:
    m = ParametricCurveModel(seed=0)
    stds = [m.predict(T[:10], pow3(T[:10]), tt)[1] for tt in (12.0, 25.0, 52.0)]
    assert stds[0] < stds[1] < stds[2]
    rng = np.random.default_rng(0)
    y = pow3(T) + 0.01 * rng.standard_normal(T.size)
    assert m.predict(T[:30], y[:30], 52.0)[1] < m.predict(T[:6], y[:6], 52.0)[1]


def test_short_prefixes_give_last_value_with_wide_std() -> None:
    m = ParametricCurveModel(seed=0)
    for n in (1, 2, 3):
        mean, std = m.predict(T[:n], pow3(T[:n]), 52.0)
        assert np.isfinite(mean) and np.isfinite(std) and std > 0
    mean1, std1 = m.predict([1.0], [0.4], 52.0)
    assert mean1 == pytest.approx(0.4) and std1 > 0.05


@pytest.mark.parametrize("kind", ["nonmonotone", "collapse", "flat", "decreasing", "noisy"])
def test_hard_curves_give_finite_outputs(kind: str) -> None:
    rng = np.random.default_rng(3)
    t = np.linspace(1e4, 5e5, 50)
    y = {"nonmonotone": 200 * np.sin(t / 5e4) + 100,
         "collapse": np.where(t < 2e5, 500 * t / 2e5, 20.0),
         "flat": np.full(t.size, -200.0),
         "decreasing": 2.0 * np.exp(-t / 1e5),
         "noisy": -300 + 200 * rng.standard_normal(t.size)}[kind]
    m = ParametricCurveModel(seed=0)
    for n in (1, 4, 10, 30):
        mean, std = m.predict(t[:n], y[:n], 5e5)
        assert np.isfinite(mean) and np.isfinite(std) and std > 0


def test_deterministic_for_a_seed_and_fit_calibrates() -> None:
    rng = np.random.default_rng(0)
    curves = [Curve.make(T, (0.5 + 0.4 * rng.random()) - 0.4 * T ** -rng.uniform(0.3, 1.5)
                         + 0.005 * rng.standard_normal(T.size)) for _ in range(8)]
    a = ParametricCurveModel(seed=3).fit(curves)
    b = ParametricCurveModel(seed=3).fit([(c.t, c.y) for c in curves])
    assert a.fitted_std_scale is not None and a.fitted_std_scale == b.fitted_std_scale
    assert a.predict(T[:8], curves[0].y[:8], 52.0) == b.predict(T[:8], curves[0].y[:8], 52.0)
    s1 = a.sample(T[:8], curves[0].y[:8], 52.0, 50, seed=5)
    np.testing.assert_array_equal(s1, a.sample(T[:8], curves[0].y[:8], 52.0, 50, seed=5))


def test_input_validation() -> None:
    m = ParametricCurveModel()
    with pytest.raises(ValueError):
        m.predict([1.0, 2.0], [0.1], 5.0)
    with pytest.raises(ValueError):
        m.predict([2.0, 1.0], [0.1, 0.2], 5.0)
    with pytest.raises(ValueError):
        m.predict([1.0, 2.0], [0.1, 0.2], 1.5)
    with pytest.raises(ValueError):
        m.predict([1.0, 2.0], [0.1, np.nan], 5.0)
