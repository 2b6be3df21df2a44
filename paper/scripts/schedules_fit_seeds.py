"""One row per (fit seed, learned controller): how each independently fitted controller does on
the held-out tasks against ``plateau`` and the tuned ``static`` config.

Reads the ``summary.csv`` and ``paired.csv`` that ``python -m hyperpilot.bench schedules`` wrote
in each folder (one folder per ``--fit-seed``)::

    python paper/scripts/schedules_fit_seeds.py runs/schedules/heldout-v1 \\
        runs/schedules/heldout-v1-fit1 runs/schedules/heldout-v1-fit2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def table(folders: list[Path]) -> pd.DataFrame:
    """Per folder and learned controller: mean log(loss / plateau median) with its CI, and the
    paired wins-losses (sign-test p) against plateau and against static, over all tasks."""
    rows = []
    for f in folders:
        seed = json.loads((f / "config.json").read_text())["fit_seed"] if (
            f / "config.json").exists() else 0
        s = pd.read_csv(f / "summary.csv").query("task == 'all'").set_index("controller")
        p = pd.read_csv(f / "paired.csv").query("task == 'all'")
        for c in ("reinforce-lrwd", "rl-controller", "static"):
            if c not in s.index:
                continue
            row = {"folder": f.name, "fit_seed": seed, "controller": c,
                   "log_rel_mean": s.loc[c, "log_rel_mean"],
                   "ci": f"[{s.loc[c, 'log_rel_mean_lo']:.3f}, {s.loc[c, 'log_rel_mean_hi']:.3f}]",
                   "val_acc_mean": s.loc[c, "val_acc_mean"]}
            for ref in ("plateau", "static"):
                m = p[(p.controller == c) & (p.vs == ref)]
                if len(m):
                    r = m.iloc[0]
                    row[f"vs_{ref}"] = f"{r.wins}-{r.losses} (p={r.p:.3g})"
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    df = table(ap.parse_args().folders)
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r] for r in df.to_numpy()]
    print("| " + " | ".join(df.columns) + " |\n" + "|---" * len(df.columns) + "|")
    print("\n".join("| " + " | ".join(r) + " |" for r in cells))


if __name__ == "__main__":
    main()
