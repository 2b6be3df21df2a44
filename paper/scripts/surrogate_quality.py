"""Held-out quality of the surrogates: RMSE, Gaussian NLL, 90% coverage, Spearman.

DeepEnsemble, MCDropout and GP by default; ``--models`` adds EnsembleRP, Laplace, Stacked
(``stacked``: stack mode, the default) and StackedSwitch (switch mode), whose chosen candidate
(the largest weight) is the ``chosen`` column.

Hartmann-6 (negated, maximised) with n training points and 500 held-out points per seed; with
``--lcbench TASK ...`` also LCBench tasks at the final epoch (needs ``hyperpilot.benchmarks`` and
the data directory; skipped with a message otherwise). Writes a CSV and prints a markdown table.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/surrogate_quality.py \
        --ns 50 200 1000 --seeds 0 1 2 --out runs/paper/surrogate_quality.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import hartmann_split, markdown, metrics  # noqa: E402

from surrogates import (  # noqa: E402
    GP,
    DeepEnsemble,
    MCDropout,
    RandomizedPriorEnsemble,
    StackedSurrogate,
)
from surrogates.laplace import LinearizedLaplace  # noqa: E402

MODELS: dict[str, Callable[[int], torch.nn.Module]] = {
    "DeepEnsemble": lambda seed: DeepEnsemble(seed=seed),
    "MCDropout": lambda seed: MCDropout(seed=seed),
    "GP": lambda seed: GP(seed=seed),
    "EnsembleRP": lambda seed: RandomizedPriorEnsemble(seed=seed),
    "Laplace": lambda seed: LinearizedLaplace(seed=seed),
    "Stacked": lambda seed: StackedSurrogate(mode="stack", seed=seed),
    "StackedSwitch": lambda seed: StackedSurrogate(mode="switch", seed=seed),
}
DEFAULT_MODELS = ["DeepEnsemble", "MCDropout", "GP"]

Split = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def lcbench_split(task: str, n: int, n_test: int, seed: int, data_dir: str | None) -> Split | None:
    """Random configs of an LCBench task, encoded, with ``-value`` at the final epoch (maximise)."""
    try:
        from hyperpilot.benchmarks import get_benchmark
    except ImportError as e:
        print(f"LCBench skipped: {e}")
        return None
    bench = get_benchmark(f"lcbench:{task}", data_dir=data_dir, seed=seed)
    configs = bench.space.sample(n + n_test, np.random.default_rng(seed))
    budget = float(bench.fidelity.max)
    vals = []
    for c in configs:
        out = bench(c, budget, 0.0, None)
        vals.append(out[0] if isinstance(out, tuple) else out)
    X = torch.as_tensor(np.asarray(bench.space.encode(configs)), dtype=torch.float64)
    Y = -torch.tensor(vals, dtype=torch.float64).unsqueeze(-1)
    return X[:n], Y[:n], X[n:], Y[n:]


def evaluate(
    task: str, split: Split, n: int, seed: int, names: list[str], max_gp_n: int
) -> list[dict[str, object]]:
    Xtr, Ytr, Xte, Yte = split
    rows: list[dict[str, object]] = []
    for name in names:
        if name == "GP" and n > max_gp_n:
            continue
        model = MODELS[name](seed)
        t0 = time.perf_counter()
        model.fit(Xtr, Ytr)
        secs = time.perf_counter() - t0
        with torch.no_grad():
            post = model.posterior(Xte)
        m = metrics(post.mean, post.variance, Yte)
        warn = len(model.fit_info.get("warnings", []))
        rows.append(
            {
                "task": task,
                "model": name,
                "n": n,
                "seed": seed,
                "fit_s": secs,
                "fit_warnings": warn,
                "chosen": model.fit_info.get("chosen", ""),
                **m,
            }
        )
        print(task, n, seed, name, f"{secs:.1f}s", {k: round(v, 3) for k, v in m.items()},
              model.fit_info.get("chosen", ""), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS, choices=list(MODELS))
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--max-gp-n", type=int, default=10_000)
    ap.add_argument("--no-hartmann", action="store_true")
    ap.add_argument("--lcbench", nargs="*", default=[], help="LCBench task ids, e.g. 3945")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="runs/paper/surrogate_quality.csv")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows: list[dict[str, object]] = []
    for n in args.ns:
        for seed in args.seeds:
            if not args.no_hartmann:
                split = hartmann_split(n, args.n_test, seed)
                rows += evaluate("hartmann6", split, n, seed, args.models, args.max_gp_n)
            for task in args.lcbench:
                lc = lcbench_split(task, n, args.n_test, seed, args.data_dir)
                if lc is not None:
                    rows += evaluate(f"lcbench:{task}", lc, n, seed, args.models, args.max_gp_n)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(markdown(rows, ["task", "n", "model"], ["rmse", "nll", "cov90", "spearman", "fit_s"]))


if __name__ == "__main__":
    main()
