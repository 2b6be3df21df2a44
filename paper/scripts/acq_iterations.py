"""What the acquisition's L-BFGS-B iterations buy: the q-LogEI a proposal reaches, and its time.

Issue 18's cost goal is fit plus ``propose_batch(q=8, d=7)`` at n = 2,000 within 1 s. Most of
a proposal is L-BFGS-B iterations over the q-LogEI of the batch (``transfer_readout_cost.py``
counts them). For every surrogate, n, seed and ``--maxiter`` value, this fits the surrogate on
``surrogate_cost``'s objective (and, for ``transfer``, its related tasks) and proposes 8 points
with the BO methods' own restarts and raw samples (``surrogate_cost.proposal_options("method")``),
capped at that many iterations. Each batch is scored by the same q-LogEI with other MC base
samples (seed ``seed + 99``), so the score does not reward fitting the optimiser's own samples.

Prints, per surrogate x n x maxiter, the median propose wall and CPU seconds and the median and
worst change of the score against the largest ``--maxiter`` on the same fit (log units: -0.01
is 1% less expected improvement); writes one row per call to ``--out``. One thread.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/acq_iterations.py --surrogates transfer \\
        gp-capped --ns 500 2000 --seeds 0-4 --maxiter 100 50 25 --out runs/cost/acq_iterations.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import surrogate_cost as sc  # noqa: E402
from surrogate_common import objective7, records_markdown, write_csv  # noqa: E402

from acquisition import make_acqf, propose_batch  # noqa: E402
from surrogates import make_surrogate, surrogate_spec  # noqa: E402


def score_batches(name: str, n: int, seed: int, maxiters: Sequence[int]) -> list[dict[str, Any]]:
    """One fit of ``name`` on ``n`` points; for each ``maxiter`` a batch of 8, its propose wall
    and CPU seconds and its q-LogEI under independent base samples (``score``, log units)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 7, generator=g, dtype=torch.float64)
    Y = objective7(X)
    options = {"related": sc.related7()} if surrogate_spec(name).related else {}
    model = make_surrogate(name, seed=seed, options=options).fit(X, Y)
    judge = make_acqf(model, seed=seed + 99)
    base = sc.proposal_options("method")
    rows = []
    for m in maxiters:
        t0, c0 = time.perf_counter(), time.process_time()
        cand = propose_batch(model, q=8, seed=seed, options=dataclasses.replace(base, maxiter=m))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        with torch.no_grad():
            score = float(judge(cand.unsqueeze(0)))
        rows.append({"surrogate": name, "n": n, "seed": seed, "maxiter": m,
                     "propose_s": seconds, "propose_cpu_s": cpu, "score": score})
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per surrogate x n x maxiter: median propose wall and CPU seconds, median and worst
    (lowest) score change against the largest maxiter of the same (surrogate, n, seed), and the
    number of seeds."""
    top = max(r["maxiter"] for r in rows)
    ref = {(r["surrogate"], r["n"], r["seed"]): r["score"] for r in rows if r["maxiter"] == top}
    groups: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["surrogate"], r["n"], r["maxiter"]), []).append(r)
    def median(values: Sequence[float]) -> float:
        return float(torch.tensor(values).median())

    out = []
    for (name, n, m), rs in groups.items():
        diffs = [r["score"] - ref[(name, n, r["seed"])] for r in rs]
        out.append({"surrogate": name, "n": n, "maxiter": m,
                    "propose_s": median([r["propose_s"] for r in rs]),
                    "propose_cpu_s": median([r["propose_cpu_s"] for r in rs]),
                    "score_change_median": median(diffs),
                    "score_change_worst": min(diffs), "seeds": len(rs)})
    return out


def seed_range(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``; ``"3"`` -> ``[3]``."""
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--surrogates", nargs="+", default=["transfer", "gp-capped"])
    ap.add_argument("--ns", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--seeds", type=seed_range, default=seed_range("0-4"))
    ap.add_argument("--maxiter", type=int, nargs="+", default=[100, 50, 25])
    ap.add_argument("--out", default="runs/cost/acq_iterations.csv")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name in args.surrogates:
        for n in args.ns:
            for seed in args.seeds:
                rows += score_batches(name, n, seed, args.maxiter)
                print(rows[-1], flush=True)
    write_csv(rows, args.out)
    cols = ["surrogate", "n", "maxiter", "propose_s", "propose_cpu_s", "score_change_median",
            "score_change_worst", "seeds"]
    print(records_markdown(summary(rows), cols, digits=4))


if __name__ == "__main__":
    main()
