"""Held-out quality of the registered surrogates, over the whole space and at the incumbent.

Every surrogate named (``--surrogates``, default: every name in ``surrogates.SURROGATES``, built
by ``make_surrogate`` with its default options) is fitted on ``n`` random points and scored on
``--n-test`` held-out points: RMSE, Gaussian NLL (moment-matched), coverage of the central 90%
interval and Spearman's rho, once over all held-out points and once (``top10_*``) over the best
10% of them by true value, where the acquisition acts. Tasks: Hartmann-6 (negated, maximised)
and, with ``--lcbench TASK ...``, LCBench development tasks at the final epoch (``-value``,
maximised; ``dev`` = all ten). Exact GPs above ``--max-gp-n`` are skipped (``gp-capped`` runs at
every n). Writes a CSV (one row per task x surrogate x n x seed, with ``status``) and prints a
markdown table of medians over seeds.

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/surrogate_quality.py \
        --seeds 0 1 2 --lcbench 3945 7593 --out runs/paper/surrogate_quality.csv
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from surrogate_common import (  # noqa: E402
    hartmann_split,
    heldout_metrics,
    records_markdown,
    summarize,
    surrogate_names,
    write_csv,
)

from hyperpilot.benchmarks import LCBENCH_DEV_TASKS  # noqa: E402
from surrogates import FitError, make_surrogate  # noqa: E402

EXACT_GPS = ("gp",)
"""Surrogates whose fit grows as n^3 without a cap: skipped above ``--max-gp-n``."""
METRICS = ["rmse", "nll", "cov90", "spearman"]
COLUMNS = [*METRICS, *(f"top10_{m}" for m in METRICS)]
LCBENCH_DEV = [str(t) for t in LCBENCH_DEV_TASKS]  # the other 24 tasks are held out

Split = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def lcbench_tasks(ids: Sequence[str]) -> list[str]:
    """Development task ids (``dev``: all ten) as ``lcbench:<id>`` names.

    Raises:
        ValueError: for an id that is not a development task (held-out tasks stay unseen).
    """
    out: list[str] = []
    for t in ids:
        for tid in LCBENCH_DEV if t == "dev" else [t]:
            if tid not in LCBENCH_DEV:
                raise ValueError(f"LCBench task {tid} is not a development task (held out for "
                                 f"evaluation); use one of {', '.join(LCBENCH_DEV)} or 'dev'")
            out.append(f"lcbench:{tid}")
    return list(dict.fromkeys(out))


def lcbench_split(task: str, n: int, n_test: int, seed: int, data_dir: str | None) -> Split:
    """Random configs of an LCBench task, encoded, with ``-value`` at the final epoch (maximise)."""
    from hyperpilot.benchmarks import get_benchmark

    bench = get_benchmark(task, data_dir=data_dir, seed=seed)
    configs = bench.space.sample(n + n_test, np.random.default_rng(seed))
    budget = float(bench.fidelity.max)
    vals = [bench(c, budget, 0.0, None)[0] for c in configs]
    X = torch.as_tensor(np.asarray(bench.space.encode(configs)), dtype=torch.float64)
    Y = -torch.tensor(vals, dtype=torch.float64).unsqueeze(-1)
    return X[:n], Y[:n], X[n:], Y[n:]


def skip_reason(name: str, n: int, max_gp_n: int | None) -> str | None:
    """Why ``name`` is not fitted at ``n`` (None: it is)."""
    if name in EXACT_GPS and max_gp_n is not None and n > max_gp_n:
        return f"skipped: exact GP at n > --max-gp-n {max_gp_n}"
    return None


def score(name: str, split: Split, seed: int) -> dict[str, Any]:
    """Fit ``name`` on the training part of ``split`` and score it on the held-out part."""
    Xtr, Ytr, Xte, Yte = split
    model = make_surrogate(name, seed=seed)
    t0 = time.perf_counter()
    try:
        model.fit(Xtr, Ytr)
    except FitError as e:  # counted in the table, never replaced by another model
        return {"status": "failed", "note": f"fit failed: {e}"[:200],
                "fit_s": time.perf_counter() - t0}
    secs = time.perf_counter() - t0
    with torch.no_grad():
        post = model.posterior(Xte)
        m = heldout_metrics(post.mean, post.variance, Yte)
    return {"status": "ok", "note": "", "fit_s": secs,
            "fit_warnings": len(model.fit_info.get("warnings", [])), **m}


def evaluate(task: str, split: Split, n: int, seed: int, names: Sequence[str],
             max_gp_n: int | None) -> list[dict[str, Any]]:
    """One row per surrogate: ``task, surrogate, n, seed, status, note``, fit time, metrics."""
    rows = []
    for name in names:
        reason = skip_reason(name, n, max_gp_n)
        out = {"status": "skipped", "note": reason} if reason else score(name, split, seed)
        blank = dict.fromkeys(["fit_s", "fit_warnings", *COLUMNS], math.nan)
        rows.append({"task": task, "surrogate": name, "n": n, "seed": seed, **blank, **out})
        shown = {k: round(out[k], 3) for k in COLUMNS if k in out}
        print(task, n, seed, name, out["status"], f"{out.get('fit_s', 0):.1f}s", shown,
              out["note"], flush=True)
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown: task x n x surrogate, medians over seeds of the metrics and fit seconds."""
    recs = summarize(rows, ["task", "n", "surrogate"], [*COLUMNS, "fit_s"])
    tasks = list(dict.fromkeys(r["task"] for r in recs))
    recs.sort(key=lambda r: (tasks.index(r["task"]), r["n"]))  # stable: surrogates in run order
    return records_markdown(recs, ["task", "n", "surrogate", *COLUMNS, "fit_s", "runs", "note"])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--surrogates", nargs="+", default=None,
                    help="registered names, comma-separated (default: all)")
    ap.add_argument("--ns", type=int, nargs="+", default=[20, 50, 200, 1000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--max-gp-n", type=int, default=None, help="skip exact GPs above this n")
    ap.add_argument("--no-hartmann", action="store_true")
    ap.add_argument("--lcbench", nargs="*", default=[],
                    help="LCBench development task ids, or 'dev' for all ten")
    ap.add_argument("--data-dir", default=None, help="data directory (else $HYPERPILOT_DATA)")
    ap.add_argument("--out", default="runs/paper/surrogate_quality.csv")
    args = ap.parse_args(argv)
    names, tasks = surrogate_names(args.surrogates), lcbench_tasks(args.lcbench)
    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []
    for n in args.ns:
        for seed in args.seeds:
            if not args.no_hartmann:
                split = hartmann_split(n, args.n_test, seed)
                rows += evaluate("hartmann6", split, n, seed, names, args.max_gp_n)
            for task in tasks:
                split = lcbench_split(task, n, args.n_test, seed, args.data_dir)
                rows += evaluate(task, split, n, seed, names, args.max_gp_n)
    write_csv(rows, args.out)
    print(table(rows))


if __name__ == "__main__":
    main()
