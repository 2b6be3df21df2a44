"""Switching or stacking registered surrogates by prequential predictive log-likelihood.

Which surrogate predicts the next observations best is decided inside each ``fit``, so the fit
stays a pure function of its data (a resumed study refits exactly the same model). The rows
are in arrival order; the newest block (``holdout_fraction`` of them) plays the "next"
observations. Each candidate is fitted on the rows before the block and scored by the Gaussian
log-likelihood of the block under its posterior mean and variance plus its own observation
noise (``noise_variance(X)``, if the candidate defines it) plus the block's known
``train_Yvar``: a one-step-ahead (prequential, Dawid 1984) score of one block.

``mode="stack"`` (the default) weights candidate ``c`` by ``softmax(score_c / temperature)``
(pseudo-BMA weights; Yao et al. 2018), splits ``n_samples`` posterior samples among the
candidates in proportion, refits every candidate with a share on all rows, and is an
``EnsembleModel`` whose values are the candidates' joint function samples: an ensemble
candidate's member values (repeated or thinned evenly), a GP's draws from its joint posterior
at the query points with fixed seeded base samples (so a sample is one function across the
``q`` points and the acquisition surface is deterministic). ``mode="switch"`` refits only the
best-scoring candidate. Whenever a single candidate remains (switch mode, or every sample went
to one candidate, which pseudo-BMA weights on a block of 10+ points often do), ``posterior``
is that candidate's own and ``botorch_model`` exposes it to the acquisition, so a GP keeps
every BoTorch feature (exact MC sampling, qLogNEI's cached root).

On Hartmann-6 (``paper/scripts/surrogate_quality.py``, seeds 100-102) the stack put all its
samples on ``laplace`` at n = 200 and mixed at n = 50, where it beat switching (held-out NLL
1.19 against 1.71, Spearman 0.763 against 0.747); hence the default.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch
from botorch.models.ensemble import EnsembleModel
from botorch.models.model import Model
from botorch.posteriors import Posterior
from botorch.posteriors.ensemble import EnsemblePosterior
from torch import Tensor

from surrogates._data import FitError, check_training_data

if TYPE_CHECKING:
    from surrogates.registry import SurrogateModel

Mode = Literal["switch", "stack"]


class StackedSurrogate(EnsembleModel):
    """A posterior chosen (or mixed) among registered surrogates by their held-out log score.

    Attributes:
        train_X: ``n x d`` inputs of the last fit; ``train_Y`` ``n x 1`` targets (caller's
            units); ``train_Yvar`` ``n x 1`` known noise variances or None.
        fit_info: ``seconds``, ``n``, ``warnings``, ``mode``, ``n_train`` and ``n_holdout``
            (rows fitted and scored), ``scores`` (per candidate: summed log-likelihood of the
            block in nats, ``-inf`` if its fit failed, NaN when too few rows to score),
            ``weights``, ``chosen`` (the largest weight),
            ``counts`` (stack: samples per candidate) and ``candidate_fit_info``.

    Args:
        candidates: Registered surrogate names (``surrogates.SURROGATES``).
        candidate_options: Keyword options per candidate name.
        mode: ``"stack"`` (the weighted mixture) or ``"switch"`` (the best candidate alone).
        holdout_fraction: Share of the newest rows scored (at least ``min_holdout``).
        min_holdout: Fewest rows scored.
        min_train: Fewest rows a scored candidate is fitted on; with fewer than
            ``min_train + min_holdout`` rows there is no score and the first candidate is used.
        temperature: Divides the scores inside the softmax (stack); 1 gives pseudo-BMA.
        n_samples: Posterior values of the stacked mixture.
        gp_samples: Joint draws taken from a candidate whose posterior is not an ensemble.
        seed: Seed of every candidate and of the GP draws' base samples.
        cat_groups: One-hot column groups, passed to every candidate's factory.
        dtype: Model dtype; inputs are cast to it.
    """

    _num_outputs = 1

    def __init__(
        self,
        candidates: Sequence[str] = ("laplace", "ensemble", "gp"),
        candidate_options: Mapping[str, Mapping[str, Any]] | None = None,
        mode: Mode = "stack",
        holdout_fraction: float = 0.2,
        min_holdout: int = 2,
        min_train: int = 4,
        temperature: float = 1.0,
        n_samples: int = 64,
        gp_samples: int = 64,
        seed: int = 0,
        cat_groups: list[list[int]] | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if not candidates or mode not in ("switch", "stack"):
            raise ValueError(f"need candidates and mode 'switch' or 'stack', got "
                             f"{list(candidates)} and {mode!r}")
        if not 0.0 < holdout_fraction < 1.0 or temperature <= 0 or gp_samples % 2:
            raise ValueError("need 0 < holdout_fraction < 1, temperature > 0, even gp_samples")
        self.candidates, self.mode = list(candidates), mode
        self.candidate_options = {k: dict(v) for k, v in (candidate_options or {}).items()}
        self.holdout_fraction, self.min_holdout = holdout_fraction, min_holdout
        self.min_train, self.temperature = min_train, temperature
        self.n_samples, self.gp_samples = n_samples, gp_samples
        self.seed, self.cat_groups, self.model_dtype = seed, cat_groups, dtype
        self.models: list[SurrogateModel] = []  # fitted on all rows: the chosen / weighted
        self._index: list[Tensor] = []  # per model in ``models``: its values in the mixture
        self.train_X = torch.empty(0, 0, dtype=dtype)
        self.train_Y = torch.empty(0, 1, dtype=dtype)
        self.train_Yvar: Tensor | None = None
        self.fit_info: dict[str, Any] = {}
        for name in self.candidates:  # unknown names raise UnknownSurrogate here, not in fit
            if isinstance(self._build(name), StackedSurrogate):
                raise ValueError(f"candidate {name!r} is itself a stacked surrogate")

    # ------------------------------------------------------------------ public API
    def fit(self, train_X: Tensor, train_Y: Tensor,
            train_Yvar: Tensor | None = None) -> StackedSurrogate:
        """Score every candidate on the newest rows, then refit the chosen one(s) on all rows.

        Args:
            train_X: ``n x d`` inputs in ``[0, 1]^d``, rows in arrival order.
            train_Y: ``n x 1`` targets, larger is better.
            train_Yvar: Optional ``n x 1`` known noise variances (units of Y²), passed to the
                candidates and added to the predictive variance of the scored rows.

        Raises:
            FitError: when no candidate could be fitted.
        """
        X, Y, Yvar = check_training_data(train_X, train_Y, train_Yvar, self.model_dtype)
        t0 = time.perf_counter()
        warnings: list[str] = []
        n = X.shape[0]
        n_hold = max(self.min_holdout, math.ceil(self.holdout_fraction * n))
        m = n - n_hold
        if m < self.min_train:
            warnings.append(f"{n} rows are too few to score candidates; using "
                            f"{self.candidates[0]!r}")
            scores = torch.full((len(self.candidates),), math.nan, dtype=torch.float64)
            ranking = torch.full_like(scores, -math.inf)
            ranking[0], n_hold = 0.0, 0
        else:
            scores = ranking = self._score(X, Y, Yvar, m, warnings)
        weights, names = self._fit_chosen(X, Y, Yvar, ranking, warnings)
        self.train_X, self.train_Y, self.train_Yvar = X, Y, Yvar
        self.fit_info = {
            "seconds": time.perf_counter() - t0, "n": n, "warnings": warnings,
            "mode": self.mode, "n_train": n - n_hold, "n_holdout": n_hold,
            "scores": dict(zip(self.candidates, scores.tolist(), strict=True)),
            "weights": dict(zip(self.candidates, weights.tolist(), strict=True)),
            "chosen": self.candidates[int(weights.argmax())],
            "counts": ({k: idx.numel() for k, idx in zip(names, self._index, strict=True)}
                       if self.mode == "stack" else {}),
            "candidate_fit_info": {k: dict(mod.fit_info)
                                   for k, mod in zip(names, self.models, strict=True)},
        }
        self.eval()
        return self

    @property
    def delegates(self) -> bool:
        """Whether the posterior is one candidate's own: in switch mode, and in stack mode when
        every sample went to one candidate (a mixture of one is that model)."""
        return len(self.models) == 1

    @property
    def botorch_model(self) -> Model | None:
        """What the acquisition optimises when one candidate is the posterior (the candidate,
        or its own ``botorch_model``); None for a mixture, which is the model itself."""
        if not self.delegates:
            return None
        inner = getattr(self.models[0], "botorch_model", None)
        chosen = inner if isinstance(inner, Model) else self.models[0]
        assert isinstance(chosen, Model)
        return chosen

    def posterior(  # type: ignore[override]  # switch mode returns the chosen's posterior
        self, X: Tensor, output_indices: list[int] | None = None,
        posterior_transform: Any = None, **kwargs: Any,
    ) -> Posterior:
        """The posterior at ``X``: the chosen candidate's own, or the stacked mixture's.

        Args:
            X: ``batch x q x d`` inputs in the unit cube (cast to the model dtype).

        Returns:
            A posterior with ``.mean``/``.variance`` of shape ``batch x q x 1``.
        """
        if not len(self.models):
            raise RuntimeError("call fit() before posterior()")
        X = X.to(self.model_dtype)
        if self.delegates:
            chosen: Any = self.models[0]
            return chosen.posterior(X, output_indices=output_indices,
                                    posterior_transform=posterior_transform, **kwargs)
        return super().posterior(X, output_indices, posterior_transform, **kwargs)

    def forward(self, X: Tensor) -> Tensor:
        """The mixture's values at ``X`` (``batch x n x d``): ``batch x n_samples x n x 1``."""
        if not len(self.models):
            raise RuntimeError("call fit() before posterior()")
        X = X.to(self.model_dtype)
        parts = [_values(mod, X, self.gp_samples, self.seed).index_select(-3, idx)
                 for mod, idx in zip(self.models, self._index, strict=True)]
        return torch.cat(parts, dim=-3)

    # ------------------------------------------------------------------ internals
    def _build(self, name: str) -> SurrogateModel:
        """An unfitted candidate (the registry imports this module, hence the late import)."""
        from surrogates.registry import make_surrogate

        return make_surrogate(name, seed=self.seed, cat_groups=self.cat_groups,
                              options=self.candidate_options.get(name, {}))

    def _score(self, X: Tensor, Y: Tensor, Yvar: Tensor | None, m: int,
               warnings: list[str]) -> Tensor:
        """Summed log-likelihood of the rows from ``m`` on, per candidate fitted before them."""
        scores = []
        Xb, Yb = X[m:], Y[m:]
        Vb = None if Yvar is None else Yvar[m:]
        for name in self.candidates:
            try:
                model = self._build(name).fit(X[:m], Y[:m], None if Yvar is None else Yvar[:m])
                ll = float(predictive_log_lik(model, Xb, Yb, Vb).sum())
            except (RuntimeError, ValueError) as e:  # FitError, linalg errors
                warnings.append(f"candidate {name!r} failed on the first {m} rows: {e}")
                ll = -math.inf
            scores.append(ll if math.isfinite(ll) else -math.inf)
        out = torch.tensor(scores, dtype=torch.float64)
        if not torch.isfinite(out).any():
            raise FitError(f"no candidate could be scored: {'; '.join(warnings)}")
        return out

    def _weights(self, scores: Tensor) -> Tensor:
        if self.mode == "switch":
            return torch.nn.functional.one_hot(scores.argmax(), scores.numel()).to(scores)
        return torch.softmax(scores / self.temperature, dim=0)

    def _fit_chosen(self, X: Tensor, Y: Tensor, Yvar: Tensor | None, scores: Tensor,
                    warnings: list[str]) -> tuple[Tensor, list[str]]:
        """Fit the candidates with a share on all rows into ``models``; a failed one drops out
        and the weights are recomputed among the rest. Returns the weights and the names of
        the fitted candidates (in ``models`` order)."""
        scores = scores.clone()
        while torch.isfinite(scores).any():
            weights = self._weights(scores)
            counts = apportion(weights, self.n_samples if self.mode == "stack" else 1)
            fitted: dict[str, tuple[SurrogateModel, Tensor]] = {}
            for k, name in enumerate(self.candidates):
                if counts[k] == 0:
                    continue
                try:
                    model = self._build(name).fit(X, Y, Yvar)
                except (RuntimeError, ValueError) as e:
                    warnings.append(f"candidate {name!r} failed on all {X.shape[0]} rows: {e}")
                    scores[k] = -math.inf
                    break
                size = _n_values(model, X[:1], self.gp_samples)
                idx = spread(int(counts[k]), size) if self.mode == "stack" else torch.arange(size)
                fitted[name] = (model, idx)
            else:
                self.models = [mod for mod, _ in fitted.values()]
                self._index = [idx for _, idx in fitted.values()]
                return weights, list(fitted)
        raise FitError(f"no candidate could be fitted: {'; '.join(warnings)}")


