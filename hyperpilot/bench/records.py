"""The tidy trials table: one row per evaluation, the same columns for our methods and peers.

Columns (units): ``method, benchmark, seed`` (the cell); ``trial_index`` (order told);
``config_id``; ``config`` (JSON); ``budget, resume_budget`` (fidelity units); ``spent`` (budget
this trial trained for: ``budget - resume_budget``, or up to where a stopped run was stopped);
``ffe`` (cumulative full-fidelity equivalents, sum(spent) / max, as the study counts them);
``status`` (complete / failed /
stopped); ``value`` (user's direction); ``loss`` (smaller is better); ``incumbent_value`` and
``incumbent_loss`` (best at the max budget so far, NaN before the first one; with racing the
incumbent rule's, ``hyperpilot.selection``: the best mean over seeds) and ``incumbent_config``
(its config, JSON); ``regret``
(incumbent_value - optimum, NaN when no optimum is known); ``overhead_s`` (optimizer seconds for
this proposal); ``wall_s`` (objective seconds); ``cost`` (the objective's own cost) and
``cum_cost``; ``elapsed_s`` (cumulative overhead + wall); ``source`` (model / random / promotion /
fallback / race / ...); ``fallback``, ``stopped`` (bool); ``reason`` (failure text).
Cells written before ``incumbent_config`` existed read it as missing.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from hyperpilot.selection import IncumbentRule, ModelContext, trace
from hyperpilot.trial import Result, Status, spent

CELL = ["method", "benchmark", "seed"]
"""The columns that name a cell (one study): every table of the bench groups by them."""

COLUMNS = [*CELL, "trial_index", "config_id", "config", "budget",
           "resume_budget", "spent", "ffe", "status", "value", "loss", "incumbent_value", "incumbent_loss",
           "regret", "overhead_s", "wall_s", "cost", "cum_cost", "elapsed_s", "source", "fallback",
           "stopped", "reason", "incumbent_config"]


def rows_from_results(results: list[Result], direction: str = "minimize",
                      rule: IncumbentRule | None = None,
                      max_budget: float | None = None,
                      context: ModelContext | None = None) -> list[dict[str, Any]]:
    """Rows for a ``Study``'s results, in the order they were told.

    With an incumbent ``rule`` other than the best single run (racing, the posterior mean: that
    one needs the study's ``context``), each row also carries the rule's incumbent at
    ``max_budget`` after it (``incumbent_loss``, ``incumbent_config``); otherwise
    :func:`finish_table` computes the best run so far.
    """
    rows = []
    for i, r in enumerate(results):
        t = r.trial
        rows.append({"trial_index": i, "config_id": t.config_id,
                     "config": _json(t.config),
                     "budget": t.budget, "resume_budget": t.resume_budget,
                     "spent": spent(r), "status": r.status.value, "value": r.value,
                     "overhead_s": float(t.info.get("overhead_s", math.nan)),
                     "wall_s": r.wall_time, "cost": r.cost,
                     "source": str(t.info.get("source", "")),
                     "fallback": bool(t.info.get("fallback", False)),
                     "stopped": r.status == Status.STOPPED, "reason": r.reason})
    if rule is not None and rule.statistic != "best-run":
        if max_budget is None:
            raise ValueError("an incumbent rule needs max_budget")
        sign = 1.0 if direction == "minimize" else -1.0
        for row, inc in zip(rows, trace(results, direction, rule, max_budget, context), strict=True):
            row["incumbent_loss"] = math.nan if inc is None else sign * inc.value
            row["incumbent_config"] = None if inc is None else _json(inc.config)
    return rows


def _json(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def finish_table(rows: list[dict[str, Any]], method: str, benchmark: str, seed: int,
                 direction: str, max_budget: float, optimum: float | None) -> pd.DataFrame:
    """Add the cell keys and the cumulative columns; returns a frame with exactly ``COLUMNS``."""
    given = bool(rows) and "incumbent_loss" in rows[0]  # the rows carry a rule's incumbent
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                     ("method", "benchmark", "seed", "ffe", "loss",
                                      "incumbent_value", "regret", "cum_cost", "elapsed_s",
                                      *(() if given else ("incumbent_loss", "incumbent_config")))])
    sign = 1.0 if direction == "minimize" else -1.0
    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["value"] = value
    df["loss"] = sign * value
    full_cost = df["budget"] - df["resume_budget"]
    df["spent"] = pd.to_numeric(df["spent"], errors="coerce").astype(float).fillna(full_cost)
    df["ffe"] = (df["spent"] / max_budget).cumsum()
    if given:
        inc = pd.to_numeric(df["incumbent_loss"], errors="coerce").astype(float)
    else:
        full = (df["status"] == "complete") & (df["budget"] >= max_budget * (1 - 1e-9))
        inc = df["loss"].where(full).cummin().ffill()  # cummin leaves NaN where not full
        new = inc.notna() & ~(inc == inc.shift(1))  # the row that set a new incumbent
        df["incumbent_config"] = df["config"].where(new).ffill()
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
