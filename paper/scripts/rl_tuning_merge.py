"""Add newly finished ``rl_tuning`` studies to a committed reference whose older stores are gone.

An ``rl_tuning`` grid runs for days on this machine, across sessions and sometimes machines, and
the study stores of its earlier presets do not always survive. The committed reference folder
(``runs/reference/full/rl_tuning``) keeps what the paper needs:

* ``result.csv.gz``: one row per test run (preset, method, tuning seed, test seed, return, ...);
* ``studies.csv.gz``: one row per study (trials, env steps, wall hours, share on extra seeds);
  written by this script, so references collected before it have none for their presets;
* ``summary.csv``: one row per preset x method, as ``rl_tuning.summarise`` computes it.

This script collects the finished studies of ``--presets`` from ``--runs`` (as ``rl_tuning.py
--no-run`` does), replaces the reference's rows of the same (preset, method, tuning seed), and
recomputes each touched preset's summary. The test columns (mean, interval, failures, steps to
the threshold) come from the test rows, over the tuning seeds tested for every method, as
always. The study columns come from ``studies.csv.gz`` where it holds every tested tuning seed of
the (preset, method); otherwise they stay what the old summary said (computed from the stores
when they existed), and the output names those rows. A study that is not finished, or whose
test is missing, is not merged (printed).

    OMP_NUM_THREADS=1 .venv/bin/python paper/scripts/rl_tuning_merge.py runs/reference/full/rl_tuning \\
        --presets lunarlander --runs runs/rl19 \\
        --methods hyperpilot@rff-kev:race hyperpilot@rff-kev random optuna-tpe-median
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rl_tuning import PRESETS, collect, summarise  # noqa: E402

from hyperpilot.paper import compact  # noqa: E402

KEY = ["preset", "method", "tuning_seed"]
STUDY_COLUMNS = ["tuning_seeds", "extra_seed_share", "study_steps_median", "actual_steps_median",
                 "trial_wall_h_median", "tuner_steps_to_median"]
"""Summary columns computed from study rows, not from test rows."""


def replace_rows(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` without the (preset, method, tuning seed) keys of ``new``, then ``new``."""
    if old.empty:
        return new.reset_index(drop=True)
    if new.empty:
        return old.reset_index(drop=True)
    gone = pd.MultiIndex.from_frame(new[KEY].drop_duplicates())
    keep = ~pd.MultiIndex.from_frame(old[KEY]).isin(gone)
    return pd.concat([old[keep], new], ignore_index=True)


