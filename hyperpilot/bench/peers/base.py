"""What every peer adapter shares: evaluate our objective with our FFE accounting, record rows.

A peer runs its own algorithm through its own ask/tell loop; it calls :meth:`PeerEvaluator.evaluate`
for each (config, budget) it wants. The evaluator

* continues a config from the largest budget it was already trained to (``resume_budget``), the
  same checkpoint-continuation our Hyperband gets, so FFE = sum(budget - resume_budget) / max is
  counted identically for every method (the peer's algorithm is unchanged: it sees the same value);
* measures the peer's overhead as the wall time between the end of one objective call and the
  start of the next (everything the optimizer did in between: tell, model fit, ask);
* stops the run once ``budget_ffe`` full-fidelity equivalents are spent (:meth:`exhausted`).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.problems import Problem
from hyperpilot.space import Config
from hyperpilot.trial import Context, Trial, parse_objective_output


class PeerEvaluator:
    """Evaluates ``problem.objective`` for a peer and keeps one row per call.

    Args:
        problem: the benchmark or workload.
        seed: the bench seed (the peer's seed; trial seeds derive from it as in ``Study``).
        budget_ffe: stop after this many full-fidelity equivalents.
        workdir: a private folder for checkpoints and the peer's own files.
    """

    def __init__(self, problem: Problem, seed: int, budget_ffe: float, workdir: Path) -> None:
        self.problem, self.seed, self.budget_ffe, self.workdir = problem, seed, budget_ffe, workdir
        self.sign = 1.0 if problem.direction == "minimize" else -1.0
        self.rows: list[dict[str, Any]] = []
        self.used = 0.0  # FFE spent so far
        self._trained: dict[str, tuple[int, float]] = {}  # config key -> (config_id, budget)
        self._last = time.perf_counter()

    def start_clock(self) -> None:
        """Call once the peer is constructed: its setup is not counted as proposal overhead."""
        self._last = time.perf_counter()

    def exhausted(self) -> bool:
        return self.used >= self.budget_ffe - 1e-12

    def evaluate(self, config: Config, budget: float, source: str = "model") -> float | None:
        """Run ``config`` at ``budget``; returns the loss (smaller is better), None on failure."""
        overhead = time.perf_counter() - self._last
        fid = self.problem.fidelity
        budget = float(min(max(budget, fid.min), fid.max))
        key = json.dumps(config, sort_keys=True, default=str)
        cid, done = self._trained.get(key, (len(self._trained), 0.0))
        resume = done if 0 < done < budget else 0.0
        trial = Trial(len(self.rows), cid, config, budget, resume, None, None, self._trial_seed(cid))
        ckpt = self.workdir / "checkpoints" / f"config-{cid}"
        ckpt.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        value, cost, status, reason = None, None, "complete", None
        try:
            value, _, cost = parse_objective_output(
                self.problem.objective(config, budget, resume, Context(trial, trial.seed, ckpt)))
        except Exception as e:  # noqa: BLE001 - any objective error is a failed trial, as in Study
            status, reason = "failed", f"{type(e).__name__}: {e}"
        wall = time.perf_counter() - t0
        self._trained[key] = (cid, max(done, budget) if status == "complete" else done)
        self.used += (budget - resume) / fid.max
        self.rows.append({"trial_index": trial.trial_id, "config_id": cid, "config": key,
                          "budget": budget, "resume_budget": resume, "status": status,
                          "value": value, "overhead_s": overhead, "wall_s": wall, "cost": cost,
                          "source": "promotion" if resume > 0 else source, "fallback": False,
                          "stopped": False, "reason": reason})
        self._last = time.perf_counter()
        return None if value is None else self.sign * value

    def mark_stopped(self) -> None:
        """Flag the last row: the peer stopped (pruned) this run early."""
        self.rows[-1]["stopped"] = True

    def _trial_seed(self, config_id: int) -> int:
        ss = np.random.SeedSequence([self.seed, 7919, config_id])
        return int(ss.generate_state(1)[0] % (2**31 - 1))


class PeerAdapter(ABC):
    """A thin adapter: builds the peer with its documented multi-fidelity scheme and drives it."""

    name: str = "peer"
    package: str = ""

    @abstractmethod
    def run(self, ev: PeerEvaluator) -> None:
        """Drive the peer's ask/tell loop until ``ev.exhausted()``."""


def rung_budgets(fmin: float, fmax: float, eta: float) -> list[float]:
    """Hyperband's rung budgets ``fmax * eta**-k >= fmin``, increasing (``[1, 3, 9, 27, 81]``)."""
    out, b = [], float(fmax)
    while b >= fmin * (1 - 1e-9):
        out.append(b)
        b /= eta
    return out[::-1]
