"""Held-out quality of the randomized-prior ensemble: prior scale, prior size, posterior values.

Hartmann-6 (negated, maximised), n training points and 500 held-out points per seed. Every
variant is fitted once and scored with both posteriors: ``pm`` (each member's mean -/+ its
predicted std, ``posterior_noise=True``) and ``mean`` (the member means alone). Metrics over all
held-out points and among the top 10% of them by true value (where the acquisition acts). The
GP and the plain deep ensemble (``beta = 0``) are the references. Prints one line per fit and a
markdown table of means over seeds; writes a CSV.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/ensemble_rp_sweep.py \\
        --ns 50 200 --seeds 100 101 102 --out runs/paper/ensemble_rp_sweep.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import hartmann_split, markdown, metrics  # noqa: E402

from surrogates import GP  # noqa: E402
from surrogates.ensemble_rp import RandomizedPriorEnsemble  # noqa: E402

# name -> (beta, prior_width, prior_depth); beta 0 is DeepEnsemble (its default settings)
VARIANTS: dict[str, tuple[float, int, int]] = {
    "ens (beta 0)": (0.0, 64, 3),
    "rp beta0.3 64x3": (0.3, 64, 3),
    "rp beta1 64x3": (1.0, 64, 3),
    "rp beta3 64x3": (3.0, 64, 3),
    "rp beta0.3 32x2": (0.3, 32, 2),
    "rp beta1 32x2": (1.0, 32, 2),
    "rp beta3 32x2": (3.0, 32, 2),
    "rp beta0.5 32x2": (0.5, 32, 2),
    "rp beta0.5 64x1": (0.5, 64, 1),
    "rp beta1 64x1": (1.0, 64, 1),
}
COLS = ["rmse", "nll", "cov90", "spearman", "top_rmse", "top_nll", "top_spearman", "fit_s"]


def scores(mean: torch.Tensor, var: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """``metrics`` over all points, and RMSE/NLL/Spearman among the top 10% by true value."""
    out = metrics(mean, var, y)
    top = y.reshape(-1).argsort(descending=True)[: max(2, y.numel() // 10)]
    t = metrics(mean.reshape(-1)[top], var.reshape(-1)[top], y.reshape(-1)[top])
    out.update(top_rmse=t["rmse"], top_nll=t["nll"], top_spearman=t["spearman"])
    return out


def run(n: int, seed: int, n_test: int, variants: list[str]) -> list[dict[str, object]]:
    Xtr, Ytr, Xte, Yte = hartmann_split(n, n_test, seed)
    rows: list[dict[str, object]] = []
    t0 = time.perf_counter()
    gp = GP(seed=seed).fit(Xtr, Ytr)
    secs = time.perf_counter() - t0
    with torch.no_grad():
        post = gp.posterior(Xte)
    rows.append({"n": n, "seed": seed, "model": "GP", "posterior": "-", "fit_s": secs,
                 **scores(post.mean, post.variance, Yte)})
    for name in variants:
        beta, pw, pd = VARIANTS[name]
        model = RandomizedPriorEnsemble(beta=beta, prior_width=pw, prior_depth=pd, seed=seed)
        t0 = time.perf_counter()
        model.fit(Xtr, Ytr)
        secs = time.perf_counter() - t0
        for label, noise in (("pm", True), ("mean", False)):
            model.posterior_noise = noise
            with torch.no_grad():
                post = model.posterior(Xte)
            rows.append({"n": n, "seed": seed, "model": name, "posterior": label, "fit_s": secs,
                         **scores(post.mean, post.variance, Yte)})
    for r in rows:
        print(r["n"], r["seed"], r["model"], r["posterior"],
              {k: round(float(r[k]), 3) for k in COLS}, flush=True)  # type: ignore[arg-type]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--out", default="runs/paper/ensemble_rp_sweep.csv")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows: list[dict[str, object]] = []
    for n in args.ns:
        for seed in args.seeds:
            rows += run(n, seed, args.n_test, args.variants)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(markdown(rows, ["n", "model", "posterior"], COLS))


if __name__ == "__main__":
    main()
