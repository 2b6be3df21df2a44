"""PBT, PB2 and PB2-BNN against static tuners on the MLP (issue 21): equal epochs, fresh test seeds.

For each tuning seed, dataset and method, a study tunes the torch MLP
(``hyperpilot.workloads.supervised``, fidelity 1..27 epochs) for ``--budget`` full-fidelity
equivalents (FFE; 8 FFE = 216 epochs, one PBT round of 8 members), then its incumbent (for the
population methods: the final best member's schedule, inherited history included) is retrained
from scratch at 27 epochs on ``--test-seeds`` fresh seeds (10000 and up, never used in tuning;
``hyperpilot.incumbent.evaluate_incumbent``). One JSON per cell in ``OUT/studies`` (a finished cell
is skipped when run again; a killed one resumes from its study store), then ``OUT/table.md``,
``OUT/summary.csv`` (the table) and ``OUT/schedules.png``.

Value: 1 - accuracy on the validation split (what was tuned) and on the held-out test split,
both as the mean over the test seeds; wall time of tuning and of the test runs, per cell.

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/schedules_pbt.py \\
        --datasets breast_cancer,digits --seeds 3 --out runs/schedules_pbt
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

POPULATION = ("pbt", "pb2", "pb2-bnn")


def run_cell(out: Path, method: str, dataset: str, seed: int, args: argparse.Namespace) -> dict:
    import torch

    from hyperpilot.incumbent import evaluate_incumbent
    from hyperpilot.problems import resolve_problem
    from hyperpilot.study import Study

    torch.set_num_threads(1)
    spec: dict[str, Any] = {"workload": f"supervised:{dataset}",
                            "workload_options": {"max_epochs": args.max_epochs}}
    problem = resolve_problem(workload=spec["workload"], workload_options=spec["workload_options"])
    from hyperpilot.methods import parse_method

    opts = ({"population": args.population, "interval": args.interval}
            if parse_method(method).base in POPULATION else None)  # pb2-bnn@<surrogate> too
    key = f"{method}__{dataset}__s{seed}"
    (out / "studies").mkdir(parents=True, exist_ok=True)
    study = Study(problem.space, problem.fidelity, method, seed=seed,
                  storage=out / "studies" / f"{key}.sqlite", name=key, method_options=opts,
                  problem=spec)
    t0 = time.time()
    study.run(problem.objective, budget=args.budget)
    tune_s = time.time() - t0
    inc = study.incumbent()
    assert inc is not None, f"{key}: no complete trial"
    t1 = time.time()
    ev = evaluate_incumbent(problem, inc.config, spec, args.test_seeds)
    res = study.results
    return {"method": method, "dataset": dataset, "seed": seed, "tuning_value": inc.value,
            "test_val_mean": ev["mean"], "test_val_std": ev["std"], "test_vals": ev["values"],
            "test_split_mean": ev.get("test_mean"), "test_split": ev.get("test_values"),
            "tune_wall_s": tune_s, "test_wall_s": time.time() - t1,
            "overhead_s": float(sum(r.trial.info.get("overhead_s", 0.0) for r in res)),
            "trials": len(res), "ffe": study.budget_used(), "fallbacks": study.method.fallbacks,
            "failed": sum(r.status.value == "failed" for r in res), "config": inc.config}


def table(cells: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(cells)
    g = df.groupby(["dataset", "method"])
    out = g.agg(seeds=("seed", "nunique"), val=("test_val_mean", "mean"),
                val_sd=("test_val_mean", "std"), test=("test_split_mean", "mean"),
                test_sd=("test_split_mean", "std"), tuning=("tuning_value", "mean"),
                tune_min=("tune_wall_s", lambda s: s.mean() / 60),
                test_min=("test_wall_s", lambda s: s.mean() / 60),
                overhead_s=("overhead_s", "mean"), fallbacks=("fallbacks", "sum"))
    return out.reset_index().sort_values(["dataset", "val"])


def schedule_figure(cells: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperpilot.schedule import is_schedule, points

    rows = [(c["dataset"], c["method"], c["seed"], k, points(v)) for c in cells
            for k, v in c["config"].items() if is_schedule(v)]
    if not rows:
        return
    datasets = sorted({d for d, _, _, _, _ in rows})
    params = sorted({k for _, _, _, k, _ in rows})
    from hyperpilot.methods import parse_method

    colors = {"pbt": "tab:green", "pb2": "tab:orange", "pb2-bnn": "tab:purple",
              "pb2-bnn@laplace-warp": "tab:pink"}  # pb2-bnn's explore model until 2026-12-06
    fig, axes = plt.subplots(len(datasets), len(params), figsize=(3.4 * len(params),
                                                                  2.6 * len(datasets)),
                             squeeze=False)
    for (r, d), (c, k) in ((rd, ck) for rd in enumerate(datasets) for ck in enumerate(params)):
        ax = axes[r][c]
        for dd, m, s, kk, pts in rows:
            if (dd, kk) != (d, k):
                continue
            xs = [p[0] for p in pts] + [27.0]
            ys = [p[1] for p in pts] + [pts[-1][1]]
            ax.step(xs, ys, where="post", color=colors.get(m, colors.get(parse_method(m).base)),
                    alpha=0.8,
                    label=m if s == 0 else None)
        if not ax.lines:  # no incumbent on this dataset made this parameter a schedule
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{d}: no {k} schedule", ha="center", va="center", fontsize=8,
                    transform=ax.transAxes)
            continue
        if k in ("learning_rate", "weight_decay"):
            ax.set_yscale("log")
        ax.set_title(f"{d}: {k}", fontsize=8)
        ax.set_xlabel("epoch", fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="breast_cancer,digits")
    ap.add_argument("--methods", default="pbt,pb2,pb2-bnn,hyperpilot,random")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=8.0)
    ap.add_argument("--max-epochs", type=int, default=27)
    ap.add_argument("--population", type=int, default=8)
    ap.add_argument("--interval", type=float, default=3.0)
    ap.add_argument("--test-seeds", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("runs/schedules_pbt"))
    args = ap.parse_args()
    cdir = args.out / "studies"  # not "cells", which marks a bench folder
    cdir.mkdir(parents=True, exist_ok=True)
    for seed in range(args.seeds):
        for dataset in args.datasets.split(","):
            for method in args.methods.split(","):
                f = cdir / f"{method}__{dataset}__s{seed}.json"
                if f.exists():
                    continue
                cell = run_cell(args.out, method, dataset, seed, args)
                f.write_text(json.dumps(cell, indent=1, default=float) + "\n")
                print(f"{f.stem}: val {cell['test_val_mean']:.4f} test "
                      f"{cell['test_split_mean']:.4f} tune {cell['tune_wall_s']:.0f} s "
                      f"test {cell['test_wall_s']:.0f} s", flush=True)
    cells = [json.loads(p.read_text()) for p in sorted(cdir.glob("*.json"))]
    t = table(cells)
    t.to_csv(args.out / "summary.csv", index=False)
    from hyperpilot.bench.tables import to_markdown

    (args.out / "table.md").write_text(to_markdown(t.round(4)) + "\n")
    print(t.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    schedule_figure(cells, args.out / "schedules.png")


if __name__ == "__main__":
    main()