def resummarise(preset: str, tests: pd.DataFrame, studies: pd.DataFrame,
                old_summary: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The summary rows of ``preset`` from its test rows and study rows.

    Args:
        preset: a key of ``rl_tuning.PRESETS``.
        tests: test rows of every preset (``result.csv.gz``'s columns).
        studies: study rows of every preset (``studies.csv.gz``'s columns); may lack some.
        old_summary: the reference's summary before the merge (may be empty).

    Returns:
        ``(rows, kept)``: one row per method (the old summary's order first), and the methods
        whose study columns were kept from ``old_summary`` because their study rows are missing.

    Raises:
        ValueError: a method with neither study rows for all its tested seeds nor an old row.
    """
    t = tests[tests["preset"] == preset]
    s = studies[studies["preset"] == preset] if len(studies) else studies
    old = old_summary[old_summary["preset"] == preset] if len(old_summary) else old_summary
    methods = list(dict.fromkeys([*old.get("method", []), *t["method"]]))
    rows, kept = [], []
    for m in methods:
        tm = t[t["method"] == m]
        sm = s[s["method"] == m] if len(s) else s
        seeds = set(tm["tuning_seed"])
        if len(sm) and seeds <= set(sm["tuning_seed"]):
            rows.append(sm)
            continue
        o = old[old["method"] == m] if len(old) else old
        if o.empty:
            raise ValueError(f"{preset} / {m}: tuning seeds {sorted(seeds)} have no study rows "
                             "and the old summary has no row to keep")
        kept.append(m)
        rows.append(pd.DataFrame({"method": m, "tuning_seed": sorted(seeds)}))
    placeholder = pd.concat(rows, ignore_index=True)
    for c in ("extra_seed_share", "study_steps", "actual_steps", "trial_wall_h", "tuner_steps_to"):
        if c not in placeholder:
            placeholder[c] = np.nan
    out = summarise(preset, PRESETS[preset], placeholder, t)
    for m in kept:
        o = old[old["method"] == m].iloc[0]
        for c in STUDY_COLUMNS:
            if c in out and c in o:
                out.loc[out["method"] == m, c] = o[c]
    return out, kept


def merge(ref: Path, presets: list[str], runs: Path, methods: list[str]) -> dict[str, object]:
    """Merge the finished, tested studies of ``presets`` under ``runs`` into ``ref`` (in place).

    Returns:
        What was done: rows added per preset, studies skipped, methods with kept study columns.
    """
    res, summ, stud = ref / "result.csv.gz", ref / "summary.csv", ref / "studies.csv.gz"
    tests = pd.read_csv(res) if res.exists() else pd.DataFrame(columns=KEY)
    summary = pd.read_csv(summ) if summ.exists() else pd.DataFrame(columns=["preset", "method"])
    studies = pd.read_csv(stud) if stud.exists() else pd.DataFrame(columns=KEY)
    done: dict[str, object] = {"added": {}, "skipped": [], "kept_study_columns": {}}
    for name in presets:
        p = PRESETS[name]
        st, te = collect(runs / name, methods, p["threshold"], p.get("value", "last"))
        if st.empty:
            raise SystemExit(f"no studies under {runs / name}")
        tested = set(zip(te["method"], te["tuning_seed"], strict=True)) if len(te) else set()
        ok = st["finished"].astype(bool) & np.array(
            [(m, s) in tested for m, s in zip(st["method"], st["tuning_seed"], strict=True)], bool)
        done["skipped"] += [f"{name}/{m}-s{s}" for m, s in
                            zip(st.loc[~ok, "method"], st.loc[~ok, "tuning_seed"], strict=True)]
        if not ok.any():
            continue
        st = st[ok].drop(columns=["trace"]).assign(preset=name)
        te = te.merge(st[["method", "tuning_seed"]], on=["method", "tuning_seed"])
        te = te.drop(columns=["curve"]).assign(preset=name, env=p["env"])
        tests, studies = replace_rows(tests, te), replace_rows(studies, st)
        rows, kept = resummarise(name, tests, studies, summary)
        summary = pd.concat([summary[summary["preset"] != name], rows], ignore_index=True)
        done["added"][name] = {"studies": len(st), "test_runs": len(te)}  # type: ignore[index]
        done["kept_study_columns"][name] = kept  # type: ignore[index]
    if not done["added"]:
        return done  # nothing finished: the reference stays as it was
    order = list(dict.fromkeys([*pd.read_csv(summ)["preset"], *presets])) if summ.exists() else presets
    summary = summary.assign(_o=summary["preset"].map(order.index)).sort_values("_o", kind="stable")
    compact.write_csv(tests, res)
    compact.write_csv(studies, stud)
    compact.write_csv(summary.drop(columns="_o"), summ)
    meta_path = ref / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"runs": []}
    meta.setdefault("runs", []).append({
        "merged": time.strftime("%Y-%m-%dT%H:%M", time.gmtime()), "presets": presets,
        "runs_dir": str(runs), "methods": methods, **done})
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref", type=Path, help="the reference folder (result.csv.gz, summary.csv)")
    ap.add_argument("--presets", nargs="+", required=True, choices=list(PRESETS))
    ap.add_argument("--runs", type=Path, required=True, help="study folders: RUNS/<preset>/")
    ap.add_argument("--methods", nargs="+", required=True)
    a = ap.parse_args()
    if not a.ref.is_dir():
        ap.error(f"{a.ref} is not a folder")
    print(json.dumps(merge(a.ref, a.presets, a.runs, a.methods), indent=2))


if __name__ == "__main__":
    main()
