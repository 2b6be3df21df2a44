"""What every proposal path shares: the error type, the problem set-up, snapping, the acquisition.

``propose_batch`` (gradient-based), ``CandidatePool`` (a fixed pool) and the random fallback all
start from a ``Setup`` (the model the acquisition sees, the bounds, the points never to propose,
the snapping rule) and build the same BoTorch acquisition with ``build_acqf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from botorch.acquisition import (
    AcquisitionFunction,
    qExpectedImprovement,
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
)
from botorch.exceptions.errors import BotorchError
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model
from torch import Tensor

from acquisition.discrete import RoundFn, make_round_fn
from acquisition.samplers import make_sampler

AcqName = Literal["qlogei", "qei", "qlognei"]


class ProposalError(RuntimeError):
    """A proposal could not be produced (the message says why; ``__cause__`` is the underlying
    BoTorch / GPyTorch / torch error, if any)."""


#: Errors that proposal paths turn into ``ProposalError`` (linear-algebra errors from GPyTorch,
#: ``NotPSDError`` and ``NanError``, are ``RuntimeError`` subclasses).
WRAPPED_ERRORS: tuple[type[Exception], ...] = (RuntimeError, ValueError, BotorchError)


@dataclass(frozen=True)
class Setup:
    """One proposal problem.

    Attributes:
        acq_model: The model the acquisition sees (``model.botorch_model`` when present).
        bounds: ``2 x d`` bounds in the model's dtype.
        taken: ``n x d`` points never to propose (pending and excluded).
        snap: Maps ``k x d`` relaxed points to valid encodings, or None.
    """

    acq_model: Model
    bounds: Tensor
    taken: Tensor
    snap: RoundFn | None


def make_setup(model: Model, bounds: Tensor | None = None, pending: Tensor | None = None,
               exclude: Tensor | None = None, cat_groups: list[list[int]] | None = None,
               round_fn: RoundFn | None = None) -> Setup:
    """The ``Setup`` of a proposal: ``bounds=None`` is the unit cube of ``model.train_X``;
    ``round_fn`` wins over arg-max snapping of the one-hot ``cat_groups``.

    Raises:
        ProposalError: ``bounds`` is None and the model has no 2-d ``train_X``.
    """
    inner = getattr(model, "botorch_model", None)
    acq_model: Model = inner if isinstance(inner, Model) else model
    train_X: Tensor | None = getattr(model, "train_X", None)
    dtype = train_X.dtype if train_X is not None else torch.float64
    if bounds is None:
        if train_X is None or train_X.dim() != 2:
            raise ProposalError("bounds=None needs a fitted model with train_X")
        d = train_X.shape[-1]
        bounds = torch.stack([torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)])
    bounds = bounds.to(dtype)
    d = bounds.shape[-1]
    parts = [t.to(dtype).reshape(-1, d) for t in (pending, exclude) if t is not None]
    taken = torch.cat(parts) if parts else torch.empty(0, d, dtype=dtype)
    return Setup(acq_model, bounds, taken, make_round_fn(round_fn, cat_groups))


def snap(X: Tensor, s: Setup) -> Tensor:
    """``k x d`` points clamped into ``s.bounds`` and snapped to valid encodings."""
    X = X.clamp(s.bounds[0], s.bounds[1])
    return s.snap(X).to(X) if s.snap is not None else X


def incumbent_value(model: Model, acq_model: Model) -> float:
    """(Log) EI's ``best_f`` when the caller gives none: the best training target, in the
    caller's units (a bare BoTorch GP's targets are untransformed).

    Raises:
        ProposalError: the model exposes no training targets.
    """
    train_Y = getattr(model, "train_Y", None)
    if isinstance(train_Y, Tensor) and train_Y.numel() > 0:
        return float(train_Y.max())
    targets = getattr(acq_model, "train_targets", None)  # a bare BoTorch GP
    if isinstance(targets, Tensor) and targets.numel() > 0:
        tf = getattr(acq_model, "outcome_transform", None)
        y = targets.reshape(-1, 1)
        if tf is not None:
            y, _ = tf.untransform(y)
        return float(y.max())
    raise ProposalError("best_f is None and the model exposes no training targets")


def build_acqf(model: Model, s: Setup, acqf: AcqName, best_f: float | None,
               pending: Tensor | None, seed: int, mc_samples: int) -> AcquisitionFunction:
    """The MC acquisition of a proposal: q-LogEI, q-EI (both against ``best_f``, None: the
    best training target) or q-LogNEI (against ``qlognei_baseline``), with the sampler of
    ``acquisition.samplers`` seeded from ``seed`` and ``pending`` as ``X_pending``.

    Raises:
        ProposalError: an unknown ``acqf``, or no ``best_f`` / baseline to be had.
    """
    am, dtype = s.acq_model, s.bounds.dtype
    sampler = make_sampler(am, s.bounds.shape[-1], dtype, seed, mc_samples)
    Xp = None if pending is None or pending.numel() == 0 else pending.to(dtype)
    if acqf == "qlognei":
        with torch.random.fork_rng():  # pruning the baseline samples: seeded, the caller's
            torch.manual_seed(seed)    # generator untouched
            return qLogNoisyExpectedImprovement(
                am,
                X_baseline=qlognei_baseline(model, s.bounds),
                sampler=sampler,
                X_pending=Xp,
                prune_baseline=True,
                cache_root=isinstance(am, GPyTorchModel),
            )
    f = incumbent_value(model, am) if best_f is None else float(best_f)
    if acqf == "qlogei":
        return qLogExpectedImprovement(am, best_f=f, sampler=sampler, X_pending=Xp)
    if acqf == "qei":
        return qExpectedImprovement(am, best_f=f, sampler=sampler, X_pending=Xp)
    raise ProposalError(f"unknown acqf {acqf!r}; use 'qlogei', 'qei' or 'qlognei'")


def qlognei_baseline(model: Model, bounds: Tensor) -> Tensor:
    """qLogNEI's baseline: the observed points moved into ``bounds``, without repeats.

    A column the bounds fix (a fidelity input held at the max budget) takes its fixed value,
    so the noisy incumbent is judged where the acquisition looks; replicates of a point (the
    same config on several seeds) become one baseline point.
    """
    base = getattr(model, "train_X", None)
    if not isinstance(base, Tensor) or base.dim() != 2 or base.shape[0] == 0:
        raise ProposalError("qlognei needs model.train_X as the baseline")
    base = base.to(bounds).clamp(bounds[0], bounds[1])
    return torch.unique(base, dim=0)
