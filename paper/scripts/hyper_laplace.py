"""Held out at small n: the MAP kernel hyperparameters against their Laplace integral (issue 18).

For each task, n and seed: fit ``rff-kev``'s MAP (the RBF kernel's evidence plus BoTorch's
priors, on standardised targets), take the Laplace approximation of ``theta = (log(l - l_min),
log(sigma^2 - sigma^2_min), c)`` there (Hessian eigenvalues floored at 1/3), draw ``--draws``
independent thetas (``surrogates.rff_bayes.laplace_draws``, clipped as ``rff-bayes`` clips
them), and score on ``--n-test`` held-out points the exact-kernel predictive of the MAP against the equal-weight mixture of the draws' predictives: NLL (the mixture's own density),
Spearman's rho of the mean, over all held-out points and over the best 10%. Prints the
medians over seeds of the differences (mixture - MAP; negative NLL differences favour the
mixture) and writes one row per task x n x seed x predictive with ``--out``.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/hyper_laplace.py \
        --lcbench 3945 7593 34539 126026 --ns 15 30 --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import hartmann_split  # noqa: E402
from surrogate_quality import lcbench_split, lcbench_tasks  # noqa: E402

from surrogates.rff import RFFNetwork, kernel_matrix  # noqa: E402
from surrogates.rff_bayes import hypers_at, laplace_draws  # noqa: E402


def predictive(X: torch.Tensor, y: torch.Tensor, Xt: torch.Tensor, ell: torch.Tensor,
               noise: float, c: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact RBF-kernel predictive mean and variance (noise included) at ``Xt``: ``n_test``."""
    K = kernel_matrix(X, ell, 1.0, "rbf") + noise * torch.eye(len(X), dtype=X.dtype)
    L = torch.linalg.cholesky(K)
    Ks = kernel_matrix(torch.cat([X, Xt]), ell, 1.0, "rbf")[len(X):, :len(X)]
    mu = Ks @ torch.cholesky_solve((y - c)[:, None], L).squeeze(-1) + c
    v = torch.linalg.solve_triangular(L, Ks.T, upper=False)
    return mu, (1.0 - (v**2).sum(0)).clamp_min(1e-9) + noise


def compare(split: tuple[torch.Tensor, ...], draws: int, seed: int) -> dict[str, list[float]]:
    """``{"map": [...], "laplace": [...]}``: NLL, top-10% NLL, Spearman, top-10% Spearman."""
    Xtr, Ytr, Xte, Yte = split
    mean, sd = Ytr.mean(), Ytr.std()
    y, yt = ((Ytr - mean) / sd).squeeze(-1), ((Yte - mean) / sd).squeeze(-1)
    net = RFFNetwork(n_features=512, evidence="kernel", seed=seed).fit(Xtr, Ytr)
    h = net.hypers
    assert h is not None
    d = Xtr.shape[1]
    thetas, _ = laplace_draws(net, draws, seed, antithetic=False)
    preds = []
    for t in thetas:
        ht = hypers_at(t, d, h.outputscale)
        preds.append(predictive(Xtr, y, Xte, ht.lengthscale, ht.noise, ht.constant))
    mus, vs = torch.stack([p[0] for p in preds]), torch.stack([p[1] for p in preds])
    mu0, v0 = predictive(Xtr, y, Xte, h.lengthscale, h.noise, h.constant)
    top = yt >= torch.quantile(yt, 0.9)

    def logpdf(mu: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return -0.5 * (torch.log(2 * math.pi * v) + (yt - mu) ** 2 / v)

    out = {}
    for name, nll, m in (("map", -logpdf(mu0, v0), mu0),
                         ("laplace", -(torch.logsumexp(logpdf(mus, vs), 0) - math.log(draws)),
                          mus.mean(0))):
        out[name] = [float(nll.mean()), float(nll[top].mean()),
                     float(stats.spearmanr(m.numpy(), yt.numpy())[0]),
                     float(stats.spearmanr(m[top].numpy(), yt[top].numpy())[0])]
    return out


METRICS = ["nll", "top10_nll", "spearman", "top10_spearman"]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lcbench", nargs="*", default=[], help="development task ids, or 'dev'")
    ap.add_argument("--no-hartmann", action="store_true")
    ap.add_argument("--ns", type=int, nargs="+", default=[15, 30])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--n-test", type=int, default=400)
    ap.add_argument("--draws", type=int, default=32)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    tasks = ([] if a.no_hartmann else ["hartmann6"]) + lcbench_tasks(a.lcbench)
    rows, diffs = [], {}
    for task in tasks:
        for n in a.ns:
            for seed in a.seeds:
                split = (hartmann_split(n, a.n_test, seed) if task == "hartmann6"
                         else lcbench_split(task, n, a.n_test, seed, a.data_dir))
                o = compare(split, a.draws, seed)
                rows += [{"task": task, "n": n, "seed": seed, "predictive": k,
                          **dict(zip(METRICS, v, strict=True))} for k, v in o.items()]
                diffs.setdefault((task, n), []).append(np.subtract(o["laplace"], o["map"]))
                print(task, n, seed, {k: [round(x, 3) for x in v] for k, v in o.items()}, flush=True)
    print("\n| task | n | " + " | ".join(f"d {m}" for m in METRICS) + " |")
    print("|---|---|" + "---|" * len(METRICS))
    for (task, n), v in diffs.items():
        med = np.median(np.array(v), 0)
        print(f"| {task} | {n} | " + " | ".join(f"{x:+.3f}" for x in med) + " |")
    if a.out:
        with open(a.out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
