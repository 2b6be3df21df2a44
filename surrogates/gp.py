"""The GP baseline: BoTorch's ``SingleTaskGP`` (or ``MixedSingleTaskGP``) behind the surrogate API."""

from __future__ import annotations

import time
import warnings
from typing import Any

import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP, SingleTaskGP
from botorch.models.model import Model
from botorch.models.transforms.outcome import Standardize
from botorch.posteriors import Posterior
from gpytorch.kernels import Kernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from surrogates._data import FitError, check_training_data, torch_threads
from surrogates._warp import OutputWarp, WarpTransform


class GP(Model):
    """Exact GP fitted by maximising the marginal likelihood (``fit_gpytorch_mll``).

    With ``cat_groups`` the model is a ``MixedSingleTaskGP`` whose categorical kernel acts on the
    one-hot columns (Hamming distance over one-hot columns = twice that over categories); otherwise
    a ``SingleTaskGP``. Outputs are standardised (``Standardize``); inputs are already in the unit
    cube. With ``train_Yvar`` the likelihood is ``FixedNoiseGaussianLikelihood`` with the given
    per-point variances plus a learned homoscedastic noise, so points with ``Yvar = 0`` are not
    treated as noise-free.

    The wrapped BoTorch model is ``self.botorch_model``; ``propose_batch`` optimises over it
    directly, so every BoTorch feature (e.g. qLogNEI's cached root) is available.

    Args:
        cat_groups: One-hot column groups of categorical parameters.
        seed: Seeds the fit's restarts (inside ``torch.random.fork_rng``; the caller's global
            RNG state is restored).
        dtype: Model dtype; inputs are cast to it.
        max_fit_seconds: Time limit of one optimiser run inside ``fit_gpytorch_mll`` (None: no
            limit). On the reference machine a fit at ``n = 2000`` took 342 s.
        num_threads: ``torch.set_num_threads`` during ``fit`` (restored afterwards).
        output_warp: Yeo-Johnson-warp the outputs before standardising
            (``surrogates._warp.WarpTransform``), as the neural ``laplace`` surrogate can: the
            fair baseline for a warped neural surrogate.
    """

    _num_outputs = 1

    def __init__(
        self,
        cat_groups: list[list[int]] | None = None,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        max_fit_seconds: float | None = None,
        num_threads: int | None = 1,
        output_warp: bool = False,
    ) -> None:
        super().__init__()
        self.output_warp = output_warp
        self.cat_dims = sorted({c for g in (cat_groups or []) for c in g})
        self.seed, self.model_dtype = seed, dtype
        self.max_fit_seconds, self.num_threads = max_fit_seconds, num_threads
        self.botorch_model: SingleTaskGP | None = None
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}

    def fit(self, train_X: Tensor, train_Y: Tensor, train_Yvar: Tensor | None = None) -> GP:
        """Fit hyperparameters by marginal likelihood and return ``self``.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d`` (cast to the model dtype).
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²).
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        t0 = time.perf_counter()
        with torch_threads(self.num_threads), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = self._build(X, Y, Yvar)
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            opt_kwargs = {"timeout_sec": self.max_fit_seconds} if self.max_fit_seconds else None
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                try:
                    fit_gpytorch_mll(mll, optimizer_kwargs=opt_kwargs)
                except (RuntimeError, ValueError, ModelFittingError) as e:
                    raise FitError(f"GP marginal-likelihood fit failed: {e}") from e
        model.eval()
        self.botorch_model = model
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        secs = time.perf_counter() - t0
        self.fit_info = {
            "seconds": secs,
            # the optimiser stops silently at its time limit; flag fits that reached it
            "timed_out": self.max_fit_seconds is not None and secs >= self.max_fit_seconds,
            "n": X.shape[0],
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        }
        return self

    def _build(self, X: Tensor, Y: Tensor, Yvar: Tensor | None) -> SingleTaskGP:
        likelihood = None
        if Yvar is not None:
            if self.output_warp:  # the same fit as the model's WarpTransform makes
                scaled = Yvar * OutputWarp().fit(Y).slope(Y) ** 2
            else:
                std = Y.std() if Y.std() > 1e-9 else torch.ones((), dtype=Y.dtype)
                scaled = Yvar / std**2
            likelihood = FixedNoiseGaussianLikelihood(
                noise=scaled.squeeze(-1), learn_additional_noise=True
            )
        transform = WarpTransform() if self.output_warp else Standardize(m=1)
        covar = self._kernel(X.shape[-1])
        if covar is not None:  # a subclass's kernel over every column
            return SingleTaskGP(X, Y, likelihood=likelihood, covar_module=covar,
                                outcome_transform=transform)
        if self.cat_dims:
            return MixedSingleTaskGP(
                X,
                Y,
                cat_dims=self.cat_dims,
                likelihood=likelihood,
                outcome_transform=transform,
            )
        return SingleTaskGP(X, Y, likelihood=likelihood, outcome_transform=transform)

    def _kernel(self, d: int) -> Kernel | None:
        """The covariance module on ``d`` input columns; None (here) keeps BoTorch's default.

        A subclass returns its own kernel (e.g. ``surrogates.nngp``); it then covers every
        column, categorical one-hot columns included.
        """
        return None

    def noise_variance(self, X: Tensor) -> Tensor:
        """The learned homoscedastic observation noise at ``X`` (known ``train_Yvar`` excluded).

        Args:
            X: ``batch x n x d`` inputs in the unit cube.

        Returns:
            ``batch x n x 1`` variances in the caller's units² (the same at every point, unless
            the outputs are warped).
        """
        if self.botorch_model is None:
            raise RuntimeError("call fit() before noise_variance()")
        lik = self.botorch_model.likelihood
        noise: Tensor = (lik.second_noise if isinstance(lik, FixedNoiseGaussianLikelihood)
                         else lik.noise)
        tf = self.botorch_model.outcome_transform
        level = float(noise.detach().reshape(-1)[0])
        if isinstance(tf, WarpTransform):  # warped units -> the caller's, at the posterior mean
            with torch.no_grad():
                mean: Tensor = self.posterior(X).mean  # type: ignore[attr-defined]
            return level / tf.warp.slope(mean) ** 2
        assert isinstance(tf, Standardize)
        stdvs: Tensor = tf.stdvs
        var = level * float(stdvs.reshape(-1)[0]) ** 2
        return torch.full((*X.shape[:-1], 1), var, dtype=self.model_dtype)

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> Posterior:
        """Posterior of the latent function at ``X`` (``batch x q x d``, cast to the model dtype).

        Returns:
            A ``GPyTorchPosterior`` with ``.mean``/``.variance`` of shape ``batch x q x 1``.
        """
        if self.botorch_model is None:
            raise RuntimeError("call fit() before posterior()")
        return self.botorch_model.posterior(
            X.to(self.model_dtype),
            output_indices=output_indices,
            observation_noise=observation_noise,
            posterior_transform=posterior_transform,
            **kwargs,
        )
