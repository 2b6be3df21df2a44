"""Sampler parity (issue 22): ``HyperPilotSampler`` inside Optuna against native ``hyperpilot``
and Optuna's TPE, on two LCBench development tasks and Hartmann-6.

Runs the bench grid (unless ``--no-run``), its report, and prints the parity table: median
regret [25%, 75%] over seeds per benchmark at each budget, and the paired sign test of native
``hyperpilot`` against each Optuna method (from the report's tables).

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python paper/scripts/sampler_parity.py \\
        --seeds 5 --budget 20 --out runs/bench/parity-i22

The three: ``hyperpilot`` (our Hyperband with the curve rule, batches of ``--batch-size``),
``optuna-hyperpilot-hyperband`` (``HyperPilotSampler("hyperpilot")`` with Optuna's
``HyperbandPruner``, one trial at a time) and ``optuna-tpe-hyperband`` (``TPESampler`` with the
same pruner), each in its own multi-fidelity scheme (``hyperpilot.bench.peers.optuna_peer``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

METHODS = "hyperpilot,optuna-hyperpilot-hyperband,optuna-tpe-hyperband"
BENCHMARKS = "lcbench:3945,lcbench:7593,hartmann6"


def table(report: Path) -> str:
    """The parity table in Markdown, from a bench report folder."""
    reg = pd.read_csv(report / "tables" / "final_regret_long.csv")
    lines = []
    for ffe, g in reg.groupby("ffe"):
        benches = sorted(g["benchmark"].unique())
        lines += [f"Regret at {ffe:g} FFE, median [25%, 75%] over seeds:", "",
                  "| method | " + " | ".join(benches) + " |", "|---" * (len(benches) + 1) + "|"]
        for m in METHODS.split(","):
            cells = []
            for b in benches:
                r = g[(g["method"] == m) & (g["benchmark"] == b)].iloc[0]
                cells.append(f"{r['median']:.3f} [{r['q25']:.3f}, {r['q75']:.3f}]")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    paired = pd.read_csv(report / "tables" / "paired.csv")
    lines += ["Native hyperpilot against each (wins/losses/ties over benchmark-seed pairs, "
              "two-sided sign test):", "", "| " + " | ".join(paired.columns) + " |",
              "|---" * len(paired.columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in paired.itertuples(False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="5")
    ap.add_argument("--budget", default="20")
    ap.add_argument("--batch-size", default="4")
    ap.add_argument("--data-dir", default="/work/shared/data")
    ap.add_argument("--out", type=Path, default=Path("runs/bench/parity-i22"))
    ap.add_argument("--no-run", action="store_true", help="only report an existing folder")
    args = ap.parse_args()
    py = sys.executable
    if not args.no_run:
        subprocess.run([py, "-m", "hyperpilot.bench", "run", "--methods", METHODS,
                        "--benchmarks", BENCHMARKS, "--seeds", args.seeds, "--budget", args.budget,
                        "--batch-size", args.batch_size, "--workers", "1", "--data-dir",
                        args.data_dir, "--quiet", "--out", str(args.out)], check=True)
    subprocess.run([py, "-m", "hyperpilot.bench", "report", str(args.out), "--at",
                    f"10,{args.budget}"], check=True)
    text = table(args.out / "report")
    (args.out / "parity.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
