"""Small stores for the dashboard tests: a curve-stopping Hyperband study with failures and
stop decisions, and a GP-BO study whose proposals carry the surrogate's predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hyperpilot as hp

SPACE = hp.SearchSpace({"x": hp.Float(0, 1), "y": hp.Float(1e-3, 1.0, log=True),
                        "kind": hp.Categorical(["a", "b"])})
FID = hp.Fidelity(1, 27, 3)


def curvy(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """A curve reported at every unit of budget (smaller is better); ``x > 0.9`` crashes."""
    if config["x"] > 0.9:
        raise RuntimeError(f"diverged at x={config['x']:.3f}")
    level = 10 * config["x"] + config["y"] + (0.5 if config["kind"] == "b" else 0.0)
    curve = []
    for b in range(int(resume_budget) + 1, int(budget) + 1):
        v = level + 2.0 / b
        curve.append((float(b), v))
        if ctx.report(b, v):
            break
    return curve[-1][1], curve


def make_store(path: Path, budget: float = 6, bo_trials: int = 0) -> Path:
    """A store with a ``hyperband:stop`` study (``budget`` FFE) named ``hb`` and, when
    ``bo_trials``, a single-fidelity ``gp-bo`` study named ``bo`` of that many trials; returns ``path``."""
    hp.Study(SPACE, FID, "hyperband:stop", seed=3, storage=path, name="hb").run(curvy, budget=budget)
    if bo_trials:
        hp.Study(SPACE, None, "gp-bo", seed=3, storage=path, name="bo").run(curvy,
                                                                            n_trials=bo_trials)
    return path
