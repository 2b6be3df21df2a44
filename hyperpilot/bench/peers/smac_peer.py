"""SMAC3's multi-fidelity facade (random forest + Hyperband intensifier) through ask/tell."""

from __future__ import annotations

import logging

from hyperpilot.bench.peers.base import PeerAdapter, PeerEvaluator
from hyperpilot.bench.peers.spaces import from_configuration, to_configspace


def _not_called(config: object, seed: int = 0, budget: float = 0.0) -> float:
    raise RuntimeError("the bench drives SMAC by ask/tell; the target function is never called")


class SMACAdapter(PeerAdapter):
    """``MultiFidelityFacade`` with ``Hyperband(eta)`` as its intensifier (the facade's defaults
    otherwise), ``deterministic=True``, budgets ``[min, max]`` of the problem's fidelity."""

    name = "smac-mf"
    package = "smac"

    def run(self, ev: PeerEvaluator) -> None:
        from smac import MultiFidelityFacade, Scenario
        from smac.intensifier.hyperband import Hyperband
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        fid, space = ev.problem.fidelity, ev.problem.space
        scenario = Scenario(to_configspace(space, ev.seed), name="smac",
                            output_directory=ev.workdir / "smac", deterministic=True,
                            n_trials=10**9, min_budget=fid.min, max_budget=fid.max, seed=ev.seed)
        intensifier = Hyperband(scenario, eta=int(round(fid.eta)), seed=ev.seed)
        smac = MultiFidelityFacade(scenario, _not_called, intensifier=intensifier, overwrite=True,
                                   logging_level=logging.WARNING)
        ev.start_clock()
        while not ev.exhausted():
            info = smac.ask()
            budget = fid.max if info.budget is None else float(info.budget)
            loss = ev.evaluate(from_configuration(info.config, space), budget)
            wall = float(ev.rows[-1]["wall_s"])
            if loss is None:
                smac.tell(info, TrialValue(cost=float("inf"), time=wall, status=StatusType.CRASHED))
            else:
                smac.tell(info, TrialValue(cost=loss, time=wall))
