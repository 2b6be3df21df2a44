"""The tidy trials table: one row per evaluation, the same columns for our methods and peers.

Columns (units): ``method, benchmark, seed`` (the cell); ``trial_index`` (order told);
``config_id``; ``config`` (JSON); ``budget, resume_budget`` (fidelity units); ``spent`` (budget
this trial trained for: ``budget - resume_budget``, or up to where a stopped run was stopped);
``ffe`` (cumulative full-fidelity equivalents, sum(spent) / max, as the study counts them);
``status`` (complete / failed /
stopped); ``value`` (user's direction); ``loss`` (smaller is better); ``incumbent_value`` and
``incumbent_loss`` (best at the max budget so far, NaN before the first one); ``regret``
(incumbent_value - optimum, NaN when no optimum is known); ``overhead_s`` (optimizer seconds for
this proposal); ``wall_s`` (objective seconds); ``cost`` (the objective's own cost) and
``cum_cost``; ``elapsed_s`` (cumulative overhead + wall); ``source`` (model / random / promotion /
fallback / ...); ``fallback``, ``stopped`` (bool); ``reason`` (failure text).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot.study import spent
from hyperpilot.trial import Result, Status

COLUMNS = ["method", "benchmark", "seed", "trial_index", "config_id", "config", "budget",
           "resume_budget", "spent", "ffe", "status", "value", "loss", "incumbent_value", "incumbent_loss",
           "regret", "overhead_s", "wall_s", "cost", "cum_cost", "elapsed_s", "source", "fallback",
           "stopped", "reason"]


def rows_from_results(results: list[Result]) -> list[dict[str, Any]]:
    """Rows for a ``Study``'s results, in the order they were told."""
    rows = []
    for i, r in enumerate(results):
        t = r.trial
        rows.append({"trial_index": i, "config_id": t.config_id,
                     "config": json.dumps(t.config, sort_keys=True, default=str),
                     "budget": t.budget, "resume_budget": t.resume_budget,
                     "spent": spent(r), "status": r.status.value, "value": r.value,
                     "overhead_s": float(t.info.get("overhead_s", math.nan)),
                     "wall_s": r.wall_time, "cost": r.cost,
                     "source": str(t.info.get("source", "")),
                     "fallback": bool(t.info.get("fallback", False)),
                     "stopped": r.status == Status.STOPPED, "reason": r.reason})
    return rows


def finish_table(rows: list[dict[str, Any]], method: str, benchmark: str, seed: int,
                 direction: str, max_budget: float, optimum: float | None) -> pd.DataFrame:
    """Add the cell keys and the cumulative columns; returns a frame with exactly ``COLUMNS``."""
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                     ("method", "benchmark", "seed", "ffe", "loss",
                                      "incumbent_value", "incumbent_loss", "regret", "cum_cost",
                                      "elapsed_s")])
    sign = 1.0 if direction == "minimize" else -1.0
    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["value"] = value
    df["loss"] = sign * value
    full_cost = df["budget"] - df["resume_budget"]
    df["spent"] = pd.to_numeric(df["spent"], errors="coerce").astype(float).fillna(full_cost)
    df["ffe"] = (df["spent"] / max_budget).cumsum()
    full = (df["status"] == "complete") & (df["budget"] >= max_budget * (1 - 1e-9))
    inc = df["loss"].where(full).cummin().ffill()  # cummin leaves NaN where not full
    df["incumbent_loss"] = inc
    df["incumbent_value"] = sign * inc
    df["regret"] = df["incumbent_value"] - optimum if optimum is not None else np.nan
    for c in ("overhead_s", "wall_s", "cost"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["cum_cost"] = df["cost"].fillna(0.0).cumsum()
    df["elapsed_s"] = (df["overhead_s"].fillna(0.0) + df["wall_s"].fillna(0.0)).cumsum()
    df["fallback"] = df["fallback"].astype(bool)
    df["stopped"] = df["stopped"].astype(bool)
    df["method"], df["benchmark"], df["seed"] = method, benchmark, int(seed)
    df["reason"] = df["reason"].astype("string")
    df["source"] = df["source"].astype(str)
    return df[COLUMNS]
