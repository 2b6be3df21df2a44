"""Variance starvation of the random-feature network: its posterior variance against the GP's.

A network of ``m`` random features has a rank-``m`` prior, so once ``n`` nears ``m`` its
read-out is pinned and the posterior variance falls below that of the GP it approximates, most
where the data are dense (Wang et al. 2018, "Batched large-scale Bayesian optimization in
high-dimensional spaces", call this variance starvation). This script measures it in the
setting of ``surrogate_cost.py``: ``n`` points in ``[0, 1]^7`` (half uniform, half within 0.05
of the best uniform point, as a study concentrates), Hartmann-6 plus a weak 7th input, fixed
hyperparameters (lengthscale 0.35 on the six inputs, 2.0 on the 7th, noise 1e-3 on
standardised outputs), so only the width and the conditioning set differ. For every ``n``, width
``m`` and conditioning cap (``posterior_points``: all ``n``, or each of ``--caps``), it prints the median over 200
query points near the best point, and over ``--seeds``, of

    (the network's posterior variance) / (the exact GP's posterior variance on all n points).

A ratio far below 1 is an overconfident model where the acquisition acts; conditioning on a
subset costs information, so its ratio can exceed 1 (the GP on the subset is less certain).

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/rff_starvation.py --seeds 0 1 2

``--evidence-spread`` instead prints the fitted hyperparameters on ``n`` uniform points of the same
objective (seed ``n``): the 512-unit network's own evidence for first-layer seeds 0-3, its
kernel's evidence (``evidence="kernel"``), and BoTorch's GP (``surrogates`` ``gp``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import hartmann6  # noqa: E402

from surrogates import make_surrogate  # noqa: E402
from surrogates.rff import Hypers, RFFNetwork, kernel_matrix  # noqa: E402

D = 7
ELL = torch.tensor([0.35] * 6 + [2.0], dtype=torch.float64)
NOISE = 1e-3


def study_like(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n x 7`` inputs (half near the best of the uniform half), ``n`` targets, best input."""
    U = torch.rand(n - n // 2, D, generator=gen, dtype=torch.float64)
    best = U[hartmann6(U[:, :6]).argmax()]
    near = (best + 0.05 * torch.randn(n // 2, D, generator=gen, dtype=torch.float64)).clamp(0, 1)
    X = torch.cat([U, near])
    y = hartmann6(X[:, :6]).squeeze(-1) + 0.1 * X[:, 6]
    return X, (y - y.mean()) / y.std(), best


def gp_variance(X: torch.Tensor, Xs: torch.Tensor) -> torch.Tensor:
    """Exact GP posterior variance of the latent function at ``Xs`` (``ELL``, ``NOISE``)."""
    K = kernel_matrix(X, ELL, 1.0, "rbf") + NOISE * torch.eye(X.shape[0], dtype=X.dtype)
    Ks = torch.exp(-0.5 * torch.cdist(Xs / ELL, X / ELL) ** 2)
    L = torch.linalg.cholesky(K)
    V = torch.linalg.solve_triangular(L, Ks.T, upper=False)
    return 1.0 - (V**2).sum(0)


def ratio(n: int, m: int, cap: int | None, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    X, y, best = study_like(n, gen)
    Xs = (best + 0.05 * torch.randn(200, D, generator=gen, dtype=torch.float64)).clamp(0, 1)
    net = RFFNetwork(n_features=m, posterior_points=cap, seed=seed,
                     hypers=Hypers(ELL, 1.0, NOISE, 0.0)).fit(X, y[:, None])
    scale = float(net.warp.s1 * net.warp.s2) ** 2  # the network standardises y again
    var = net.posterior(Xs[:, None, :]).variance.reshape(-1) / scale  # type: ignore[attr-defined]
    return float((var / gp_variance(X, Xs)).median())


def evidence_spread(n: int) -> None:
    """Lengthscales and noise of the network's evidence (4 draws), its kernel's, and the GP's."""
    gen = torch.Generator().manual_seed(n)
    X = torch.rand(n, D, generator=gen, dtype=torch.float64)
    Y = hartmann6(X[:, :6]) + 0.1 * X[:, 6:7]
    fits = [(f"network, seed {s}", RFFNetwork(seed=s)) for s in range(4)]
    fits.append(("kernel evidence", RFFNetwork(evidence="kernel")))
    for label, net in fits:
        net.fit(X, Y)
        h = net.hypers
        assert h is not None
        print(f"| {n} | {label} | {[round(v, 2) for v in h.lengthscale.tolist()]} | "
              f"{h.noise:.4f} |")
    gp = make_surrogate("gp", seed=0).fit(X, Y).botorch_model  # type: ignore[attr-defined]
    ell = gp.covar_module.lengthscale.detach().reshape(-1).tolist()
    print(f"| {n} | GP | {[round(v, 2) for v in ell]} | {float(gp.likelihood.noise.detach()):.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[50, 130, 400, 1000])
    ap.add_argument("--widths", type=int, nargs="+", default=[512, 1024, 2048])
    ap.add_argument("--caps", type=int, nargs="*", default=[256, 512],
                    help="posterior_points caps, besides conditioning on all n")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--evidence-spread", type=int, nargs="*", metavar="N",
                    help="print the fitted hyperparameters at these n instead (e.g. 50 150)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.evidence_spread:
        print("| n | fit | lengthscales | noise |\n|---|---|---|---|")
        for n in args.evidence_spread:
            evidence_spread(n)
        return
    rows = [(m, cap) for m in args.widths for cap in (None, *args.caps)]
    print("| m | conditioned on | " + " | ".join(f"n = {n}" for n in args.ns) + " |")
    print("|---|---|" + "---|" * len(args.ns))
    for m, cap in rows:
        cells = [np.median([ratio(n, m, cap, s) for s in args.seeds]) for n in args.ns]
        label = "all n" if cap is None else f"at most {cap}"
        print(f"| {m} | {label} | " + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
