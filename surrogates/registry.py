"""Surrogates by name: a plain dict registry, so a new surrogate is one module plus one line.

::

    register_surrogate("my-bnn", SurrogateSpec(make_my_bnn, accepts_yvar=True, neural=True))
    model = make_surrogate("my-bnn", seed=0, cat_groups=None, options={}).fit(X, Y)

A factory takes ``(seed, cat_groups, options)`` and returns an unfitted model whose
``fit(train_X, train_Y, train_Yvar=None)`` returns the fitted model, which then exposes
``posterior``, ``train_X``, ``train_Y`` and ``fit_info`` (see :class:`SurrogateModel`). Every
registered name is run through ``tests/surrogates/test_conformance.py`` and can be named by any
model-based HyperPilot method (``hyperpilot@my-bnn`` in the bench). Factories must be
module-level functions, not lambdas: a background fitting process receives the spec pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botorch.posteriors import Posterior
from torch import Tensor

from surrogates.capped import CappedGP
from surrogates.dropout import MCDropout
from surrogates.ensemble import DeepEnsemble
from surrogates.ensemble_rp import RandomizedPriorEnsemble
from surrogates.gp import GP
from surrogates.laplace import LinearizedLaplace
from surrogates.mtgp import MultiTaskGPSurrogate
from surrogates.nngp import NNGP
from surrogates.rff import RFFNetwork
from surrogates.rff_bayes import RFFHyperMixture
from surrogates.stacked import StackedSurrogate
from surrogates.tfp_bnn import TFPBNN
from surrogates.transfer import SharedFeatures, TransferRFF, cached_shared_features
from surrogates.transfer_gp import TransferGP
from surrogates.vbll import VBLL


class SurrogateModel(Protocol):
    """What a proposer relies on: a BoTorch-style model with its training data and diagnostics.

    ``train_X`` is ``n x d`` in the unit cube, ``train_Y`` ``n x 1`` (larger is better) in the
    caller's units; ``posterior(X)`` takes ``batch x q x d`` and has ``.mean``/``.variance`` of
    shape ``batch x q x 1``.
    """

    train_X: Tensor
    train_Y: Tensor
    fit_info: dict[str, Any]

    def fit(self, train_X: Tensor, train_Y: Tensor,
            train_Yvar: Tensor | None = None) -> SurrogateModel: ...

    def posterior(self, X: Tensor) -> Posterior: ...


SurrogateFactory = Callable[[int, list[list[int]] | None, dict[str, Any]], SurrogateModel]


@dataclass(frozen=True)
class SurrogateSpec:
    """A registered surrogate: how to build it and what a proposer may do with it.

    Attributes:
        factory: ``(seed, cat_groups, options) -> unfitted model``; ``cat_groups`` are the
            one-hot column groups of categorical parameters (or None), ``options`` keyword
            options of the model (e.g. a network's width).
        accepts_yvar: ``fit`` uses ``train_Yvar`` as known noise in a way the proposer relies
            on, so partial curves' extrapolations may join the data (``:feed``).
        neural: A neural-network surrogate (informational: shown by ``bench list``).
        description: One line for listings.
        related: The model learns from related tasks: its factory takes an option
            ``related``, a list of ``(X, y)`` arrays (one per task, in the study's encoding,
            larger is better), which the proposer supplies (``hyperpilot.related``).
    """

    factory: SurrogateFactory
    accepts_yvar: bool = False
    neural: bool = False
    description: str = ""
    related: bool = False


class UnknownSurrogate(KeyError, ValueError):
    """A surrogate name that is not in ``SURROGATES`` (the message lists the known ones).

    Also a ``ValueError``, which is what an unknown ``surrogate=`` argument raised before the
    registry existed.
    """

    def __str__(self) -> str:
        return str(self.args[0])


def _ensemble(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> DeepEnsemble:
    return DeepEnsemble(seed=seed, **options)


def _ensemble_rp(seed: int, cat_groups: list[list[int]] | None,
                 options: dict[str, Any]) -> RandomizedPriorEnsemble:
    return RandomizedPriorEnsemble(seed=seed, **options)


def _mcdropout(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> MCDropout:
    return MCDropout(seed=seed, **options)


def _gp(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> GP:
    return GP(cat_groups=cat_groups or None, seed=seed, **options)


def _gp_warp(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> GP:
    return GP(cat_groups=cat_groups or None, seed=seed, **{"output_warp": True, **options})


def _laplace_warp(seed: int, cat_groups: list[list[int]] | None,
                  options: dict[str, Any]) -> LinearizedLaplace:
    return LinearizedLaplace(seed=seed, **{"output_warp": True, **options})


def _laplace_lbfgs(seed: int, cat_groups: list[list[int]] | None,
                   options: dict[str, Any]) -> LinearizedLaplace:
    return LinearizedLaplace(seed=seed, **{"optimizer": "lbfgs", **options})


def _nngp(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> NNGP:
    return NNGP(cat_groups=cat_groups or None, seed=seed, **options)


def _nngp_warp(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> NNGP:
    return NNGP(cat_groups=cat_groups or None, seed=seed, **{"output_warp": True, **options})


def _gp_capped(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> CappedGP:
    return CappedGP(cat_groups=cat_groups or None, seed=seed, **options)


def _laplace(seed: int, cat_groups: list[list[int]] | None,
             options: dict[str, Any]) -> LinearizedLaplace:
    return LinearizedLaplace(seed=seed, **options)


def _vbll(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> VBLL:
    return VBLL(seed=seed, **options)


def _tfp_bnn(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> TFPBNN:
    return TFPBNN(seed=seed, **options)


def _rff(seed: int, cat_groups: list[list[int]] | None, options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **options)


def _rff_warp(seed: int, cat_groups: list[list[int]] | None,
              options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **{"output_warp": True, **options})


RFF_WIDE: dict[str, Any] = {"n_features": 2048, "fit_features": 512, "posterior_points": 256}
"""``rff-wide``: the evidence on 512 units and at most 256 points (``rff``'s fit cost), the
posterior on 2048 units and the same kind of 256-point subset, which the finite network does not
starve (``paper/scripts/rff_starvation.py``: near the best point ``rff`` keeps 0.37x of the GP's
posterior variance at n = 1000; this one is at least the GP's, having dropped points)."""


def _rff_wide(seed: int, cat_groups: list[list[int]] | None,
              options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **{**RFF_WIDE, **options})


def _rff_kev(seed: int, cat_groups: list[list[int]] | None,
             options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **{**RFF_WIDE, "evidence": "kernel", **options})


RFF_PATH: dict[str, Any] = {**RFF_WIDE, "evidence": "kernel", "posterior_points": 1024,
                            "path_samples": 128}
"""``rff-path``: ``rff-kev``'s network and hyperparameters, conditioned on up to 1,024 points
(not 256) and read as 128 sampled networks: a query costs ``128 m`` rather than ``256 m``, and
on noisy data the larger subset keeps the posterior mean near the best points closer to the
exact GP's (``paper/scripts/subset_bias.py``: at noise sd 0.3, RMSE 0.083 against 0.127). In the 30-FFE tournament it lost to ``rff-kev`` at 10 FFE
(13 / 28, where both condition on every point: the sampled posterior makes EI noisier), hence
``rff-hybrid``: the exact posterior up to 256 points, this above."""


def _rff_path(seed: int, cat_groups: list[list[int]] | None,
              options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **{**RFF_PATH, **options})


def _rff_hybrid(seed: int, cat_groups: list[list[int]] | None,
                options: dict[str, Any]) -> RFFNetwork:
    return RFFNetwork(seed=seed, **{**RFF_PATH, "path_above": 256, **options})


RFF_BAYES: dict[str, Any] = {**RFF_WIDE, "evidence": "kernel", "n_features": 1024,
                             "components": 8}
"""``rff-bayes``: ``rff-kev``'s MAP, then 8 networks of 1,024 units at hyperparameters drawn from
its Laplace posterior (``surrogates.rff_bayes``); q-LogEI with its gradient took 2.4x and 5.6x
``rff-kev``'s time at n = 20 and 100 (d = 6, one run)."""


def _rff_bayes(seed: int, cat_groups: list[list[int]] | None,
               options: dict[str, Any]) -> RFFHyperMixture:
    return RFFHyperMixture(seed=seed, **{**RFF_BAYES, **options})


def _shared_features(options: dict[str, Any]) -> SharedFeatures | None:
    """Pops ``related`` and ``feature_seed`` from ``options``: the related tasks' feature map
    (pretrained once per process and data, ``cached_shared_features``), or None without them."""
    related = options.pop("related", None) or []
    feature_seed = int(options.pop("feature_seed", 0))
    return cached_shared_features(related, seed=feature_seed) if related else None


def _transfer(seed: int, cat_groups: list[list[int]] | None,
              options: dict[str, Any]) -> TransferRFF | RFFNetwork:
    """``TransferRFF`` on the related tasks' features; with no related task, the transfer block
    is empty and the model is ``rff-kev`` itself (same network, same fit), so a method that
    names ``transfer`` behaves as the default wherever nothing related exists."""
    feats = _shared_features(options)
    if feats is None:
        return _rff_kev(seed, cat_groups, options)
    return TransferRFF(feats, seed=seed, **options)


TRANSFER_C1024: dict[str, Any] = {"condition_points": 1024}
"""``transfer-c1024``: ``transfer`` with its read-out conditioned on up to 1,024 points (the
evidence still on 256). Held out at n = 1,000 (``paper/scripts/transfer_check.py``, five
development tasks) it ranks configurations almost as the exact GP does (Spearman 0.877 against
0.892; ``transfer`` 0.818); identical to ``transfer`` up to 256 points."""


def _transfer_c1024(seed: int, cat_groups: list[list[int]] | None,
                    options: dict[str, Any]) -> TransferRFF | RFFNetwork:
    if not options.get("related"):
        return _transfer(seed, cat_groups, options)
    return _transfer(seed, cat_groups, {**TRANSFER_C1024, **options})


def _transfer_gp(seed: int, cat_groups: list[list[int]] | None,
                 options: dict[str, Any]) -> TransferGP | GP:
    """``transfer``'s kernel in an exact GP (``surrogates.transfer_gp``); with no related task,
    ``gp`` (the feature block would be empty)."""
    feats = _shared_features(options)
    if feats is None:
        return _gp(seed, cat_groups, options)
    return TransferGP(feats, seed=seed, **options)


def _mtgp(seed: int, cat_groups: list[list[int]] | None,
          options: dict[str, Any]) -> MultiTaskGPSurrogate | GP:
    """The GP given ``transfer``'s related tasks (``surrogates.mtgp``); with none, ``gp``."""
    related = options.pop("related", None) or []
    if not related:
        return _gp(seed, cat_groups, options)
    return MultiTaskGPSurrogate(related, seed=seed, **options)


def _stacked(seed: int, cat_groups: list[list[int]] | None,
             options: dict[str, Any]) -> StackedSurrogate:
    return StackedSurrogate(seed=seed, cat_groups=cat_groups or None, **options)


SURROGATES: dict[str, SurrogateSpec] = {
    "ensemble": SurrogateSpec(_ensemble, accepts_yvar=True, neural=True,
                              description="deep ensemble of heteroscedastic MLPs"),
    "ensemble-rp": SurrogateSpec(_ensemble_rp, accepts_yvar=True, neural=True,
                                 description="deep ensemble with randomized prior functions"),
    "mcdropout": SurrogateSpec(_mcdropout, accepts_yvar=True, neural=True,
                               description="MC dropout MLP with frozen masks"),
    "laplace": SurrogateSpec(_laplace, accepts_yvar=True, neural=True,
                             description="linearized-Laplace MLP (empirical-NTK GP, evidence-tuned)"),
    "vbll": SurrogateSpec(_vbll, accepts_yvar=True, neural=True,
                          description="MLP with a variational Bayesian last layer (joint samples)"),
    "tfp-bnn": SurrogateSpec(_tfp_bnn, accepts_yvar=True, neural=True,
                             description="HMC-sampled Bayesian MLP in TFP/JAX (needs the tfp extra)"),
    "stacked": SurrogateSpec(_stacked, description="laplace, ensemble and gp mixed by held-out "
                                                   "(prequential) log-likelihood weights"),
    "laplace-warp": SurrogateSpec(_laplace_warp, accepts_yvar=True, neural=True,
                                  description="laplace on Yeo-Johnson-warped outputs"),
    "laplace-lbfgs": SurrogateSpec(_laplace_lbfgs, accepts_yvar=True, neural=True,
                                   description="laplace with a full-batch L-BFGS MAP fit"),
    "gp-warp": SurrogateSpec(_gp_warp, description="exact GP on Yeo-Johnson-warped outputs"),
    "gp": SurrogateSpec(_gp, description="exact GP, SingleTaskGP or MixedSingleTaskGP"),
    "gp-capped": SurrogateSpec(_gp_capped, description="GP on at most 500 points, Syne Tune's "
                                                       "top-fraction cap"),
    "nngp": SurrogateSpec(_nngp, neural=True, description="infinite-width Bayesian ReLU MLP: "
                                                          "exact GP with the NNGP kernel"),
    "nngp-warp": SurrogateSpec(_nngp_warp, neural=True,
                               description="nngp on Yeo-Johnson-warped outputs"),
    "rff": SurrogateSpec(_rff, accepts_yvar=True, neural=True,
                         description="random-Fourier-feature network, exact Bayesian last layer, "
                                     "evidence-tuned with the GP's priors"),
    "rff-warp": SurrogateSpec(_rff_warp, accepts_yvar=True, neural=True,
                              description="rff on Yeo-Johnson-warped outputs"),
    "rff-wide": SurrogateSpec(_rff_wide, accepts_yvar=True, neural=True,
                              description="rff with 2048 units, conditioned on at most 256 "
                                          "points (no variance starvation)"),
    "rff-kev": SurrogateSpec(_rff_kev, accepts_yvar=True, neural=True,
                             description="rff-wide with hyperparameters from its infinite-width "
                                         "kernel's evidence"),
    "rff-path": SurrogateSpec(_rff_path, accepts_yvar=True, neural=True,
                              description="rff-kev on up to 1024 points, its posterior 128 "
                                          "sampled networks (pathwise)"),
    "rff-hybrid": SurrogateSpec(_rff_hybrid, accepts_yvar=True, neural=True,
                                description="rff-kev up to 256 points; above, rff-path"),
    "transfer": SurrogateSpec(_transfer, accepts_yvar=True, neural=True, related=True,
                              description="rff-kev's network plus a feature block learned on "
                                          "related tasks (ABLR), its scale fitted by evidence; "
                                          "rff-kev where there is no related task"),
    "transfer-c1024": SurrogateSpec(_transfer_c1024, accepts_yvar=True, neural=True,
                                    related=True,
                                    description="transfer with its read-out conditioned on up "
                                                "to 1024 points (evidence on 256); rff-kev "
                                                "where there is no related task"),
    "transfer-gp": SurrogateSpec(_transfer_gp, neural=True, related=True,
                                 description="transfer's kernel (related tasks' network "
                                             "features plus RBF) in an exact GP on every point; "
                                             "gp where there is no related task"),
    "mtgp": SurrogateSpec(_mtgp, related=True,
                          description="multi-task GP over the related tasks and the target "
                                      "(at most 300 points in all): transfer's GP baseline; "
                                      "gp where there is no related task"),
    "rff-bayes": SurrogateSpec(_rff_bayes, accepts_yvar=True, neural=True,
                               description="rff-kev with its first-layer scales (lengthscales), "
                                           "noise and mean integrated by Laplace: a mixture of "
                                           "8 networks"),
}


def register_surrogate(name: str, spec: SurrogateSpec) -> None:
    """Add (or replace) the surrogate ``name``.

    Raises:
        ValueError: when ``name`` is empty or contains ``@``, ``:``, ``,`` or whitespace (they
            separate the parts of a method name such as ``hyperpilot@gp:full``).
    """
    if not name or any(c in name for c in "@:,") or any(c.isspace() for c in name):
        raise ValueError(f"surrogate names must be non-empty without '@', ':', ',' or spaces, "
                         f"got {name!r}")
    SURROGATES[name] = spec


def surrogate_spec(name: str) -> SurrogateSpec:
    """The spec registered as ``name``.

    Raises:
        UnknownSurrogate: with the list of known names.
    """
    if name not in SURROGATES:
        raise UnknownSurrogate(f"unknown surrogate {name!r}; known: {', '.join(sorted(SURROGATES))}")
    return SURROGATES[name]


def make_surrogate(name: str, *, seed: int, cat_groups: list[list[int]] | None = None,
                   options: dict[str, Any] | None = None) -> SurrogateModel:
    """Build the (unfitted) surrogate registered as ``name``.

    Args:
        name: A key of ``SURROGATES``.
        seed: The model's seed.
        cat_groups: One-hot column groups of categorical parameters, or None.
        options: Keyword options of the model.

    Raises:
        UnknownSurrogate: with the list of known names.
    """
    return surrogate_spec(name).factory(seed, cat_groups, dict(options or {}))
