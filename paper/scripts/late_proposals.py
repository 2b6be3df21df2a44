"""Offline: what ``transfer`` and the GP propose from the same trials, part-way through a study.

For each LCBench task, tuning seed and FFE point, the completed trials of a committed-grid
``hyperpilot@transfer`` cell up to that point (``--bench``, a raw bench folder; budgets as the
fidelity input, as the ``fidelity`` data rule does) are given to both surrogates (``transfer``
with the task's related tasks, as the bench builds them; ``gp``), and each proposes a batch of
``q`` at the max budget with ``acquisition.propose_batch``. Printed per model (posterior
standard deviations in units of the targets' sd):

* ``dist_med`` / ``dist_min``: distance of the proposals to the incumbent (the best completed
  trial at the max budget) in the unit cube, median / nearest;
* ``sd_prop``: mean posterior sd at the proposals; ``sd_inc``: at the incumbent;
* ``sd_space``: median posterior sd over 1,024 uniform points at the max budget;
  ``sd_near`` / ``sd_far``: the same over the tenth nearest the incumbent / the half farthest.

This asks *why* the GP's incumbent still improves late in the 100-FFE grid more often than
``transfer``'s (``lead_readout.py``'s improvement table). One proposal per (task, seed, FFE):
an anecdote per row, not a measurement of the search.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/late_proposals.py --tasks 167152 126025 \\
        146212 --seeds 0 --ffe 30 60 --data-dir ../shared/data --bench runs/bench/h100-transfer
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from acquisition import propose_batch
from hyperpilot.bench.targets import bench_problem
from hyperpilot.methods.bo_data import budget_column
from hyperpilot.related import related_data, related_spec
from surrogates import make_surrogate


def trials_at(cell: pd.DataFrame, ffe: float, space: Any, fidelity: Any
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``X`` (``n x (d + 1)``, the budget column last), ``Y`` (``n x 1``, ``-loss``) of the
    completed trials up to ``ffe``, and the incumbent's row of ``X``."""
    done = cell[(cell["ffe"] <= ffe) & (cell["status"] == "complete")]
    enc = space.encode([json.loads(c) for c in done["config"]])
    z = [budget_column(b, fidelity.min, fidelity.max) for b in done["budget"]]
    X = torch.tensor(np.column_stack([enc, z]), dtype=torch.float64)
    Y = -torch.tensor(done["loss"].to_numpy(float), dtype=torch.float64)[:, None]
    full = torch.tensor((done["budget"] >= fidelity.max).to_numpy())
    return X, Y, X[full][Y[full].argmax()]


def compare(task: str, seed: int, ffe: float, data_dir: str, bench: Path, q: int
            ) -> list[dict[str, Any]]:
    """One row per model (``transfer``, ``gp``) for one task, seed and FFE point."""
    name = f"lcbench:{task}"
    cell = pd.read_parquet(bench / "cells" / f"hyperpilot@transfer__lcbench-{task}__s{seed}.parquet")
    prob = bench_problem(name, data_dir, seed)
    X, Y, inc = trials_at(cell, ffe, prob.space, prob.fidelity)
    d = X.shape[1]
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(torch.float64)
    bounds[0, -1] = 1.0  # the budget column held at the max budget
    pts = torch.rand(1024, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    pts[:, -1] = 1.0
    far = (pts[:, :-1] - inc[:-1]).norm(dim=1)
    related = related_data(related_spec(name, data_dir), prob.space, prob.fidelity, seed)
    ysd = float(Y.std())
    rows = []
    for model_name, options in (("transfer", {"related": related}), ("gp", {})):
        model = make_surrogate(model_name, seed=seed, options=options).fit(X, Y)
        P = propose_batch(model, bounds, q=q, seed=seed)
        with torch.no_grad():
            sd = model.posterior(pts[:, None, :]).variance.sqrt().squeeze(-1).squeeze(-1) / ysd
            sd_p = model.posterior(P[:, None, :]).variance.sqrt().mean() / ysd
            sd_i = model.posterior(inc[None, None, :]).variance.sqrt().squeeze() / ysd
        dist = (P[:, :-1] - inc[:-1]).norm(dim=1)
        rows.append({"task": task, "seed": seed, "ffe": ffe, "n": len(Y), "model": model_name,
                     "dist_med": float(dist.median()), "dist_min": float(dist.min()),
                     "sd_prop": float(sd_p), "sd_inc": float(sd_i),
                     "sd_space": float(sd.median()),
                     "sd_near": float(sd[far <= far.quantile(0.1)].median()),
                     "sd_far": float(sd[far > far.median()].median())})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--tasks", nargs="+", default=["167152", "126025", "146212"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--ffe", nargs="+", type=float, default=[30.0, 60.0])
    ap.add_argument("--q", type=int, default=4)
    ap.add_argument("--data-dir", required=True, help="the LCBench data (../shared/data)")
    ap.add_argument("--bench", type=Path, default=Path("runs/bench/h100-transfer"),
                    help="bench folder holding the hyperpilot@transfer cells")
    ap.add_argument("--out", type=Path, help="optional CSV of the rows")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = [r for t in a.tasks for s in a.seeds for f in a.ffe
            for r in compare(t, s, f, a.data_dir, a.bench, a.q)]
    df = pd.DataFrame(rows)
    if a.out:
        df.to_csv(a.out, index=False)
    print(df.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
