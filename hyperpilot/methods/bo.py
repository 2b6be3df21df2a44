"""Model-based proposers: a registered surrogate (``surrogates.SURROGATES``) in batch q-LogEI.

The proposer chooses which configs open a Hyperband bracket; the scheduler (fidelity/) chooses
budgets. It composes four parts, one module each:

* what the surrogate is trained on (``bo_data``): the ``"fidelity"`` rule (default: every
  observation, the budget as an input) or BOHB's ``"bohb"`` rule (the highest budget with
  enough observations), and the encodings of configs, cached per id;
* when it is refitted (``fitting``): a refit schedule in the number of observations, a cache of
  fits by key, and optional background fitting;
* what partial curves add (``feed``, with ``feed_curves``): extrapolated rows under BOHB's rule;
* how the batch is chosen (here): a Sobol design, random interleaving, and q-LogEI by L-BFGS
  restarts or over a candidate pool (``acquisition``).

Early on, and with a probability that decays with the number of observations, a proposal is
random instead (BOHB's guard against a misled model). A failure to fit or to optimise falls back
to random points for that batch; it is logged and counted in ``trial.info["fallback"]``.

With many workers the optimizer itself becomes the bottleneck (a fit takes seconds). With
``background_fit=True`` the surrogate is refitted in a background process
(``hyperpilot.methods.fit_server``: no GIL shared with the driver) while proposals come
from the last finished fit, with every result newer than that fit passed as pending; pair it
with ``optimizer="pool"`` (greedy q-LogEI over a candidate pool, milliseconds per proposal).
Until the first fit is ready, proposals are random (``info["reason"]`` says so). Which fit a
proposal sees then depends on timing, so such a study is not bit-for-bit reproducible; the
default (``background_fit=False``) is.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from typing import Any, Literal

import numpy as np
import torch

from hyperpilot.methods.base import History
from hyperpilot.methods.bo_data import DataRule, Encoder, TrainingData
from hyperpilot.methods.feed import CurveFeeder
from hyperpilot.methods.fit_server import FitServer
from hyperpilot.methods.fitting import (
    FitInputs,
    FitKey,
    Fitted,
    SurrogateFitter,
    fit_surrogate,
    refit_size,
)
from hyperpilot.methods.local import LocalShare, incumbent_row
from hyperpilot.methods.proposers import Proposer
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Fidelity, Result, Status

log = logging.getLogger(__name__)

Optimizer = Literal["lbfgs", "pool"]
Proposal = tuple[Config, dict[str, Any]]


class BOProposer(Proposer):
    """Batch BO proposals from a surrogate in q-LogEI, with pending trials as ``X_pending``.

    Args:
        space: the search space (its unit-cube encoding is the model's input).
        min_budget: the smallest budget (for the fidelity column's log scale).
        seed: seeds the Sobol initial design (one sequence for the whole study).
        surrogate: a name in ``surrogates.SURROGATES`` (``"ensemble"``, ``"mcdropout"``,
            ``"gp"``, ``"gp-capped"``, or any registered later).
        data_rule: ``"fidelity"``, ``"bohb"`` or ``"curves"`` (see ``hyperpilot.methods.bo_data``).
        n_init: size of the Sobol initial design (in new configs).
        random_fraction: probability of a random proposal at the start.
        random_decay: the probability decays as ``exp(-n_obs / random_decay)``, floored at 0.05
            (or at ``random_fraction`` when that is smaller: 0 means no random proposals).
        acqf: ``"qlogei"``, ``"qei"`` or ``"qlognei"``.
        surrogate_options: keyword options for the surrogate's constructor.
        num_restarts: restarts of the acquisition optimiser.
        raw_samples: raw samples for its initial conditions.
        maxiter: L-BFGS-B iterations per restart (``optimizer="lbfgs"``); the acquisition
            values a proposal reaches barely move after 25 (README, *Cost*), the time does.
        refit_growth: refit when the data grew by this fraction (0: refit at every ask); see
            :meth:`refit_size`.
        optimizer: ``"lbfgs"`` (``optimize_acqf`` from restarts) or ``"pool"`` (greedy over a
            candidate pool; see ``acquisition.pool``).
        background_fit: refit in a background process (``FitServer``) and propose from the last
            finished fit.
        feed_curves: with the ``"bohb"`` rule, also train on configs whose curves stop below
            the training budget, at their extrapolated value (``hyperpilot.methods.feed``).
            Only for surrogates registered with ``accepts_yvar`` (they take the predictions'
            variances as known noise).
        local: ``hyperpilot.methods.local.LocalShare``'s fields (``after``, ``share``,
            ``side``): late in a study, a share of each batch maximises the acquisition in a
            box around the incumbent (``optimizer="lbfgs"`` only). None: every slot global.

    Raises:
        surrogates.UnknownSurrogate: (a ``ValueError``) for a name not in ``SURROGATES``.
        ValueError: for an unknown data rule or optimizer, or ``feed_curves`` without the
            ``"bohb"`` rule and a surrogate that accepts variances, or ``local`` with the
            pool optimizer or out-of-range fields, or ``maxiter < 1``.
    """

    def __init__(self, space: SearchSpace, min_budget: float, seed: int = 0,
                 surrogate: str = "ensemble",
                 data_rule: DataRule = "fidelity", n_init: int = 8, random_fraction: float = 1 / 3,
                 random_decay: float = 200.0, acqf: str = "qlogei",
                 surrogate_options: dict[str, Any] | None = None, num_restarts: int = 4,
                 raw_samples: int = 256, maxiter: int = 100, refit_growth: float = 0.15,
                 optimizer: Optimizer = "lbfgs", background_fit: bool = False,
                 feed_curves: bool = False, related: dict[str, Any] | None = None,
                 fidelity: Fidelity | None = None, local: dict[str, Any] | None = None) -> None:
        super().__init__(space)
        from surrogates import surrogate_spec

        spec = surrogate_spec(surrogate)
        self.seed, self.name, self.min_budget = seed, f"bo-{surrogate}", min_budget
        self.surrogate, self.data_rule, self.n_init = surrogate, data_rule, n_init
        self.random_fraction, self.random_decay = random_fraction, random_decay
        self.acqf, self.surrogate_options = acqf, dict(surrogate_options or {})
        self.num_restarts, self.raw_samples = num_restarts, raw_samples
        if maxiter < 1:
            raise ValueError(f"maxiter must be >= 1, got {maxiter}")
        self.maxiter = maxiter
        self.min_points = max(space.dim + 2, n_init)
        self.refit_growth = refit_growth
        self.encoder = Encoder(space)
        self.data = TrainingData(data_rule, min_budget, self.min_points, self.encoder)
        if optimizer not in ("lbfgs", "pool"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'pool', got {optimizer!r}")
        self.optimizer = optimizer
        if local is not None and optimizer != "lbfgs":
            raise ValueError("local needs optimizer='lbfgs' (the pool cannot be boxed)")
        self.local = LocalShare(**local) if local is not None else None
        if feed_curves and (data_rule != "bohb" or not spec.accepts_yvar):
            raise ValueError("feed_curves needs data_rule='bohb' and a surrogate registered with "
                             f"accepts_yvar; got {data_rule!r} and {surrogate!r}")
        self.feed_curves, self.background_fit = feed_curves, background_fit
        self.feeder = CurveFeeder(seed) if feed_curves else None
        if related is not None and not spec.related:
            raise ValueError(f"the related option needs a surrogate that learns from related "
                             f"tasks (such as 'transfer'), not {surrogate!r}")
        self.related, self.fidelity = related, fidelity
        self._fit_options = dict(self.surrogate_options)  # + the related tasks' arrays, later
        self.fitter = SurrogateFitter(surrogate, self._fit_options,
                                      space.categorical_groups, seed, self.min_points,
                                      refit_growth, background_fit)
        self._pools: tuple[Any, Any, int] | None = None  # (model, CandidatePool, n results)
        self._design = space.sobol(n_init, seed=seed) if n_init > 0 else []
        if background_fit:  # import BoTorch now, not inside the first timed ask
            import acquisition  # noqa: F401

    def options(self) -> dict[str, Any]:
        return {"proposer": self.name, "data_rule": self.data_rule, "n_init": self.n_init,
                "random_fraction": self.random_fraction, "random_decay": self.random_decay,
                "acqf": self.acqf, "surrogate_options": self.surrogate_options,
                "refit_growth": self.refit_growth, "optimizer": self.optimizer,
                "background_fit": self.background_fit, "feed_curves": self.feed_curves,
                **({"related": self.related} if self.related is not None else {}),
                **({"local": asdict(self.local)} if self.local is not None else {})}

    def refit_size(self, n: int) -> int:
        """The number of (oldest) observations the model is fitted on when ``n`` are available.

        The model is refitted only when the data grew by ``refit_growth`` (at least 4 points)
        since the last refit (``hyperpilot.methods.fitting.refit_size``). In between, proposals
        reuse the last fit, with newer trials as pending points. Because the schedule depends
        only on ``n``, a resumed study refits exactly the same models.
        """
        return refit_size(n, self.min_points, self.refit_growth)

    @property
    def stale_proposals(self) -> int:
        """Proposals made from an older fit than the schedule asked for (background fitting)."""
        return self.fitter.stale_proposals

    @property
    def _server(self) -> FitServer | None:
        return self.fitter.server

    def _collect(self, wait: bool) -> None:
        self.fitter.collect(wait)

    def close(self) -> None:
        """Stop the background fitting process, if any (it also exits with the driver)."""
        self.fitter.close()

    # ----------------------------------------------------------------- proposing
    def propose(self, k: int, history: History, rng: np.random.Generator,
                max_budget: float) -> list[Proposal]:
        done = [r for r in history.results if r.status == Status.COMPLETE and r.value is not None]
        n_configs = len({r.trial.config_id for r in history.results} |
                        {t.config_id for t in history.pending})
        out: list[Proposal | None] = [None] * k
        n_sobol = max(0, min(k, self.n_init - n_configs))
        for i in range(n_sobol):
            out[i] = (self._design[n_configs + i], {"source": "sobol"})
        floor = min(0.05, self.random_fraction)  # random_fraction=0 switches the guard off
        p_rand = max(floor, self.random_fraction * math.exp(-len(done) / self.random_decay))
        model_slots = [i for i in range(n_sobol, k) if rng.random() >= p_rand]
        for i in range(n_sobol, k):
            if i not in model_slots:
                out[i] = (self.space.sample(1, rng)[0], {"source": "random"})
        if model_slots:
            seed = int(rng.integers(2**31 - 1))
            batch = self._model_batch(len(model_slots), done, history, max_budget, seed)
            for i, pair in zip(model_slots, batch, strict=True):
                out[i] = pair
        return [p for p in out if p is not None]

    def _model_batch(self, q: int, done: list[Result], history: History, max_budget: float,
                     seed: int) -> list[Proposal]:
        data = self.data.assemble(done, history.loss, max_budget)
        if data is None:
            return self._random(q, seed, {"source": "random",
                                          "reason": "too few observations for the model"})
        X, Y, level = data
        from surrogates import FitError

        if self.related is not None and "related" not in self._fit_options:
            self._fit_options["related"] = self._related_arrays(max_budget)

        fid = self.data_rule != "bohb"
        pending = self.encoder.encode([(t.config_id, t.config) for t in history.pending], fid)
        exclude = self.encoder.encode([(r.trial.config_id, r.trial.config)
                                       for r in history.results], fid)  # any budget
        try:
            fitted, (fit_level, m), stale = self.fitter.model(
                level, X.shape[0], lambda k: self._fit_inputs(X, Y, level, k, history, done, max_budget))
        except (FitError, RuntimeError, ValueError) as e:
            log.warning("surrogate fit failed, proposing random points instead: %s", e)
            return self._random(q, seed, {"source": "fallback", "fallback": True,
                                          "reason": f"fit: {e}"[:300]})
        if fitted is None:  # background fitting: the first fit is still running
            return self._random(q, seed, {"source": "random",
                                          "reason": "first background fit still running"})
        model = fitted.model
        n_model = m  # observations in the fit (the rest of its rows are fed predictions)
        if fit_level != level:  # a background fit on another budget is all there is yet
            m = X.shape[0]
        pending = self._with_newer(pending, X, m, fid)
        n_local = self.local.slots(q, n_model) if self.local is not None else 0
        centre = incumbent_row(X[:n_model], Y[:n_model], fid) if n_local else None
        if centre is None:  # no local slot, or no incumbent at the max budget yet
            n_local = 0
        Xq, info = self._optimise(fitted, (fit_level, m), q - n_local, pending, exclude, fid,
                                  history, seed)
        local_info: dict[str, Any] = {}  # the local points' own labels
        if centre is not None:  # the local slots, the global points pending
            pend = Xq if pending is None else torch.cat([pending, Xq.to(pending)])
            Xl, info_l = self._optimise(fitted, (fit_level, m), n_local, pend, exclude, fid,
                                        history, seed + 1, centre=centre)
            Xq, n_local = torch.cat([Xq, Xl.to(Xq)]), Xl.shape[0]
            fb = bool(info_l["fallback"])
            local_info = {"local": True, "source": "fallback" if fb else "model", "fallback": fb,
                          "reason": str(info_l.get("reason"))[:300] if fb else None}
        configs = self.space.decode(Xq[:, :self.space.dim].detach().cpu().numpy())
        meta = {"source": "fallback" if info["fallback"] else "model",
                "n_train": n_model, "n_fed": int(model.train_X.shape[0]) - n_model,
                "stale_fit": stale, "train_budget": level, "n_data": int(X.shape[0]),
                "fit_s": round(float(model.fit_info.get("seconds", 0.0)), 4)}
        if info["fallback"]:
            meta.update(fallback=True, reason=str(info.get("reason"))[:300])
        preds = _predictions(model, Xq, history.value_loss) if not info["fallback"] else []
        first_local = len(configs) - n_local  # the local points come last
        out = [(c, {**meta, **(preds[i] if i < len(preds) else {}),
                    **(local_info if i >= first_local else {})})
               for i, c in enumerate(configs)]
        if len(configs) < q:  # fewer distinct new points than asked for: a tiny discrete space
            out += self._random(q - len(configs), seed, {"source": "random",
                                                         "reason": "no distinct new point"})
        return out

    def _related_arrays(self, max_budget: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """The related tasks' ``(X, y)`` in this study's encoding (``hyperpilot.related``)."""
        from hyperpilot.related import related_data

        assert self.related is not None
        fid = self.fidelity or Fidelity(self.min_budget, max_budget)
        return related_data(self.related, self.space, fid, self.seed,
                            budget_input=self.data_rule != "bohb")

    def _random(self, q: int, seed: int, info: dict[str, Any]) -> list[Proposal]:
        """``q`` random configs from a generator seeded by ``seed``, each with a copy of ``info``."""
        return [(c, dict(info)) for c in self.space.sample(q, np.random.default_rng(seed))]

    def _fit_inputs(self, X: torch.Tensor, Y: torch.Tensor, level: float, m: int,
                    history: History, done: list[Result], max_budget: float) -> FitInputs:
        """The first ``m`` observations (plus fed rows with ``feed_curves``, or every curve point
        of the trials told until the ``m``-th with the ``"curves"`` rule) and ``best_f``."""
        if self.data_rule == "curves":
            cut = history.results.index(done[m - 1]) + 1
            Xc, Yc = self.data.curve_points(history.results[:cut], history.value_loss,
                                            max_budget)
            return Xc, Yc, None, float(Y[:m].max())
        if self.feeder is None:
            return X[:m].clone(), Y[:m].clone(), None, float(Y[:m].max())
        return self.feeder.fit_inputs(X, Y, m, level, history.results, history.loss,
                                      self.encoder.encode)

    def _with_newer(self, pending: torch.Tensor | None, X: torch.Tensor, m: int,
                    fid: bool) -> torch.Tensor | None:
        """Results newer than the fit (rows ``m:`` of ``X``) join the pending points."""
        if m >= X.shape[0]:
            return pending
        d = self.space.dim
        newer = X[m:, :d]
        if fid:  # at the max budget, where the acquisition looks
            newer = torch.cat([newer, torch.ones(X.shape[0] - m, 1, dtype=X.dtype)], 1)
        return newer if pending is None else torch.cat([pending, newer])

    def _optimise(self, fitted: Fitted, key: FitKey, q: int, pending: torch.Tensor | None,
                  exclude: torch.Tensor | None, fid: bool, history: History,
                  seed: int, centre: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, dict[str, Any]]:
        """``q x d'`` points maximising the acquisition (or a random fallback) and its info;
        with ``centre``, inside the ``local`` box around it."""
        from acquisition import ProposalError, ProposeOptions, propose_or_random, random_fallback

        model, d = fitted.model, self.space.dim
        bounds = torch.zeros(2, d + int(fid), dtype=torch.float64)
        bounds[1] = 1.0
        if fid:  # the fidelity column is fixed at the max budget
            bounds[0, d] = 1.0
        if centre is not None and self.local is not None:
            bounds = self.local.box(centre.to(bounds), bounds)
        round_fn, cats = self.encoder.round_fn(fid), self.space.categorical_groups
        if self.optimizer == "lbfgs":
            options = ProposeOptions(acqf=self.acqf,  # type: ignore[arg-type]
                                     num_restarts=self.num_restarts,
                                     raw_samples=self.raw_samples, maxiter=self.maxiter)
            return propose_or_random(
                model, bounds, q=q, pending=pending, best_f=fitted.best_f, seed=seed,
                cat_groups=cats, exclude=exclude, round_fn=round_fn, options=options)
        try:
            pool, since = self._pool(fitted, key, bounds, fid, exclude, history)
            recent = self.encoder.encode([(r.trial.config_id, r.trial.config)
                                          for r in history.results[since:]], fid)
            return pool.propose(q, pending, recent)
        except ProposalError as e:
            return random_fallback(e, model, bounds, q, pending, exclude, cats, round_fn,
                                   seed, 1e-6)

    def _pool(self, fitted: Fitted, key: FitKey, bounds: torch.Tensor, fid: bool,
              exclude: torch.Tensor | None, history: History) -> tuple[Any, int]:
        """The candidate pool of ``model`` and the number of results it already excludes.

        Built once per fitted model without the configs known then (``exclude``); the pool
        never repeats its own proposals, and the caller excludes the results that came since.
        """
        from acquisition import CandidatePool

        model = fitted.model
        if self._pools is None or self._pools[0] is not model:
            pool = CandidatePool(model, bounds, seed=self.fitter.fit_seed(key),
                                 acqf=self.acqf,  # type: ignore[arg-type]
                                 best_f=fitted.best_f,
                                 cat_groups=self.space.categorical_groups,
                                 round_fn=self.encoder.round_fn(fid),
                                 pool_size=self.raw_samples * 2,
                                 n_local=self.raw_samples, exclude=exclude)
            self._pools = (model, pool, len(history.results))
        return self._pools[1], self._pools[2]


def _predictions(model: Any, Xq: torch.Tensor, value_loss: Any) -> list[dict[str, float]]:
    """The surrogate's predictive mean and sd of each proposal at the max budget, in the
    study's own value units (``pred_value``, ``pred_sd``), for the dashboard's calibration
    view; empty when the posterior cannot give them."""
    try:
        with torch.no_grad():
            post = model.posterior(Xq.unsqueeze(-2))  # q x 1 x d': each point on its own
            mu = post.mean.reshape(-1).tolist()
            sd = post.variance.clamp_min(0).sqrt().reshape(-1).tolist()
    except (RuntimeError, ValueError, NotImplementedError, AttributeError) as e:
        log.debug("no predictions for the dashboard: %s", e)
        return []
    # Y = -loss and loss = value_loss(value): value_loss is its own inverse (a sign)
    return [{"pred_value": round(float(value_loss(-m)), 6), "pred_sd": round(float(v), 6)}
            for m, v in zip(mu, sd, strict=True)]


__all__ = ["BOProposer", "fit_surrogate"]
