"""Offline multi-fidelity screen of surrogates: successive-halving data, predict the max budget.

The cheap elimination round of issue 18, before any BO loop: for each seed, ``--n0`` random
configs run at the lowest rung and the best third of each rung is promoted (eta = 3, four rungs,
as one Hyperband bracket). Every trial is one ``(config, budget column, -value)`` row, or, for a
name ending in ``:curves``, every point of every learning curve is a row. Each surrogate is
fitted on these rows and predicts 1000 held-out random configs at the max budget. Reported
(median over seeds): Spearman over all held-out configs and among their best 10%
(``top10sp``), and the regret of the best of the model's top-5 picks among the held-out configs
(``best5``, against the best held-out value): how well the model points at good configs, which
is what an acquisition needs. RMSE and NLL are in the caller's units. ``name#tag`` with
``--variants '{"name#tag": {...}}'`` screens a surrogate with other options.

    OMP_NUM_THREADS=1 python paper/scripts/mf_screen.py --tasks hartmann6 lcbench:3945 \\
        --surrogates gp,laplace,laplace:curves --seeds 0 1 2 --n0 81 --data-dir ../shared/data

Development tasks only (the LCBench ids of ``hyperpilot.benchmarks.LCBENCH_DEV_TASKS``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from hyperpilot.benchmarks import get_benchmark
from hyperpilot.methods.bo_data import budget_column
from surrogates import make_surrogate

Row = tuple[int, float, float]  # (config index, budget, value)


def _value(bench: Any, config: dict[str, Any], budget: float) -> tuple[float, list]:
    out = bench(config, float(budget), 0.0, None)
    return (out[0], out[1]) if isinstance(out, tuple) else (out, [(budget, out)])


def halving_rows(bench: Any, configs: list[dict[str, Any]]) -> tuple[list[Row], list[Row]]:
    """One successive-halving bracket: the trial rows and the curve-point rows."""
    f = bench.fidelity
    rungs = [f.max / f.eta**k for k in range(3, -1, -1)]
    rows: list[Row] = []
    points: list[Row] = []
    alive = list(range(len(configs)))
    for b in rungs:
        vals = {}
        for i in alive:
            v, curve = _value(bench, configs[i], b)
            vals[i] = v
            rows.append((i, b, v))
            points += [(i, bb, vv) for bb, vv in curve if bb >= f.min]
        alive = sorted(alive, key=lambda i: vals[i])[: max(1, len(alive) // f.eta)]
    return rows, points


def screen(task: str, names: list[str], seed: int, n0: int, data_dir: str | None,
           variants: dict[str, dict[str, Any]] | None = None) -> dict[str, list[float]]:
    """Metrics per surrogate name for one seed: rmse, nll, spearman, top10sp, best5, fit_s, n."""
    bench = get_benchmark(task, data_dir=data_dir, seed=0)
    f = bench.fidelity
    configs = bench.space.sample(n0, np.random.default_rng(seed))
    rows, points = halving_rows(bench, configs)
    test = bench.space.sample(1000, np.random.default_rng(1000 + seed))
    yt = -torch.tensor([_value(bench, c, f.max)[0] for c in test], dtype=torch.float64)
    enc = lambda cs: torch.as_tensor(np.asarray(bench.space.encode(cs)), dtype=torch.float64)  # noqa: E731
    Xt = torch.cat([enc(test), torch.ones(len(test), 1, dtype=torch.float64)], 1)
    out = {}
    for name in names:
        head, _, variant = name.partition(":")
        base = head.partition("#")[0]
        data = points if variant == "curves" else rows
        X = torch.cat([enc([configs[i] for i, _, _ in data]),
                       torch.tensor([[budget_column(b, f.min, f.max)] for _, b, _ in data],
                                    dtype=torch.float64)], 1)
        Y = -torch.tensor([[v] for _, _, v in data], dtype=torch.float64)
        t0 = time.perf_counter()
        model = make_surrogate(base, seed=seed, options=(variants or {}).get(name)).fit(X, Y)
        fit_s = time.perf_counter() - t0
        with torch.no_grad():
            post = model.posterior(Xt)
            mu, sd = post.mean.squeeze(-1), post.variance.squeeze(-1).sqrt()
        top = yt > yt.quantile(0.9)
        nll = 0.5 * ((yt - mu) / sd) ** 2 + sd.log() + 0.5 * math.log(2 * math.pi)
        best5 = float(yt.max() - yt[mu.topk(5).indices].max())
        out[name] = [float(((yt - mu) ** 2).mean().sqrt()), float(nll.mean()),
                     float(spearmanr(mu, yt)[0]), float(spearmanr(mu[top], yt[top])[0]),
                     best5, fit_s, float(X.shape[0])]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=["hartmann6", "lcbench:3945", "lcbench:7593"])
    ap.add_argument("--surrogates", default="gp,laplace,laplace:curves")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--n0", type=int, default=81)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--variants", default="{}",
                    help='JSON: options per name, e.g. \'{"laplace#w32": {"width": 32}}\' '
                         "(a name is <surrogate>[#tag][:curves])")
    a = ap.parse_args()
    torch.set_num_threads(1)
    names = a.surrogates.split(",")
    cols = ["rmse", "nll", "spearman", "top10sp", "best5", "fit_s", "n"]
    print("| task | surrogate | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    for task in a.tasks:
        variants = json.loads(a.variants)
        per = [screen(task, names, s, a.n0, a.data_dir, variants) for s in a.seeds]
        for name in names:
            med = np.median(np.array([p[name] for p in per]), axis=0)
            cells = [f"{v:.3g}" for v in med[:-1]] + [f"{med[-1]:.0f}"]
            print(f"| {task} | {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
