"""Held-out check of a transfer surrogate before it gets a tournament slot (issue 18).

Hypothesis: a network whose features are learned on *other* LCBench tasks (ABLR, Perrone et al.
2018: a shared feature map, one Bayesian linear read-out per task, trained on the sum of the
tasks' log evidences) ranks a new task's configurations better at 10-50 observations than a GP
fitted on those observations alone, because the tasks' response surfaces share their shape
(learning rate, batch size and dropout matter in the same way on most datasets).

For each development task T (leave-one-task-out): features trained on the other nine
development tasks (``--prior-points`` random configs each, at ``--epochs``), then on T: ``n``
random configs, 2,000 held-out ones; compared with BoTorch's ``SingleTaskGP`` (RBF, its default
priors) on the same points, and (``--models mtgp``) with a multi-task GP given the same related
tasks (``surrogates.mtgp``: 50 of each task's points). Metrics on the held-out set: NLL
(standardised units), Spearman's rho overall and among the best 10%, and the regret (true
value) of the held-out config with the best predicted mean: what a greedy proposal would get.

    python paper/scripts/transfer_check.py --data-dir ../shared/data --ns 10 20 50 --seeds 0 1 2

Only development tasks are used (the data README's list): no held-out task is touched.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from hyperpilot.benchmarks.lcbench import INPUT_ORDER, LCBench, _raw_from_unit, make_lcbench
from surrogates.mtgp import MultiTaskGPSurrogate
from surrogates.transfer import TransferBLR, TransferRFF, fit_shared_features
from surrogates.transfer_gp import TransferGP

DEV = ["3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152"]


def task_data(bench: LCBench, n: int, rng: np.random.Generator, epochs: list[int]
              ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform unit-cube configs at each of ``epochs``: ``X`` (n*len(epochs)) x 8 (last
    column = epoch / 52), ``y`` = 1 - balanced accuracy."""
    U = rng.random((n, len(INPUT_ORDER)))
    raw = _raw_from_unit(bench.space, U)
    Xs, ys = [], []
    for e in epochs:
        Xs.append(np.column_stack([U, np.full(n, e / 52.0)]))
        ys.append(bench.values_at(raw, e))
    return np.vstack(Xs), np.concatenate(ys)


def gp_predict(X: np.ndarray, y: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    tX = torch.tensor(X, dtype=torch.float64)
    tY = torch.tensor(y, dtype=torch.float64).unsqueeze(-1)
    gp = SingleTaskGP(tX, tY, outcome_transform=Standardize(1))
    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
    with torch.no_grad():
        post = gp.posterior(torch.tensor(Xt, dtype=torch.float64), observation_noise=True)
    return (post.mean.squeeze(-1).detach().numpy(),
            post.variance.squeeze(-1).clamp_min(1e-12).sqrt().detach().numpy())


def metrics(mu: np.ndarray, sd: np.ndarray, yt: np.ndarray) -> dict[str, float]:
    m, s = yt.mean(), yt.std()
    z, mz, sz = (yt - m) / s, (mu - m) / s, sd / s
    nll = float(np.mean(0.5 * np.log(2 * math.pi * sz**2) + 0.5 * ((z - mz) / sz) ** 2))
    top = yt <= np.quantile(yt, 0.1)
    return {"nll": nll, "spearman": float(spearmanr(mu, yt)[0]),
            "top10_spearman": float(spearmanr(mu[top], yt[top])[0]),
            "greedy_regret": float(yt[np.argmin(mu)] - yt.min())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--ns", type=int, nargs="+", default=[10, 20, 50])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", nargs="+", default=DEV)
    ap.add_argument("--prior-points", type=int, default=400)
    ap.add_argument("--epochs", type=int, nargs="+", default=[52])
    ap.add_argument("--models", nargs="+", default=["gp", "transfer", "transfer-rff"],
                    help="of gp, transfer (ABLR read-out alone), transfer-rff (the registered "
                         "transfer), transfer-rff-c1024 (its read-out conditioned on up to "
                         "1,024 points), transfer-gp (its kernel in an exact GP), mtgp "
                         "(multi-task GP on the same related tasks)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    benches = {t: make_lcbench(t, a.data_dir) for t in DEV}
    rows = []
    for target in a.tasks:
        for seed in a.seeds:
            rng = np.random.default_rng([seed, int(target)])
            prior = [task_data(benches[t], a.prior_points, rng, a.epochs) for t in DEV if t != target]
            t0 = time.perf_counter()
            needs_feats = any(m.startswith("transfer") for m in a.models)
            feats = fit_shared_features(prior, seed=seed) if needs_feats else None
            pre_s = time.perf_counter() - t0
            Xt, yt = task_data(benches[target], 2000, rng, [52])
            for n in a.ns:
                X, y = task_data(benches[target], n, rng, [52])
                for name in a.models:
                    t0 = time.perf_counter()
                    if name == "gp":
                        mu, sd = gp_predict(X, y, Xt)
                    else:
                        m = (MultiTaskGPSurrogate(prior, seed=seed) if name == "mtgp"
                             else TransferGP(feats, seed=seed) if name == "transfer-gp"
                             else TransferBLR(feats) if name == "transfer"
                             else TransferRFF(feats, seed=seed, condition_points=1024)
                             if name == "transfer-rff-c1024"
                             else TransferRFF(feats, seed=seed))
                        m.fit(torch.tensor(X), torch.tensor(y).unsqueeze(-1))
                        with torch.no_grad():
                            p = m.posterior(torch.tensor(Xt), observation_noise=True)
                        mu = p.mean.squeeze(-1).detach().numpy()
                        sd = p.variance.squeeze(-1).detach().clamp_min(1e-12).sqrt().numpy()
                    rows.append({"task": target, "seed": seed, "n": n, "model": name,
                                 "fit_s": time.perf_counter() - t0, "pretrain_s": pre_s,
                                 **metrics(mu, sd, yt)})
            print(f"task {target} seed {seed} done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    if a.out:
        df.to_csv(a.out, index=False)
    cols = ["nll", "spearman", "top10_spearman", "greedy_regret"]
    print(df.groupby(["n", "model"])[cols].median().round(4).to_string())
    w = df.pivot_table(index=["task", "seed", "n"], columns="model", values="greedy_regret")
    for n, g in w.groupby(level="n") if "gp" in w else []:
        for m in (c for c in g.columns if c != "gp"):
            print(f"n={n}: {m}'s greedy regret lower than the GP's in {(g[m] < g['gp']).sum()} of "
                  f"{len(g)} (ties {(g[m] == g['gp']).sum()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
