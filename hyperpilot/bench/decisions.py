"""The pruners' stop decisions of a bench folder, for the report.

Our methods' cells keep their study in ``studies/<cell>.sqlite`` and every pruner decision
with its reason in it (``Storage.load_decisions``); peers keep none. Read-only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyperpilot.bench.analysis import CELL


def decisions_table(out: Path, df: pd.DataFrame, n_reasons: int = 1) -> pd.DataFrame:
    """Per method, benchmark, decider and action: how many decisions over the seeds of ``df``'s
    cells, how many of them an empirical curve model left to its parametric fallback, and the
    latest reason given (the first ``n_reasons``, newest first).

    Args:
        out: the bench folder.
        df: the report's trials (its ``method``, ``benchmark``, ``seed`` cells are read).

    Returns:
        Columns method, benchmark, by, action, n, fallback, cells, reason; empty when no cell
        has a store with decisions.
    """
    from hyperpilot.bench.grid import Cell
    from hyperpilot.pruners.curve import FALLBACK_NOTE
    from hyperpilot.storage import Storage

    rows = []
    for method, bench, seed in df[CELL].drop_duplicates().itertuples(index=False):
        key = Cell(str(method), str(bench), int(seed)).key
        db = out / "studies" / f"{key}.sqlite"
        if not db.is_file():
            continue
        st = Storage(db, read_only=True)
        try:
            sid = next((s["study_id"] for s in st.studies() if s["name"] == key), None)
            ds = [] if sid is None else st.load_decisions(sid)
        finally:
            st.close()
        rows += [{"method": method, "benchmark": bench, "seed": seed, "by": d["by"],
                  "action": d["action"], "reason": d["reason"]} for d in ds]
    if not rows:
        return pd.DataFrame()
    d = pd.DataFrame(rows)
    g = d.groupby(["method", "benchmark", "by", "action"], sort=True)
    return pd.DataFrame({"n": g.size(),
                         "fallback": g["reason"].agg(lambda r: int(r.str.endswith(FALLBACK_NOTE).sum())),
                         "cells": g["seed"].nunique(),
                         "reason": g["reason"].agg(lambda r: " | ".join(
                             list(r)[::-1][:n_reasons]))}).reset_index()


__all__ = ["decisions_table"]
