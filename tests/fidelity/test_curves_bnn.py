"""BNNCurveModel: trained across curves, explicit parametric fallback, determinism."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("surrogates.ensemble")

from fidelity import BNNCurveModel, CurveModel  # noqa: E402
from fidelity.curves import Curve  # noqa: E402

T = np.arange(1.0, 27.0)


def study(n: int, seed: int = 0) -> list[Curve]:
    """Curves whose asymptote and rate depend on a 2-d config."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.random(2)
        y = 0.5 + 0.4 * x[0] - 0.4 * T ** -(0.3 + x[1]) + 0.005 * rng.standard_normal(T.size)
        out.append(Curve.make(T, y, x))
    return out


def small(seed: int = 0) -> BNNCurveModel:
    return BNNCurveModel(seed=seed, n_members=3, max_steps=200, cuts_per_curve=5)


def test_fit_predict_shapes_and_no_fallback() -> None:
    curves = study(12)
    m = small().fit(curves)
    assert isinstance(m, CurveModel) and m.ensemble is not None
    test = study(2, seed=9)[0]
    mean, std, info = m.predict_info(T[:5], test.y[:5], 26.0, test.x)
    assert np.isfinite(mean) and std > 0 and info == {"fallback": False, "reason": ""}
    assert abs(mean - test.y[-1]) < 0.3 and m.n_fallbacks == 0


def test_fallback_is_explicit() -> None:
    m = small().fit(study(3))
    mean, std, info = m.predict_info(T[:5], study(1)[0].y[:5], 26.0, np.array([0.5, 0.5]))
    assert info["fallback"] is True and "min_curves" in info["reason"] and m.n_fallbacks == 1
    assert np.isfinite(mean) and std > 0
    m2 = small().fit(study(10))
    _, _, info = m2.predict_info(T[:5], study(1)[0].y[:5], 26.0)  # no config encoding
    assert info["fallback"] is True and m2.n_fallbacks == 1
    unfitted = small()
    assert unfitted.predict_info(T[:3], study(1)[0].y[:3], 26.0)[2]["fallback"] is True


def test_deterministic_for_a_seed() -> None:
    curves = study(10)
    y = curves[0].y[:6]
    a = small(seed=4).fit(curves).predict(T[:6], y, 26.0, curves[0].x)
    b = small(seed=4).fit(curves).predict(T[:6], y, 26.0, curves[0].x)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
