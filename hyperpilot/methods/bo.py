"""Model-based proposers: a surrogate (deep ensemble, MC dropout or GP) inside batch q-LogEI.

The proposer chooses which configs open a Hyperband bracket; the scheduler (fidelity/) chooses
budgets. What the surrogate is trained on is one of two rules:

* ``"fidelity"`` (default): every observation, with the budget as an extra input column
  (log-scaled to ``[0, 1]``); the acquisition is optimised with that column fixed at the max
  budget;
* ``"bohb"``: the highest budget with at least ``min_points`` observations (Falkner et al. 2018).

The default was chosen by measurement (``runs/bench/fid20``, README "Multi-fidelity defaults"):
at 20 FFE on Hartmann-6, the bandit and two LCBench development tasks the fidelity input gave
lower regret than the BOHB rule in most paired runs, for the deep ensemble and for the GP alike.
In full-fidelity mode every observation has the max budget, the two rules coincide, and the
methods use ``"bohb"`` (no constant input column).

Early on, and with a probability that decays with the number of observations, a proposal is
random instead (BOHB's guard against a misled model). A failure to fit or to optimise falls back
to random points for that batch; it is logged and counted in ``trial.info["fallback"]``.

With many workers the optimizer itself becomes the bottleneck (a fit takes seconds). With
``background_fit=True`` the surrogate is refitted in a background process
(``hyperpilot.methods.fit_server``: no GIL shared with the driver) while proposals come
from the last finished fit, with every result newer than that fit passed as pending; pair it
with ``optimizer="pool"`` (greedy q-LogEI over a candidate pool, milliseconds per proposal). Until
the first fit is ready, proposals are random (``info["reason"]`` says so). Which fit a proposal sees then depends on timing, so such a study
is not bit-for-bit reproducible; the default (``background_fit=False``) is.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import numpy as np
import torch

from hyperpilot.methods.base import History
from hyperpilot.methods.fit_server import FitServer
from hyperpilot.methods.proposers import Proposer
from hyperpilot.space import Config, SearchSpace
from hyperpilot.trial import Result, Status

log = logging.getLogger(__name__)

SurrogateName = Literal["ensemble", "mcdropout", "gp"]
DataRule = Literal["bohb", "fidelity"]
Optimizer = Literal["lbfgs", "pool"]
FitKey = tuple[float, int]  # (training budget, number of points)


class BOProposer(Proposer):
    """Batch BO proposals from a surrogate in q-LogEI, with pending trials as ``X_pending``.

    Args:
        space: the search space (its unit-cube encoding is the model's input).
        min_budget: the smallest budget (for the fidelity column's log scale).
        seed: seeds the Sobol initial design (one sequence for the whole study).
        surrogate: ``"ensemble"``, ``"mcdropout"`` or ``"gp"``.
        data_rule: ``"fidelity"`` or ``"bohb"`` (see the module docstring).
        n_init: size of the Sobol initial design (in new configs).
        random_fraction: probability of a random proposal at the start.
        random_decay: the probability decays as ``exp(-n_obs / random_decay)``, floored at 0.05
            (or at ``random_fraction`` when that is smaller: 0 means no random proposals).
        acqf: ``"qlogei"``, ``"qei"`` or ``"qlognei"``.
        surrogate_options: keyword options for the surrogate's constructor.
        num_restarts: restarts of the acquisition optimiser.
        raw_samples: raw samples for its initial conditions.
        refit_growth: refit when the data grew by this fraction (0: refit at every ask); see
            :meth:`refit_size`.
        optimizer: ``"lbfgs"`` (``optimize_acqf`` from restarts) or ``"pool"`` (greedy over a
            candidate pool; see ``acquisition.pool``).
        background_fit: refit in a background process (``FitServer``) and propose from the last
            finished fit.
        feed_curves: with the ``"bohb"`` rule, also train on configs whose curves stop below
            the training budget, at their extrapolated value (``hyperpilot.methods.feed``).
            Neural surrogates only (they take the predictions' variances as known noise).
    """

    def __init__(self, space: SearchSpace, min_budget: float, seed: int = 0,
                 surrogate: SurrogateName = "ensemble",
                 data_rule: DataRule = "fidelity", n_init: int = 8, random_fraction: float = 1 / 3,
                 random_decay: float = 200.0, acqf: str = "qlogei",
                 surrogate_options: dict[str, Any] | None = None, num_restarts: int = 4,
                 raw_samples: int = 256, refit_growth: float = 0.15,
                 optimizer: Optimizer = "lbfgs", background_fit: bool = False,
                 feed_curves: bool = False) -> None:
        super().__init__(space)
        self.seed = seed
        if surrogate not in ("ensemble", "mcdropout", "gp"):
            raise ValueError(f"surrogate must be ensemble, mcdropout or gp, got {surrogate!r}")
        if data_rule not in ("bohb", "fidelity"):
            raise ValueError(f"data_rule must be 'bohb' or 'fidelity', got {data_rule!r}")
        self.name = f"bo-{surrogate}"
        self.min_budget = min_budget
        self.surrogate = surrogate
        self.data_rule = data_rule
        self.n_init = n_init
        self.random_fraction = random_fraction
        self.random_decay = random_decay
        self.acqf = acqf
        self.surrogate_options = dict(surrogate_options or {})
        self.num_restarts = num_restarts
        self.raw_samples = raw_samples
        self.min_points = max(space.dim + 2, n_init)
        self.refit_growth = refit_growth
        if optimizer not in ("lbfgs", "pool"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'pool', got {optimizer!r}")
        self.optimizer = optimizer
        if feed_curves and (data_rule != "bohb" or surrogate == "gp"):
            raise ValueError("feed_curves needs data_rule='bohb' and a neural surrogate")
        self.feed_curves = feed_curves
        self._predictions: dict[tuple[int, int, float], tuple[float, float]] = {}
        self.background_fit = background_fit
        self._cache: tuple[FitKey, Any] | None = None
        self._server: FitServer | None = None
        self._running: FitKey | None = None  # key of the fit the server is running
        self._pools: tuple[Any, Any, int] | None = None  # (model, CandidatePool, n results)
        self._rows: dict[int, np.ndarray] = {}  # config_id -> encoding
        self._design = space.sobol(n_init, seed=seed) if n_init > 0 else []
        self.stale_proposals = 0  # proposals made from an older fit than the schedule asked for
        if background_fit:  # import BoTorch now, not inside the first timed ask
            import acquisition  # noqa: F401
            import surrogates  # noqa: F401

    def options(self) -> dict[str, Any]:
        return {"proposer": self.name, "data_rule": self.data_rule, "n_init": self.n_init,
                "random_fraction": self.random_fraction, "random_decay": self.random_decay,
                "acqf": self.acqf, "surrogate_options": self.surrogate_options,
                "refit_growth": self.refit_growth, "optimizer": self.optimizer,
                "background_fit": self.background_fit, "feed_curves": self.feed_curves}

    # ----------------------------------------------------------------- proposing
    def propose(self, k: int, history: History, rng: np.random.Generator,
                max_budget: float) -> list[tuple[Config, dict[str, Any]]]:
        done = [r for r in history.results if r.status == Status.COMPLETE and r.value is not None]
        n_configs = len({r.trial.config_id for r in history.results} |
                        {t.config_id for t in history.pending})
        out: list[tuple[Config, dict[str, Any]] | None] = [None] * k
        n_sobol = max(0, min(k, self.n_init - n_configs))
        if n_sobol:
            design = self._design
            for i in range(n_sobol):
                out[i] = (design[n_configs + i], {"source": "sobol"})
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
                     seed: int) -> list[tuple[Config, dict[str, Any]]]:
        data = self._training_data(done, history, max_budget)
        if data is None:
            gen = np.random.default_rng(seed)
            return [(c, {"source": "random", "reason": "too few observations for the model"})
                    for c in self.space.sample(q, gen)]
        X, Y, level = data
        from acquisition import ProposalError, propose_or_random, random_fallback
        from surrogates import FitError

        fid = self.data_rule == "fidelity"
        d = self.space.dim
        bounds = torch.zeros(2, d + int(fid), dtype=torch.float64)
        bounds[1] = 1.0
        pending = self._encode([(t.config_id, t.config) for t in history.pending], fid)
        exclude = self._encode([(r.trial.config_id, r.trial.config) for r in history.results],
                               fid)  # any budget
        try:
            model, (fit_level, m), stale = self._cached_fit(X, Y, level, history)
            n_model = m  # observations in the fit (the rest of its rows are fed predictions)
        except (FitError, RuntimeError, ValueError) as e:
            log.warning("surrogate fit failed, proposing random points instead: %s", e)
            gen = np.random.default_rng(seed)
            return [(c, {"source": "fallback", "fallback": True, "reason": f"fit: {e}"[:300]})
                    for c in self.space.sample(q, gen)]
        if model is None:  # background fitting: the first fit is still running
            gen = np.random.default_rng(seed)
            return [(c, {"source": "random", "reason": "first background fit still running"})
                    for c in self.space.sample(q, gen)]
        if fit_level != level:  # a background fit on another budget is all there is yet
            m = X.shape[0]
        if m < X.shape[0]:  # results newer than the last refit count as pending for the model
            newer = X[m:, :d] if not fid else torch.cat([X[m:, :d], torch.ones(X.shape[0] - m, 1,
                                                                                 dtype=X.dtype)], 1)
            pending = newer if pending is None else torch.cat([pending, newer])
        if fid:
            bounds[0, d] = 1.0
        if self.optimizer == "pool":
            try:
                pool, since = self._pool(model, (fit_level, m), bounds, fid, exclude, history)
                recent = self._encode([(r.trial.config_id, r.trial.config)
                                       for r in history.results[since:]], fid)
                Xq, info = pool.propose(q, pending, recent)
            except ProposalError as e:
                Xq, info = random_fallback(e, model, bounds, q, pending, exclude,
                                           self.space.categorical_groups, self._round_fn(fid),
                                           seed, 1e-6)
        else:
            Xq, info = propose_or_random(
                model, bounds, q=q, pending=pending, best_f=model.best_f, seed=seed,
                acqf=self.acqf,  # type: ignore[arg-type]
                cat_groups=self.space.categorical_groups, exclude=exclude,
                round_fn=self._round_fn(fid), num_restarts=self.num_restarts,
                raw_samples=self.raw_samples)
        configs = self.space.decode(Xq[:, :d].detach().cpu().numpy())
        meta = {"source": "fallback" if info["fallback"] else "model",
                "n_train": n_model, "n_fed": int(model.train_X.shape[0]) - n_model,
                "stale_fit": stale,
                "train_budget": level, "n_data": int(X.shape[0]),
                "fit_s": round(float(model.fit_info.get("seconds", 0.0)), 4)}
        if info["fallback"]:
            meta.update(fallback=True, reason=str(info.get("reason"))[:300])
        out = [(c, dict(meta)) for c in configs]
        if len(configs) < q:  # fewer distinct new points than asked for: a tiny discrete space
            more = self.space.sample(q - len(configs), np.random.default_rng(seed))
            out += [(c, {"source": "random", "reason": "no distinct new point"}) for c in more]
        return out

    # ----------------------------------------------------------------- data
    def _training_data(self, done: list[Result], history: History,
                       max_budget: float) -> tuple[torch.Tensor, torch.Tensor, float] | None:
        """``(X n x d', Y n x 1, target budget)`` in BoTorch's "larger is better", or None."""
        if self.data_rule == "bohb":
            counts: dict[float, int] = {}
            for r in done:
                counts[r.trial.budget] = counts.get(r.trial.budget, 0) + 1
            ok = [b for b, n in counts.items() if n >= self.min_points]
            if not ok:
                return None
            level = max(ok)
            rows = [r for r in done if r.trial.budget == level]
            X = self._encode([(r.trial.config_id, r.trial.config) for r in rows], False)
        else:
            if len(done) < self.min_points:
                return None
            level, rows = max_budget, done
            X = self._encode([(r.trial.config_id, r.trial.config) for r in rows], False)
            assert X is not None
            z = torch.tensor([self._z(r.trial.budget, max_budget) for r in rows], dtype=torch.float64)
            X = torch.cat([X, z[:, None]], dim=1)
        assert X is not None
        Y = torch.tensor([-history.loss(r) for r in rows], dtype=torch.float64)[:, None]
        return X, Y, level

    def _z(self, budget: float, max_budget: float) -> float:
        if max_budget <= self.min_budget:
            return 1.0
        return math.log(budget / self.min_budget) / math.log(max_budget / self.min_budget)

    def _encode(self, configs: list[tuple[int, Config]], fid: bool) -> torch.Tensor | None:
        """``n x d`` (``+1`` fidelity column with ``fid``) encodings of ``(config_id, config)``s.

        Encodings are cached per config id (a config never changes), so an ask costs O(n) row
        copies rather than O(n) encodings.
        """
        if not configs:
            return None
        new = [(cid, c) for cid, c in configs if cid not in self._rows]
        if new:
            for (cid, _), row in zip(new, self.space.encode([c for _, c in new]), strict=True):
                self._rows[cid] = row
        X = torch.as_tensor(np.stack([self._rows[cid] for cid, _ in configs]),
                            dtype=torch.float64)
        if fid:
            X = torch.cat([X, torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
        return X

    def _round_fn(self, fid: bool) -> Any:
        space, d = self.space, self.space.dim

        def snap(X: torch.Tensor) -> torch.Tensor:
            flat = X.reshape(-1, X.shape[-1]).detach().cpu().numpy()
            snapped = space.canonical(flat[:, :d])
            out = torch.as_tensor(snapped, dtype=X.dtype).reshape(*X.shape[:-1], d)
            if fid:
                out = torch.cat([out, X[..., d:]], dim=-1)
            return out

        return snap

    def refit_size(self, n: int) -> int:
        """The number of (oldest) observations the model is fitted on when ``n`` are available.

        The model is refitted only when the data grew by ``refit_growth`` (at least 4 points) since
        the last refit: thresholds ``m_0 = min_points``, ``m_(k+1) = m_k + max(4, ceil(g m_k))``.
        In between, proposals reuse the last fit, with newer trials as pending points. Because
        the schedule depends only on ``n``, a resumed study refits exactly the same models.
        """
        m = self.min_points
        while True:
            nxt = m + max(4, math.ceil(self.refit_growth * m))
            if nxt > n:
                return m
            m = nxt

    def _cached_fit(self, X: torch.Tensor, Y: torch.Tensor, level: float,
                    history: History) -> tuple[Any | None, FitKey, bool]:
        """The model to propose from, its key ``(budget, n points)``, and whether it is stale.

        Without background fitting: the fit of the first ``refit_size(n)`` points, fitted now if
        not cached. With it: the newest finished fit, while the scheduled one runs in the
        background; None until the first background fit has finished.
        """
        m = self.refit_size(X.shape[0]) if self.refit_growth > 0 else X.shape[0]
        key = (level, m)
        if not self.background_fit:
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, self._fit(*self._fit_inputs(X, Y, level, m, history),
                                              self._fit_seed(key)))
            return self._cache[1], key, False
        self._collect(wait=False)
        if self._cache is None or self._cache[0] != key:
            if self._running is None:
                if self._server is None or not self._server.alive:
                    self._server = FitServer()
                self._server.submit(fit_surrogate, self.surrogate, self.surrogate_options,
                                    self.space.categorical_groups,
                                    *self._fit_inputs(X, Y, level, m, history),
                                    self._fit_seed(key))
                self._running = key
        if self._cache is None:
            return None, key, True
        stale = self._cache[0] != key
        self.stale_proposals += stale
        return self._cache[1], self._cache[0], stale

    def _pool(self, model: Any, key: FitKey, bounds: torch.Tensor, fid: bool,
              exclude: torch.Tensor | None, history: History) -> tuple[Any, int]:
        """The candidate pool of ``model`` and the number of results it already excludes.

        Built once per fitted model without the configs known then (``exclude``); the pool
        never repeats its own proposals, and the caller excludes the results that came since.
        """
        from acquisition import CandidatePool

        if self._pools is None or self._pools[0] is not model:
            pool = CandidatePool(model, bounds, seed=self._fit_seed(key), acqf=self.acqf,  # type: ignore[arg-type]
                                 best_f=model.best_f,
                                 cat_groups=self.space.categorical_groups,
                                 round_fn=self._round_fn(fid), pool_size=self.raw_samples * 2,
                                 n_local=self.raw_samples, exclude=exclude)
            self._pools = (model, pool, len(history.results))
        return self._pools[1], self._pools[2]

    def _collect(self, wait: bool) -> None:
        """Move a finished background fit into the cache (re-raising its error, if any)."""
        if self._running is None or self._server is None:
            return
        if not (wait or self._server.ready()):
            return
        key, self._running = self._running, None
        self._cache = (key, self._server.result())

    def close(self) -> None:
        """Stop the background fitting process, if any (it also exits with the driver)."""
        if self._server is not None:
            self._server.close()
            self._server, self._running = None, None

    def _fit_seed(self, key: FitKey) -> int:
        level, m = key
        seed = int(np.random.SeedSequence([self.seed, m, int(level * 1000)]).generate_state(1)[0])
        return seed % (2**31 - 1)

    def _fit_inputs(self, X: torch.Tensor, Y: torch.Tensor, level: float, m: int,
                    history: History) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None,
                                               float]:
        """The first ``m`` observations, plus (``feed_curves``) the predicted rows of configs whose
        curves, as they stood when the ``m``-th observation arrived, stop below ``level``.

        Cutting the history there makes the fit depend only on ``(level, m)``: resume-exact.

        Returns:
            ``X``, ``Y``, ``Yvar`` (None, or zeros for observations and the predictions'
            variances) and the best observed value, the acquisition's ``best_f``.
        """
        best = float(Y[:m].max())
        if not self.feed_curves:
            return X[:m].clone(), Y[:m].clone(), None, best
        from hyperpilot.methods.feed import fed_rows

        seen, cut = 0, len(history.results)
        for i, r in enumerate(history.results):
            if r.status == Status.COMPLETE and r.value is not None and r.trial.budget == level:
                seen += 1
                if seen == m:
                    cut = i + 1
                    break
        rows = fed_rows(history.results[:cut], history.loss, level, self._predict_curve)
        if not rows:
            return X[:m].clone(), Y[:m].clone(), torch.zeros(m, 1, dtype=X.dtype), best
        Xf = self._encode([(r.config_id, r.config) for r in rows], False)
        assert Xf is not None
        Yf = torch.tensor([[r.y] for r in rows], dtype=X.dtype)
        var = torch.tensor([[r.var] for r in rows], dtype=X.dtype)
        return (torch.cat([X[:m], Xf]), torch.cat([Y[:m], Yf]),
                torch.cat([torch.zeros(m, 1, dtype=X.dtype), var]), best)

    def _predict_curve(self, t: list[float], y: list[float], target: float) -> tuple[float, float]:
        """The parametric curve model's ``(mean, std)`` at ``target``, cached per curve prefix."""
        from fidelity import ParametricCurveModel

        key = (hash((tuple(t), tuple(y))), len(t), target)
        if key not in self._predictions:
            self._predictions[key] = ParametricCurveModel(seed=self.seed).predict(t, y, target)
        return self._predictions[key]

    def _fit(self, X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None, best_f: float,
             seed: int) -> Any:
        return fit_surrogate(self.surrogate, self.surrogate_options,
                             self.space.categorical_groups, X, Y, Yvar, best_f, seed)


def fit_surrogate(surrogate: SurrogateName, options: dict[str, Any],
                  cat_groups: list[list[int]], X: torch.Tensor, Y: torch.Tensor,
                  Yvar: torch.Tensor | None, best_f: float, seed: int) -> Any:
    """Fit one surrogate (a module-level function, so a background process can run it).

    Args:
        surrogate: ``"ensemble"``, ``"mcdropout"`` or ``"gp"``.
        options: keyword options of the surrogate's constructor.
        cat_groups: one-hot column groups of the encoding (the GP's categorical kernel).
        X: ``n x d`` inputs in the unit cube; Y: ``n x 1`` targets, larger is better.
        Yvar: ``n x 1`` known noise variances (neural surrogates), or None.
        best_f: the best observed value, stored as ``model.best_f`` for the acquisition.
        seed: the surrogate's seed.
    """
    from surrogates import GP, DeepEnsemble, MCDropout

    model: Any
    if surrogate == "gp":
        model = GP(cat_groups=cat_groups or None, seed=seed, **options).fit(X, Y)
    else:
        cls = DeepEnsemble if surrogate == "ensemble" else MCDropout
        model = cls(seed=seed, **options).fit(X, Y, Yvar)
    model.best_f = best_f
    return model
