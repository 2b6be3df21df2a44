"""A curve model trained across a study's curves with a deep ensemble (in the spirit of LC-Net).

Klein et al. (2017) condition a Bayesian network on the config and the budget and share it across
curves. Here each training row is ``(x_config, features of a prefix cut at t_cut, t_target) ->
(y(t_target) - y_last) / s`` for every training curve cut at several points, with ``s`` the prefix's
scale (:meth:`StudyStats.row_scale`); :class:`surrogates.DeepEnsemble` maps rows to a Gaussian.
With too few curves, or a config encoding it cannot use, the model falls back to
:class:`ParametricCurveModel` and says so (``last_info``, ``n_fallbacks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fidelity.curves.base import Curve, CurveModel, FloatArray
from fidelity.curves.features import StudyStats, prefix_features
from fidelity.curves.parametric import ParametricCurveModel

if TYPE_CHECKING:  # torch and surrogates load on first fit, so ``import fidelity`` stays light
    from surrogates import DeepEnsemble


class BNNCurveModel(CurveModel):
    """Deep-ensemble curve model shared across the curves of a study.

    Args:
        seed: seeds the row subsampling and the ensemble.
        min_curves: fewer training curves than this -> parametric fallback.
        cuts_per_curve: prefixes cut from each training curve (lengths spread over 1..n-1 points).
        targets_per_cut: targets per prefix: the curve's last point plus random later points.
        max_rows: training rows are subsampled to at most this many.
        n_members: deep-ensemble size.
        max_steps: gradient steps of each ensemble fit.
    """

    def __init__(self, seed: int = 0, min_curves: int = 8, cuts_per_curve: int = 8,
                 targets_per_cut: int = 2, max_rows: int = 3000, n_members: int = 5,
                 max_steps: int = 1500) -> None:
        self.seed, self.min_curves = seed, min_curves
        self.cuts_per_curve, self.targets_per_cut = cuts_per_curve, targets_per_cut
        self.max_rows, self.n_members, self.max_steps = max_rows, n_members, max_steps
        self.fallback = ParametricCurveModel(seed=seed)
        self.ensemble: DeepEnsemble | None = None
        self.stats: StudyStats | None = None
        self.x_dim = 0
        self.n_fallbacks = 0
        self.fallback_reason = ""
        self.last_info: dict[str, Any] = {}
        self._lo = self._hi = np.zeros(0)

    def _fit(self, curves: list[Curve]) -> None:
        self.fallback.fit(curves)
        usable = [c for c in curves if c.t.size >= 2]
        self.ensemble, self.stats = None, None
        if len(usable) < self.min_curves:
            self.fallback_reason = f"{len(usable)} curves with >= 2 points < min_curves"
            return
        dims = {0 if c.x is None else c.x.size for c in usable}
        if len(dims) != 1:
            raise ValueError(f"curves mix config encodings of sizes {sorted(dims)}")
        self.x_dim, self.stats = dims.pop(), StudyStats.of(usable)
        rows, targets = self._rows(usable, np.random.default_rng(self.seed))
        self._lo, self._hi = rows.min(axis=0), rows.max(axis=0)
        import torch

        from surrogates import DeepEnsemble

        torch.set_num_threads(1)
        self.ensemble = DeepEnsemble(n_members=self.n_members, max_steps=self.max_steps,
                                     seed=self.seed).fit(
            torch.as_tensor(self._unit(rows)), torch.as_tensor(targets[:, None]))
        self.fallback_reason = ""

    def _rows(self, curves: list[Curve], rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        assert self.stats is not None
        rows, targets = [], []
        for c in curves:
            n = c.t.size
            for m in np.unique(np.linspace(1, n - 1, self.cuts_per_curve).round().astype(int)):
                later = rng.choice(np.arange(m, n - 1), size=min(self.targets_per_cut - 1, n - 1 - m),
                                   replace=False) if n - 1 > m else np.zeros(0, int)
                for j in np.concatenate([[n - 1], later]).astype(int):
                    rows.append(self._row(c.t[:m], c.y[:m], float(c.t[j]), c.x))
                    targets.append((c.y[j] - c.y[m - 1]) / self.stats.row_scale(c.y[:m]))
        idx = rng.permutation(len(rows))[: self.max_rows]
        return np.array(rows)[idx], np.clip(np.array(targets)[idx], -20.0, 20.0)

    def _row(self, t: FloatArray, y: FloatArray, t_target: float, x: FloatArray | None) -> FloatArray:
        assert self.stats is not None
        f = prefix_features(t, y, t_target, self.stats)
        return f if x is None else np.concatenate([np.clip(x, 0.0, 1.0), f])

    def _unit(self, rows: FloatArray) -> FloatArray:
        return np.clip((rows - self._lo) / np.maximum(self._hi - self._lo, 1e-12), 0.0, 1.0)

    def _reason(self, x: FloatArray | None) -> str:
        if self.ensemble is None:
            return self.fallback_reason or "not fitted"
        if (0 if x is None else x.size) != self.x_dim:
            return f"config encoding of size {0 if x is None else x.size}, trained on {self.x_dim}"
        return ""

    def predict_info(self, t: object, y: object, t_target: float,
                     x: object | None = None) -> tuple[float, float, dict[str, Any]]:
        """:meth:`predict` plus ``info``: ``{"fallback": bool, "reason": str}``."""
        mean, std = self.predict(t, y, t_target, x)
        return mean, std, dict(self.last_info)

    def _predict(self, t: FloatArray, y: FloatArray, t_target: float,
                 x: FloatArray | None) -> tuple[float, float]:
        reason = self._reason(x)
        self.last_info = {"fallback": bool(reason), "reason": reason}
        if reason:
            self.n_fallbacks += 1
            return self.fallback._predict(t, y, t_target, None)
        assert self.ensemble is not None and self.stats is not None
        import torch

        row = self._unit(self._row(t, y, t_target, x)[None, :])
        with torch.no_grad():
            post = self.ensemble.posterior(torch.as_tensor(row))
        s = self.stats.row_scale(y)
        mean = float(post.mean.reshape(-1)[0])
        std = float(post.variance.reshape(-1)[0].clamp_min(1e-12).sqrt())
        return float(y[-1] + s * mean), s * std
