"""Objectives that misbehave on purpose (importable, so process and Ray workers can load them)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from tests.hyperpilot.objectives import branin_mf


def _first_attempt(ctx: Any) -> bool:
    """True the first time this trial runs (a marker file in its checkpoint directory)."""
    marker = ctx.checkpoint_dir / f"attempt-{ctx.trial.trial_id}"
    if marker.exists():
        return False
    marker.touch()
    return True


def exit_once(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Every third trial's worker calls ``os._exit(3)`` on its first attempt."""
    if ctx.trial.trial_id % 3 == 0 and _first_attempt(ctx):
        os._exit(3)
    return branin_mf(config, budget, resume_budget, ctx)


def sigkill_once(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Every third trial's worker is SIGKILLed mid-trial on its first attempt."""
    if ctx.trial.trial_id % 3 == 0 and _first_attempt(ctx):
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGKILL)
    return branin_mf(config, budget, resume_budget, ctx)


def hang_some(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Trial 1 hangs for a minute; the others return Branin at once."""
    if ctx.trial.trial_id == 1:
        time.sleep(60)
    return branin_mf(config, budget, resume_budget, ctx)


BAD_OUTPUTS: dict[str, Any] = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "none": None,
    "string": "loss=0.5", "bool": True, "list": [1.0], "dict without value": {"loss": 1.0},
    "long tuple": (1.0, [], None, 4), "bad curve": (1.0, [(1, float("nan"))]),
}


def bad_output(config: dict[str, Any], budget: float, resume_budget: float, ctx: Any) -> Any:
    """Return the malformed output named by ``ctx.extras["kind"]``, or raise for ``"raise"``."""
    kind = ctx.extras["kind"]
    if kind == "raise":
        raise ValueError("objective blew up")
    return BAD_OUTPUTS[kind]


def main(argv: list[str]) -> None:
    """``python -m tests.hyperpilot.faults DB METHOD N WORKERS [NAME]``: a study to kill."""
    from hyperpilot.study import Study
    from tests.hyperpilot.objectives import FIDELITY, SPACE

    db, method, n, workers = argv[0], argv[1], int(argv[2]), int(argv[3])
    name = argv[4] if len(argv) > 4 else "default"
    Study(SPACE, FIDELITY, method, seed=0, storage=db, name=name).run(
        branin_mf, n_trials=n, n_workers=workers)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
