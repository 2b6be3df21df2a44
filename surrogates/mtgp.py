"""The GP given the related tasks: an intrinsic-coregionalisation multi-task GP (Swersky et al. 2013).

``transfer`` learns a feature block on related tasks' observations; the fair GP counterpart sees
the same observations. BoTorch's ``MultiTaskGP`` models every task with one input kernel
``k(x, x')`` (BoTorch 0.18's default: RBF, ARD, its dimension-scaled lengthscale prior) times a
learned positive task covariance ``B[t, t']`` (rank ``rank``, full by default), with a noise per
task, so what the related tasks share enters through ``B``: a target task correlated with them
borrows their shape.

An exact multi-task GP costs ``O(N^3)`` in all tasks' points together, so each related task
contributes at most ``related_points`` observations (a seeded uniform sample, 50 by default),
and all tasks together at most ``max_points`` (300): the related tasks fill what the target's own
points leave, at least ``min_related_points`` (10) each. ``transfer``'s linear-cost pretraining
reads all of them (400 per task). The cap is what makes the baseline affordable in a study of
~200 fits: a fit at ``N = 462`` took 8.8 s at 200 iterations (0.14 s per likelihood
evaluation, one thread, a loaded 2-core Xeon), ``gp``'s at ``n = 200`` about a second. Every
task's targets are standardised on their own (tasks differ in level and scale); the posterior is
the target task's, in the caller's units, joint over any ``q`` points.

Measured (2026-12-06, README, "Learning from related tasks"): held out at n = 20 it ranks
configurations as well as ``transfer`` (Spearman 0.78 against 0.72, the GP's 0.56), but in the
study, on 10 held-out LCBench tasks x 5 seeds at 30 FFE, ``transfer`` beat it 30 / 19 / 1 at 10 FFE
and 33 / 17 at 30 FFE; it beat ``gp-bo`` 31 / 17 / 2 at 10 FFE and lost 23 / 27 at 30.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models import MultiTaskGP
from botorch.models.model import Model
from botorch.posteriors import GPyTorchPosterior, Posterior
from gpytorch.distributions import MultivariateNormal
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from surrogates._data import FitError, check_training_data, standardise_targets, torch_threads


class MultiTaskGPSurrogate(Model):
    """``MultiTaskGP`` over the related tasks and the target, read out at the target task.

    Args:
        related: ``(X_t, y_t)`` per related task: ``n_t x d`` unit-cube inputs in the study's
            encoding, ``n_t`` targets (larger is better). At least one task.
        related_points: Most observations kept per related task (seeded uniform sample).
        max_points: Cap on all tasks' observations together (the target's ``n`` first).
        min_related_points: Fewest observations kept per related task, whatever ``n``.
        rank: Rank of the task covariance (None: full, one per task).
        seed: Seeds the subsample and the fit.
        dtype: Model dtype.
        max_iter: L-BFGS-B iterations of the fit. Unbounded, the task covariance's flat
            directions kept scipy going for 5,267 iterations (228 s at ``N = 462``, one thread,
            a loaded 2-core Xeon); 200 took 8.8 s.
        max_fit_seconds: Time limit of one optimiser run (None: none).
        num_threads: ``torch.set_num_threads`` during ``fit``.

    ``train_Yvar`` is accepted and stored but not used: the surrogate is registered without
    ``accepts_yvar``, so the proposer never feeds it extrapolated curves.
    """

    _num_outputs = 1

    def __init__(self, related: list[tuple[np.ndarray, np.ndarray]], related_points: int = 50,
                 max_points: int = 300, min_related_points: int = 10, rank: int | None = None,
                 seed: int = 0, dtype: torch.dtype = torch.float64, max_iter: int = 200, max_fit_seconds: float | None = 60.0,
                 num_threads: int | None = 1) -> None:
        super().__init__()
        if not related:
            raise ValueError("MultiTaskGPSurrogate needs at least one related task")
        if not 2 <= min_related_points <= related_points:
            raise ValueError(f"need 2 <= min_related_points <= related_points, got "
                             f"{min_related_points} and {related_points}")
        self.related, self.related_points, self.rank = related, related_points, rank
        self.max_points, self.min_related_points = max_points, min_related_points
        self.seed, self.model_dtype = seed, dtype
        self.max_iter, self.max_fit_seconds, self.num_threads = max_iter, max_fit_seconds, num_threads
        self.botorch_model: MultiTaskGP | None = None
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.y_mean, self.y_std = 0.0, 1.0
        self.fit_info: dict[str, Any] = {}

    def per_task(self, n: int) -> int:
        """Observations kept per related task when the target has ``n``."""
        share = (self.max_points - n) // len(self.related)
        return max(self.min_related_points, min(self.related_points, share))

    def _related_rows(self, d: int, n: int) -> tuple[Tensor, Tensor]:
        """The related tasks' kept rows: ``N x (d + 1)`` (task index last) and ``N x 1``."""
        rng = np.random.default_rng(self.seed)
        k = self.per_task(n)
        xs, ys = [], []
        for t, (Xa, ya) in enumerate(self.related):
            Xt = torch.as_tensor(np.asarray(Xa, dtype=float), dtype=self.model_dtype)
            if Xt.dim() != 2 or Xt.shape[1] != d:
                raise ValueError(f"related task {t} has inputs of shape {tuple(Xt.shape)}; "
                                 f"the target's have {d} columns")
            y, _, _ = standardise_targets(torch.as_tensor(np.asarray(ya, dtype=float),
                                                           dtype=self.model_dtype).reshape(-1, 1))
            keep = np.sort(rng.permutation(len(y))[:k])
            idx = torch.as_tensor(keep)
            xs.append(torch.cat([Xt[idx], torch.full((len(keep), 1), float(t),
                                                     dtype=self.model_dtype)], dim=-1))
            ys.append(y[idx].unsqueeze(-1))
        return torch.cat(xs), torch.cat(ys)

    def fit(self, train_X: Tensor, train_Y: Tensor,
            train_Yvar: Tensor | None = None) -> MultiTaskGPSurrogate:
        """Fit by the multi-task marginal likelihood; return ``self``.

        Args:
            train_X: ``n x d`` target-task inputs in ``[0, 1]^d``.
            train_Y: ``n x 1`` target-task values, larger is better.
            train_Yvar: Stored, not used (see the class docstring).
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        t0 = time.perf_counter()
        target = len(self.related)
        Xr, yr = self._related_rows(X.shape[1], X.shape[0])
        y, self.y_mean, self.y_std = standardise_targets(Y)
        X_all = torch.cat([Xr, torch.cat([X, torch.full((len(X), 1), float(target),
                                                        dtype=self.model_dtype)], dim=-1)])
        Y_all = torch.cat([yr, y.unsqueeze(-1)])
        with torch_threads(self.num_threads), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt_kwargs: dict[str, Any] = {"options": {"maxiter": self.max_iter}}
            if self.max_fit_seconds:
                opt_kwargs["timeout_sec"] = self.max_fit_seconds
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)  # the task covariance's initial factor is random
                model = MultiTaskGP(X_all, Y_all, task_feature=-1, output_tasks=[target],
                                    rank=self.rank, outcome_transform=None)
                mll = ExactMarginalLogLikelihood(model.likelihood, model)
                try:
                    fit_gpytorch_mll(mll, optimizer_kwargs=opt_kwargs)
                except (RuntimeError, ValueError, ModelFittingError) as e:
                    raise FitError(f"multi-task GP fit failed: {e}") from e
        model.eval()
        self.botorch_model = model
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        secs = time.perf_counter() - t0
        with torch.no_grad():
            B = model.covar_module.kernels[1].covar_matrix.to_dense()
            sd = B.diagonal().sqrt()
            corr = (B[target] / (sd * sd[target]))[:target]
        self.fit_info = {
            "seconds": secs, "n": X.shape[0], "n_related": int(Xr.shape[0]),
            "timed_out": self.max_fit_seconds is not None and secs >= self.max_fit_seconds,
            "task_correlation_max": float(corr.max()), "task_correlation_mean": float(corr.mean()),
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        }
        return self

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(self, X: Tensor, output_indices: list[int] | None = None,
                  observation_noise: bool | Tensor = False, posterior_transform: Any = None,
                  **kwargs: Any) -> Posterior:
        """The target task's joint posterior at ``X`` (``batch x q x d``, no task column): a
        ``GPyTorchPosterior`` with ``.mean``/``.variance`` ``batch x q x 1``, caller's units."""
        if self.botorch_model is None:
            raise RuntimeError("call fit() before posterior()")
        post = self.botorch_model.posterior(X.to(self.model_dtype),
                                            observation_noise=observation_noise)
        assert isinstance(post, GPyTorchPosterior)  # no outcome transform: not a transformed one
        mvn = post.distribution
        s = self.y_std
        return GPyTorchPosterior(MultivariateNormal(mvn.mean * s + self.y_mean,
                                                    mvn.lazy_covariance_matrix * s**2))