def apportion(weights: Tensor, total: int) -> Tensor:
    """Split ``total`` mixture values among candidates in proportion to ``weights``.

    The floors of ``total * weights`` are topped up by the largest remainders (ties: the
    earlier candidate), Hamilton's rule; the counts sum to ``total``.
    """
    due = weights.to(torch.float64) * total
    counts = due.floor().long()
    rest = total - int(counts.sum())
    if rest > 0:
        order = torch.sort(due - counts, descending=True, stable=True).indices
        counts[order[:rest]] += 1
    return counts


def spread(count: int, size: int) -> Tensor:
    """``count`` indices into ``size`` values, evenly spaced: each value ``count // size`` or
    one more times, and for ``count < size`` a spread-out subset (so an ensemble's ``mu - sd``
    and ``mu + sd`` halves stay balanced)."""
    return ((torch.arange(count, dtype=torch.float64) + 0.5) * size / count).floor().long()


def predictive_log_lik(model: SurrogateModel, X: Tensor, Y: Tensor, Yvar: Tensor | None) -> Tensor:
    """Gaussian log-likelihood of each ``(X, Y)`` row under ``model``'s predictive distribution.

    Args:
        model: A fitted surrogate; its ``noise_variance(X)``, if defined, joins the variance.
        X: ``b x d`` inputs; Y: ``b x 1`` targets (caller's units).
        Yvar: Optional ``b x 1`` known noise variances, added to the variance.

    Returns:
        ``b`` log densities (nats).
    """
    with torch.no_grad():
        post: Any = model.posterior(X)
        mean, var = post.mean.reshape(-1), post.variance.reshape(-1)
        noise = getattr(model, "noise_variance", None)
        if callable(noise):
            var = var + noise(X).reshape(-1)
        if Yvar is not None:
            var = var + Yvar.reshape(-1)
        var = var.clamp_min(1e-12)
        y = Y.reshape(-1).to(mean)
        return -0.5 * (torch.log(2 * math.pi * var) + (y - mean) ** 2 / var)


def _n_values(model: SurrogateModel, X: Tensor, gp_samples: int) -> int:
    post = model.posterior(X)
    return post.ensemble_size if isinstance(post, EnsemblePosterior) else gp_samples


def _values(model: SurrogateModel, X: Tensor, gp_samples: int, seed: int) -> Tensor:
    """``batch x s x n x 1`` joint function samples of ``model`` at ``X`` (``batch x n x d``):
    an ensemble's member values, or ``gp_samples`` antithetic draws of any other posterior
    from base samples seeded by ``seed`` and ``n`` (the same for every batch element)."""
    post = model.posterior(X)
    if isinstance(post, EnsemblePosterior):
        return post.values
    shape = post.base_sample_shape  # batch x n, possibly with trailing singleton dims
    n, lead = X.shape[-2], X.dim() - 2
    gen = torch.Generator().manual_seed(seed * 7919 + n)
    z = torch.randn(gp_samples // 2, n, generator=gen, dtype=X.dtype)
    z = torch.cat([z, -z]).reshape(gp_samples, *[1] * lead, n, *[1] * (len(shape) - lead - 1))
    base = z.expand(gp_samples, *shape)
    return post.rsample_from_base_samples(torch.Size([gp_samples]), base).movedim(0, -3)
