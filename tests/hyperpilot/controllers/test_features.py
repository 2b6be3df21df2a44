"""State features stay in [-1, 1] and are never NaN, on ordinary and adversarial inputs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperpilot.controllers.base import HParams
from hyperpilot.controllers.features import N_FEATURES, LRWDFeatures, log_ratio
from hyperpilot.controllers.ppo_controller import observe
from hyperpilot.controllers.tasks import Interval

anyfloat = st.floats(allow_nan=True, allow_infinity=True)
ADVERSARIAL = [0.0, -0.0, 1e-300, 5e-324, 1e-30, 1e30, 1e300, math.inf, -math.inf, math.nan, -1.0]


def _bounded(f: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(f)) and np.all(np.abs(f) <= 1.0))


def test_ordinary_run_features_in_bounds() -> None:
    first = Interval(0, 2.3, math.nan, 2.3, 0.1)
    feats = LRWDFeatures(lr0=0.05, wd_max=5e-3, n_intervals=20, first=first)
    out = [feats(Interval(15 * t, 2.3 / t, 1.0 + t, 2.0 / t, 0.5), 0.05 * 2 ** (t % 3), 1e-3, t)
           for t in range(1, 20)]
    assert all(f.shape == (N_FEATURES,) and f.dtype == np.float32 and _bounded(f) for f in out)
    assert out[0][7] == -0.9 and out[-1][7] > 0.8  # progress runs from -1 towards 1


def test_adversarial_inputs_stay_in_bounds() -> None:
    for v in ADVERSARIAL:
        feats = LRWDFeatures(0.05, 5e-3, 20, Interval(0, v, math.nan, v, math.nan))
        for w in ADVERSARIAL:
            f = feats(Interval(15, w, w, w, math.nan), lr=w, wd=w, t=1)
            assert _bounded(f), (v, w, f)
            assert _bounded(feats(Interval(30, v, 0.0, w, 0.0), lr=1e-30, wd=-1.0, t=2)), (v, w)


def test_huge_loss_saturates_and_tiny_lr_is_minus_one() -> None:
    feats = LRWDFeatures(0.05, 5e-3, 20, Interval(0, 1.0, math.nan, 1.0, 0.0))
    f = feats(Interval(15, 1e30, 1e30, 1e30, 0.0), lr=1e-12, wd=0.0, t=1)
    assert f[0] > 0.999 and f[1] == -1.0 and f[3] == -1.0


@settings(max_examples=300, deadline=None)
@given(l0=anyfloat, tr=anyfloat, g=anyfloat, vl=anyfloat, lr=anyfloat, wd=anyfloat,
       t=st.integers(-5, 50))
def test_features_bounded_for_any_floats(l0: float, tr: float, g: float, vl: float, lr: float,
                                         wd: float, t: int) -> None:
    feats = LRWDFeatures(0.05, 5e-3, 20, Interval(0, l0, math.nan, l0, math.nan))
    assert _bounded(feats(Interval(15, tr, g, vl, math.nan), lr, wd, t))
    assert _bounded(feats(Interval(30, vl, tr, g, math.nan), wd, lr, t + 1))
    obs = observe(HParams(lr=lr if math.isfinite(lr) else 1.0, weight_decay=0.0, batch_size=8,
                          dropout=0.5), 0.05, l0, tr, Interval(15, tr, g, vl, math.nan), t, 20)
    assert _bounded(obs)


def test_log_ratio_is_finite() -> None:
    for a in ADVERSARIAL:
        for b in ADVERSARIAL:
            assert math.isfinite(log_ratio(a, b))
