"""Where ``transfer``'s fit + ``propose_batch(q=8)`` time goes: three read-outs, interleaved.

Issue 18's cost goal is fit plus ``propose_batch(q=8, d=7)`` at n = 2,000 within 1 s. The shipped
read-out (``TransferRFF.posterior``) conditions 2,048 random Fourier features plus the shared
network's 51 on at most 256 points in float64. This one-off replaces only the posterior, keeping
the fitted hyperparameters, to see whether the features are the cost:

* ``float64``: the shipped read-out;
* ``float32``: its matmuls in float32;
* ``exact``: the exact kernel the hyperparameters were fitted for (``s_T phi^T phi' + k_RBF``) on
  the same 256 points, no random features.

Each variant runs ``--repeats`` times, interleaved with the others, on ``surrogate_cost``'s
related tasks and objective; prints the median fit, propose and total seconds. One thread.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/transfer_readout_cost.py --n 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from botorch.posteriors import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import surrogate_cost as sc  # noqa: E402
from surrogate_common import objective7  # noqa: E402

from acquisition import propose_batch  # noqa: E402
from surrogates import make_surrogate  # noqa: E402
from surrogates._data import standardise_targets  # noqa: E402
from surrogates.capped import capped_indices  # noqa: E402
from surrogates.rff import kernel_matrix  # noqa: E402
from surrogates.transfer import TransferRFF  # noqa: E402

SHIPPED = TransferRFF.posterior


def _finish(m: TransferRFF, X: Tensor, mean: Tensor, cov: Tensor) -> GPyTorchPosterior:
    cov = cov + 1e-10 * torch.eye(X.shape[-2], dtype=m.model_dtype)
    return GPyTorchPosterior(MultivariateNormal(mean * m.y_std + m.y_mean, cov * m.y_std**2))


def posterior_float32(m: TransferRFF, X: Tensor, *args: Any, **kwargs: Any) -> GPyTorchPosterior:
    """The shipped read-out with its feature matmuls in float32."""
    Phi = m._phi(X.to(m.model_dtype))
    P = Phi.float()
    V = P @ m.w_root.float().T
    cov = (P @ P.transpose(-1, -2) - V @ V.transpose(-1, -2)).double()
    return _finish(m, X, Phi @ m.w_mean + m.constant, cov)


def _cross(m: TransferRFF, A: Tensor, B: Tensor, FA: Tensor, FB: Tensor) -> Tensor:
    d = ((A.unsqueeze(-2) - B.unsqueeze(-3)) / m.lengthscale).pow(2).sum(-1)
    return m.s_t * FA @ FB.transpose(-1, -2) + torch.exp(-0.5 * d)


def posterior_exact(m: TransferRFF, X: Tensor, *args: Any, **kwargs: Any) -> GPyTorchPosterior:
    """The exact kernel's posterior on the read-out's conditioning subset (cached per model)."""
    assert m.features is not None
    if not hasattr(m, "_exact"):
        y, _, _ = standardise_targets(m.train_Y)
        keep = capped_indices(m.train_Y, m.fit_points, 0.25, m.seed)
        Xc, yc = m.train_X[keep], y[keep]
        Fc = m.features(Xc)
        K = m.s_t * Fc @ Fc.T + kernel_matrix(Xc, m.lengthscale, 1.0, "rbf")
        L = torch.linalg.cholesky(K + m.noise * torch.eye(len(yc), dtype=K.dtype))
        alpha = torch.cholesky_solve((yc - m.constant)[:, None], L).squeeze(-1)
        m._exact = (Xc, Fc, L, alpha)  # type: ignore[attr-defined]
    Xc, Fc, L, alpha = m._exact  # type: ignore[attr-defined]
    X = X.to(m.model_dtype)
    FX = m.features(X)
    Kxc = _cross(m, X, Xc, FX, Fc)
    V = torch.linalg.solve_triangular(L, Kxc.transpose(-1, -2), upper=False)
    return _finish(m, X, Kxc @ alpha + m.constant, _cross(m, X, X, FX, FX) - V.transpose(-1, -2) @ V)


VARIANTS = {"float64": SHIPPED, "float32": posterior_float32, "exact": posterior_exact}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="observations")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    related = sc.related7()
    g = torch.Generator().manual_seed(0)
    X = torch.rand(args.n, 7, generator=g, dtype=torch.float64)
    Y = objective7(X)
    warm = make_surrogate("transfer", seed=0, options={"related": related}).fit(X[:20], Y[:20])
    propose_batch(warm, q=8, seed=0)  # the one-time pretraining, untimed
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in VARIANTS}
    try:
        for _ in range(args.repeats):
            for name, post in VARIANTS.items():
                TransferRFF.posterior = post  # type: ignore[method-assign]
                t0 = time.perf_counter()
                m = make_surrogate("transfer", seed=0, options={"related": related}).fit(X, Y)
                t1 = time.perf_counter()
                propose_batch(m, q=8, seed=1)
                times[name].append((t1 - t0, time.perf_counter() - t1))
    finally:
        TransferRFF.posterior = SHIPPED  # type: ignore[method-assign]
    for name, v in times.items():
        fit = statistics.median(f for f, _ in v)
        prop = statistics.median(p for _, p in v)
        tot = statistics.median(f + p for f, p in v)
        print(f"{name:8s} fit {fit:.2f} s  propose {prop:.2f} s  total {tot:.2f} s "
              f"(medians of {len(v)}, n = {args.n})")


if __name__ == "__main__":
    main()
