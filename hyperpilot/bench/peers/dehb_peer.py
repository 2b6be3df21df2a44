"""DEHB (Awad et al. 2021) through its ask/tell interface, with its own brackets and DE."""

from __future__ import annotations

import logging

from hyperpilot.bench.peers.base import PeerAdapter, PeerEvaluator
from hyperpilot.bench.peers.spaces import from_configuration, to_configspace


class DEHBAdapter(PeerAdapter):
    """``dehb.DEHB(cs, min_fidelity, max_fidelity, eta, n_workers=1, seed)`` with DE defaults.

    DEHB's ``fidelity`` values are ``max * eta**-k``; its ``cost`` is told as the objective's
    wall seconds. A failed evaluation is told as fitness ``inf``.
    """

    name = "dehb"
    package = "dehb"

    def run(self, ev: PeerEvaluator) -> None:
        from dehb import DEHB

        logging.getLogger("dehb").setLevel(logging.WARNING)
        try:  # DEHB logs through loguru; keep its INFO chatter off the bench's console
            from loguru import logger

            logger.remove()
        except ImportError:
            pass
        fid, space = ev.problem.fidelity, ev.problem.space
        cs = to_configspace(space, ev.seed)
        opt = DEHB(cs=cs, dimensions=len(list(cs.values())), min_fidelity=fid.min,
                   max_fidelity=fid.max, eta=fid.eta, n_workers=1, seed=ev.seed,
                   output_path=str(ev.workdir / "dehb"), save_freq="end")
        ev.start_clock()
        while not ev.exhausted():
            job = opt.ask()
            loss = ev.evaluate(from_configuration(job["config"], space), float(job["fidelity"]))
            wall = float(ev.rows[-1]["wall_s"])
            opt.tell(job, {"fitness": float("inf") if loss is None else loss, "cost": wall})
