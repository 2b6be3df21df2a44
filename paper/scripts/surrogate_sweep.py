"""Choose DeepEnsemble (and MCDropout) defaults on Hartmann-6: one-at-a-time sweep around a base.

Each variant changes one knob of the base config; every fit is scored on 500 held-out points for
both posterior choices (``posterior_noise`` True / False, the same fit). Output: CSV + markdown.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/surrogate_sweep.py --seeds 0 1 2 --ns 50 200

Rounds that set the library defaults (BASE is the round-1 starting point, not the final default):
  1. all DeepEnsemble variants + MC dropout without early stopping, seeds 0 1
     (runs/paper/surrogate_sweep_round1.csv)
  2. --seeds 0 1 2 --variants base depth=3 lr=1e-2 depth=3,lr=1e-2 wd=1e-1 (after adding
     "no early stop in the first quarter of the budget"; runs/paper/surrogate_sweep_round2.csv)
  3. MC dropout with held-out early stopping: --variants "mcd p=0.1" "mcd p=0.2" "mcd p=0.3"
     "mcd p=0.5" "mcd p=0.1,no-val" "mcd p=0.3,no-val" "mcd p=0.3,width=128"
     (runs/paper/surrogate_sweep_round3.csv)
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

from surrogates import DeepEnsemble, MCDropout  # noqa: E402

BASE = {"n_members": 8, "width": 64, "depth": 2, "lr": 3e-3, "weight_decay": 1e-3}
VARIANTS: dict[str, dict[str, object]] = {
    "base": {},
    "S=5": {"n_members": 5},
    "S=16": {"n_members": 16},
    "width=32": {"width": 32},
    "width=128": {"width": 128},
    "depth=1": {"depth": 1},
    "depth=3": {"depth": 3},
    "wd=1e-4": {"weight_decay": 1e-4},
    "wd=1e-2": {"weight_decay": 1e-2},
    "lr=1e-3": {"lr": 1e-3},
    "lr=1e-2": {"lr": 1e-2},
    "wd=1e-1": {"weight_decay": 1e-1},
    "depth=3,lr=1e-2": {"depth": 3, "lr": 1e-2},
    "depth=3,width=128": {"depth": 3, "width": 128},
    "bagging=none": {"bagging": "none"},
    "bagging=bootstrap": {"bagging": "bootstrap"},
    "mcd p=0.1": {"_mcd": True, "dropout": 0.1},
    "mcd p=0.05": {"_mcd": True, "dropout": 0.05},
    "mcd p=0.2": {"_mcd": True, "dropout": 0.2},
    "mcd p=0.3": {"_mcd": True, "dropout": 0.3},
    "mcd p=0.5": {"_mcd": True, "dropout": 0.5},
    "mcd p=0.3,depth=3": {"_mcd": True, "dropout": 0.3, "depth": 3},
    "mcd p=0.1,no-val": {"_mcd": True, "dropout": 0.1, "val_fraction": 0.0},
    "mcd p=0.3,no-val": {"_mcd": True, "dropout": 0.3, "val_fraction": 0.0},
    "mcd p=0.3,width=128": {"_mcd": True, "dropout": 0.3, "width": 128},
}


def build(spec: dict[str, object], seed: int) -> torch.nn.Module:
    kw = {k: v for k, v in spec.items() if not k.startswith("_")}
    if spec.get("_mcd"):
        base = {k: v for k, v in BASE.items() if k != "n_members"}
        return MCDropout(**{**base, **kw}, seed=seed)  # type: ignore[arg-type]
    return DeepEnsemble(**{**BASE, **kw}, seed=seed)  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--ns", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS))
    ap.add_argument("--out", default="runs/paper/surrogate_sweep.csv")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows: list[dict[str, object]] = []
    for n in args.ns:
        for seed in args.seeds:
            Xtr, Ytr, Xte, Yte = hartmann_split(n, 500, seed)
            for name in args.variants:
                model = build(VARIANTS[name], seed)
                t0 = time.perf_counter()
                model.fit(Xtr, Ytr)
                secs = time.perf_counter() - t0
                for noise in (True, False):
                    model.posterior_noise = noise  # type: ignore[assignment]
                    post = model.posterior(Xte)
                    m = metrics(post.mean, post.variance, Yte)
                    rows.append(
                        {
                            "variant": name,
                            "noise": noise,
                            "n": n,
                            "seed": seed,
                            "fit_s": secs,
                            "steps": model.fit_info["steps"],
                            **m,
                        }
                    )
                print(
                    n,
                    seed,
                    name,
                    f"{secs:.1f}s",
                    {k: round(v, 3) for k, v in m.items()},
                    flush=True,
                )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(markdown(rows, ["n", "variant", "noise"], ["rmse", "nll", "cov90", "spearman", "fit_s"]))


if __name__ == "__main__":
    main()
