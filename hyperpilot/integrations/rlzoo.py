"""rl-baselines3-zoo's tuner with our sampler (``pip install "hyperpilot[rlzoo]"``).

rl-zoo's ``--sampler`` choices are fixed (``random``, ``tpe``, ``auto``), so the switch is a
subclass of its ``ExperimentManager`` that hands Optuna our sampler; everything else (its
search spaces, evaluation callback, pruner, storage, reports) stays rl-zoo's:

    from rl_zoo3.exp_manager import ExperimentManager
    from hyperpilot.integrations.optuna import HyperPilotSampler

    class HyperPilotManager(ExperimentManager):
        def _create_sampler(self, sampler_method):
            return HyperPilotSampler("hyperpilot", seed=self.seed)

From the command line, this module runs rl-zoo's ``train.py`` with that manager; every
argument but ``--hp-method`` is rl-zoo's own:

    python -m hyperpilot.integrations.rlzoo --algo ppo --env CartPole-v1 -optimize \\
        --n-trials 50 --n-timesteps 50000 --n-evaluations 5 --pruner median [--hp-method hyperpilot]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any


def manager_class(method: str = "hyperpilot",
                  method_options: dict[str, Any] | None = None) -> type:
    """rl-zoo's ``ExperimentManager`` whose Optuna sampler is ``HyperPilotSampler(method)``."""
    from rl_zoo3.exp_manager import ExperimentManager

    from hyperpilot.integrations.optuna import HyperPilotSampler

    class HyperPilotManager(ExperimentManager):  # type: ignore[misc]
        def _create_sampler(self, sampler_method: str) -> HyperPilotSampler:
            return HyperPilotSampler(method, seed=self.seed, method_options=method_options)

    return HyperPilotManager


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``rl_zoo3.train`` with :func:`manager_class`'s manager (see the module docstring)."""
    import rl_zoo3.train

    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--hp-method", default="hyperpilot")
    ours, rest = p.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    rl_zoo3.train.ExperimentManager = manager_class(ours.hp_method)  # type: ignore[misc,assignment]
    old = sys.argv
    sys.argv = [old[0], *rest]
    try:
        rl_zoo3.train.train()
    finally:
        sys.argv = old


if __name__ == "__main__":
    main()
