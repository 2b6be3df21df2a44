"""Wall time of fit + propose_batch(q=8) in d=7, DeepEnsemble vs GP, and 1 vs 2 torch threads.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/surrogate_cost.py --ns 100 500 2000 \
        --max-gp-n 2000 --gp-timeout 120 --threads-n 200 --warm-ns 100 500

The GP's fit grows as n^3 (342 s at n=2000 on the reference machine): ``--max-gp-n`` skips larger
GPs and ``--gp-timeout`` caps each marginal-likelihood optimiser run (a capped fit is flagged).
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

from surrogate_common import hartmann6  # noqa: E402

from acquisition import propose_batch  # noqa: E402
from surrogates import GP, DeepEnsemble  # noqa: E402


def objective7(X: torch.Tensor) -> torch.Tensor:
    """Hartmann-6 on the first 6 columns plus a weak linear 7th: ``n x 7`` -> ``n x 1``."""
    return hartmann6(X[:, :6]) + 0.1 * X[:, 6:7]


def time_one(model: torch.nn.Module, n: int, seed: int) -> dict[str, object]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 7, generator=g, dtype=torch.float64)
    Y = objective7(X)
    t0 = time.perf_counter()
    model.fit(X, Y)
    t1 = time.perf_counter()
    cand = propose_batch(model, q=8, seed=seed)
    t2 = time.perf_counter()
    assert cand.shape[0] == 8
    return {
        "n": n,
        "fit_s": t1 - t0,
        "propose_s": t2 - t1,
        "total_s": t2 - t0,
        "fit_warnings": len(model.fit_info.get("warnings", [])),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", type=int, nargs="+", default=[100, 500, 2000])
    ap.add_argument("--max-gp-n", type=int, default=2000)
    ap.add_argument("--gp-timeout", type=float, default=None)
    ap.add_argument(
        "--threads-n", type=int, default=500, help="n of the 1-vs-2-threads fit (0: skip)"
    )
    ap.add_argument(
        "--warm-ns",
        type=int,
        nargs="*",
        default=[100, 500],
        help="n of the warm-vs-cold refit comparison (after +10%% data)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/paper/surrogate_cost.csv")
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    for n in args.ns:
        rows.append(
            {
                "model": "DeepEnsemble",
                "threads": 1,
                **time_one(DeepEnsemble(seed=args.seed), n, args.seed),
            }
        )
        print(rows[-1], flush=True)
        if n <= args.max_gp_n:
            gp = GP(seed=args.seed, max_fit_seconds=args.gp_timeout)
            rows.append({"model": "GP", "threads": 1, **time_one(gp, n, args.seed)})
            print(rows[-1], flush=True)
    if args.threads_n:
        for k in (1, 2):
            row = time_one(DeepEnsemble(seed=args.seed, num_threads=k), args.threads_n, args.seed)
            rows.append({"model": "DeepEnsemble", "threads": k, **row})
            print(rows[-1], flush=True)
    for n in args.warm_ns:  # warm refit after 10% more data vs a cold fit on the same data
        g = torch.Generator().manual_seed(args.seed)
        X = torch.rand(n + n // 10, 7, generator=g, dtype=torch.float64)
        de = DeepEnsemble(seed=args.seed).fit(X[:n], objective7(X[:n]))
        t0 = time.perf_counter()
        de.fit(X, objective7(X), warm_start=True)
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        DeepEnsemble(seed=args.seed).fit(X, objective7(X))
        cold = time.perf_counter() - t0
        print(f"n={n} -> {n + n // 10}: warm refit {warm:.2f} s, cold fit {cold:.2f} s", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print("| model | threads | n | fit s | propose s | total s |\n|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['threads']} | {r['n']} | {r['fit_s']:.2f} | "
            f"{r['propose_s']:.2f} | {r['total_s']:.2f} |"
        )
    one = {(r["model"], r["n"]): r["total_s"] for r in rows if r["threads"] == 1}
    for n in args.ns:
        if ("GP", n) in one:
            print(
                f"n={n}: GP / DeepEnsemble total time = {one[('GP', n)] / one[('DeepEnsemble', n)]:.2f}"
            )
    for name in ("DeepEnsemble", "GP"):
        ns = [n for n in args.ns if (name, n) in one]
        for a, b in zip(ns[:-1], ns[1:], strict=True):
            print(
                f"{name}: n {a} -> {b} ({b / a:.0f}x data): time x{one[(name, b)] / one[(name, a)]:.1f}"
            )


if __name__ == "__main__":
    main()
