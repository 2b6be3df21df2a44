"""One table of the stopping-rule runs of issue 19 (``runs/reference/full/stopping_rules``).

Reads each run folder's bench-report tables (``compute_saved.csv``, ``false_stops_pooled.csv``,
``decisions.csv``, ``mean_rank.md``) and writes ``summary.csv``: one row per run and method with
the rule's settings (from ``stop_variants.SETTINGS`` and the library's variants), runs stopped,
false stops among those re-evaluated, the share of the training budget saved, the stops the
study-trained model decided itself (not its parametric fallback) and the method's mean rank of
final regret at the run's last budget. Prints it as a Markdown table.

    .venv/bin/python paper/scripts/stopping_summary.py runs/reference/full/stopping_rules
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stop_variants import SETTINGS  # noqa: E402

from hyperpilot.bench.tables import to_markdown  # noqa: E402
from hyperpilot.methods import VARIANTS  # noqa: E402
from hyperpilot.stopping import StopRule  # noqa: E402


def rule_of(method: str) -> dict[str, object]:
    """``hyperband:<variant>`` -> the StopRule's model, threshold, patience and min_fraction."""
    _, _, variant = method.partition(":")
    if not variant:
        return {"model": "none"}
    opts = SETTINGS.get(variant) or VARIANTS[variant]["stop_rule"]
    r = StopRule(**opts)
    return {"model": r.model, "threshold": r.threshold, "patience": r.patience,
            "min_fraction": r.min_fraction}


def _ranks(path: Path) -> dict[str, float]:
    rows = [ln.strip("|").split("|") for ln in path.read_text().splitlines()[2:] if ln.startswith("|")]
    return {r[0].strip(): float(r[-1]) for r in rows}


def summarise(ref: Path) -> pd.DataFrame:
    """The table, one row per run folder under ``ref`` and method."""
    out = []
    for run in sorted(p for p in ref.iterdir() if (p / "compute_saved.csv").exists()):
        saved = pd.read_csv(run / "compute_saved.csv").set_index("method")
        fs = pd.read_csv(run / "false_stops_pooled.csv")
        fs = fs[fs["kind"] == "stopped"].set_index("method")
        dec = pd.read_csv(run / "decisions.csv")
        dec = dec[dec["action"] == "stop"].groupby("method")[["n", "fallback"]].sum()
        ranks = _ranks(run / "mean_rank.md")
        for m in saved.index:
            row = {"run": run.name, "method": m, **rule_of(m), "stopped": int(saved.loc[m, "stopped"]),
                   "false": int(fs.loc[m, "false"]) if m in fs.index else 0,
                   "evaluated": int(fs.loc[m, "evaluated"]) if m in fs.index else 0,
                   "saved": float(saved.loc[m, "stop_saved"]), "mean_rank": ranks.get(m)}
            if row["model"] in ("gain", "bnn") and m in dec.index:
                row["model_decided_stops"] = int(dec.loc[m, "n"] - dec.loc[m, "fallback"])
            out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref", type=Path, help="the folder of run folders")
    a = ap.parse_args()
    t = summarise(a.ref)
    t.to_csv(a.ref / "summary.csv", index=False, float_format="%.6g")
    print(to_markdown(t))


if __name__ == "__main__":
    main()
