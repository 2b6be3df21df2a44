"""Learning-curve early stopping inside a trial, for live workloads and simulated benchmarks alike.

The study puts a :class:`StopperState` (the rule, the incumbent, the config's earlier curve) into
each trial's ``context.extras["stopper"]``. :class:`StoppableObjective` wraps the user's objective
in the worker: ``context.report(budget, value)`` asks the curve model whether the run can still
beat the incumbent, and a True answer tells a live workload (SB3, the MLP) to stop. An objective
that returns its whole curve at once (LCBench, the synthetic functions) is replayed through the
same rule afterwards and cut where the rule would have stopped it, with the cost scaled to the
budget it would have used. Stopped trials are recorded with status ``stopped`` and are never
promoted.

The curve model is ``ParametricCurveModel`` (``StopRule(model="parametric")``, the default, as
every stored study used it), ``BNNCurveModel`` (``model="bnn"``): a deep ensemble conditioned on
the config's encoding, trained online on the study's own curves by :class:`OnlineCurveModel` in
the driver and shipped to the worker inside the state, or ``GainCurveModel`` (``model="gain"``):
the remaining gains of the study's most similar finished runs, also kept by
:class:`OnlineCurveModel`. ``bounds`` keeps a bounded metric's
predictions inside its range (``prob_better`` on the truncated Gaussian).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from hyperpilot.trial import Context, Curve, parse_objective_output


@dataclass(frozen=True)
class StopRule:
    """When to stop: ``P(final beats the incumbent) < threshold``, after the guards pass.

    Attributes:
        threshold: probability below which a run is stopped.
        min_fraction: never stop before this share of the max budget was seen.
        min_points: never stop with fewer curve points.
        patience: consecutive low-probability checks needed.
        growth: check again only once the budget grew by this factor (caps the model's cost).
        model: ``"parametric"`` (``ParametricCurveModel``, fitted to the run's own prefix),
            ``"bnn"`` (``BNNCurveModel`` on the config and the prefix, trained on the study's
            curves; the parametric model until it has ``min_curves`` of them) or ``"gain"``
            (``GainCurveModel``: the last value plus the remaining gains of the study's most
            similar runs at the max budget, counted; the parametric model until 5 are there).
        bounds: ``[lo, hi]`` the objective's value cannot leave (in the study's values, e.g.
            ``[0, 1]`` for an accuracy, ``[-500, 0]`` for Acrobot's return), or None.
    """

    threshold: float = 0.05
    min_fraction: float = 0.1
    min_points: int = 3
    patience: int = 2
    growth: float = 1.2
    model: Literal["parametric", "bnn", "gain"] = "parametric"
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1 or not 0 <= self.min_fraction <= 1:
            raise ValueError("threshold and min_fraction must be in [0, 1]")
        if self.growth < 1 or self.patience < 1 or self.min_points < 1:
            raise ValueError("growth must be >= 1, patience and min_points >= 1")
        if self.model not in ("parametric", "bnn", "gain"):
            raise ValueError(f"stop_rule model must be 'parametric', 'bnn' or 'gain', got "
                             f"{self.model!r}")
        if self.bounds is not None:
            lo, hi = (float(b) for b in self.bounds)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"stop_rule bounds must be finite [lo, hi] with lo < hi, got "
                                 f"{self.bounds!r}")
            object.__setattr__(self, "bounds", (lo, hi))

    def options(self) -> dict[str, Any]:
        """The rule as stored with a study; ``model`` and ``bounds`` only when set, so the
        definitions of studies stored before they existed stay the same."""
        out = dict(vars(self))
        if self.model == "parametric":
            del out["model"]
        if self.bounds is None:
            del out["bounds"]
        else:
            out["bounds"] = list(self.bounds)
        return out

    def y_bounds(self, sign: float) -> tuple[float, float] | None:
        """``bounds`` in the stopper's "larger is better" units ``y = sign * value``."""
        if self.bounds is None:
            return None
        a, b = sign * self.bounds[0], sign * self.bounds[1]
        return (min(a, b), max(a, b))


@dataclass
class StopperState:
    """What a worker needs to decide (picklable). ``y = sign * value`` is "larger is better".

    Attributes:
        rule: the curve rule's settings (the pruner when ``pruner`` is None).
        incumbent: the best final value so far in ``y`` units, or None.
        t_target: the run's target budget.
        sign: ``+1`` to maximize, ``-1`` to minimize.
        prefix: the run's curve from its earlier rungs (a promoted run continues it).
        model: a fitted ``fidelity.CurveModel`` (None: a fresh parametric model).
        x: the config's encoding, for a model conditioned on it.
        pruner: the ``hyperpilot.pruners.Pruner`` that decides (None: ``CurveRule(rule)``).
        peers: finished runs' curves (``hyperpilot.pruners.Peer``), for pruners that compare.
        trial_id: the trial's id (names the run).
        config: the trial's config.
    """

    rule: StopRule
    incumbent: float | None
    t_target: float
    sign: float
    prefix: Curve = field(default_factory=list)
    model: Any = None
    x: list[float] | None = None
    pruner: Any = None
    peers: tuple[Any, ...] = ()
    trial_id: int = 0
    config: dict[str, Any] = field(default_factory=dict)


class _Judge:
    """Shows the pruner each reported point; keeps the decisions (``Decision.to_dict``)."""

    def __init__(self, state: StopperState) -> None:
        from hyperpilot.pruners import CurveRule

        self.state = state
        self.pruner = state.pruner if state.pruner is not None else CurveRule(state.rule)
        self.run = f"trial {state.trial_id}"
        self.pruner.reset(self.run)
        self.curve: list[tuple[float, float]] = [(float(b), float(v)) for b, v in state.prefix]
        self.decisions: list[dict[str, Any]] = []
        self.checks = 0

    def add(self, budget: float, value: float) -> bool:
        from hyperpilot.pruners import CurveView

        if not math.isfinite(value) or (self.curve and budget <= self.curve[-1][0]):
            return False
        self.curve.append((float(budget), float(value)))
        if budget >= self.state.t_target:
            return False
        self.checks += 1
        st, sign = self.state, self.state.sign
        view = CurveView(self.run, tuple(self.curve), st.t_target,
                         "maximize" if sign > 0 else "minimize",
                         None if st.incumbent is None else sign * st.incumbent, st.peers,
                         st.config, None if st.x is None else tuple(st.x), st.model,
                         st.trial_id)
        d = self.pruner.decide(view)
        if d is None:
            return False
        self.decisions.append(d.to_dict())
        return d.stop


class StoppableObjective:
    """Wraps an objective so that the study's pruner applies to it (see module docstring).

    Every decision the pruner takes goes to ``context.extras["decisions"]``, and from there to
    the store with the trial's result.
    """

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def __call__(self, config: dict[str, Any], budget: float, resume_budget: float,
                 ctx: Context) -> Any:
        state = ctx.extras.get("stopper") if ctx is not None else None
        if state is None:
            return self.objective(config, budget, resume_budget, ctx)
        judge = _Judge(state)
        live: list[float] = []

        def report(b: float, v: float) -> bool:
            if judge.add(b, v):
                live.append(b)
                return True
            return False

        ctx.report = report
        ctx.extras["decisions"] = judge.decisions
        value, curve, cost = parse_objective_output(self.objective(config, budget, resume_budget, ctx))
        if live:
            ctx.extras["stopped_at"] = live[0]
            return value, curve, cost
        if judge.checks == 0 and len(curve) > 1:  # nothing reported live: replay the curve
            replay = _Judge(state)
            ctx.extras["decisions"] = replay.decisions
            for j, (b, v) in enumerate(curve[:-1]):
                if replay.add(b, v):
                    span = max(budget - resume_budget, 1e-12)
                    frac = (b - resume_budget) / span
                    ctx.extras["stopped_at"] = b
                    return v, curve[: j + 1], None if cost is None else cost * frac
        return value, curve, cost


class OnlineCurveModel:
    """The study's ``BNNCurveModel`` (or ``GainCurveModel``), refitted on its own curves as they
    come in.

    A curve is one run (a config on one seed), merged over its promotions, with at least two
    points; its input is the config's encoding. The model is refitted when the number of told
    runs with a curve grew by ``growth`` (``hyperpilot.methods.fitting.refit_size``), on the
    results told up to that point only, so a fit depends on its size alone and a resumed study
    refits the same models.

    Args:
        space: the search space (encodes configs into the model's input).
        seed: seeds each fit (with its size).
        min_curves: runs needed before the first fit (the parametric model until then).
        growth: refit when the data grew by this fraction.
        options: keyword options of the model (e.g. smaller ``max_steps`` in tests).
        kind: ``"bnn"`` or ``"gain"`` (nothing to train: :meth:`for_rule` refits it at every
            new run).
    """

    def __init__(self, space: Any, seed: int, min_curves: int = 8, growth: float = 0.25,
                 options: dict[str, Any] | None = None, kind: str = "bnn") -> None:
        if kind not in ("bnn", "gain"):
            raise ValueError(f"kind must be 'bnn' or 'gain', got {kind!r}")
        self.kind = kind
        self.space, self.seed, self.min_curves, self.growth = space, seed, min_curves, growth
        self.options = dict(options or {})
        self.cache: tuple[int, Any] | None = None
        self.fits = 0

    @classmethod
    def for_rule(cls, rule: StopRule | None, space: Any, seed: int) -> OnlineCurveModel | None:
        """The online model a rule needs (None for the parametric model, fitted per run)."""
        if rule is None or rule.model == "parametric":
            return None
        if rule.model == "gain":
            return cls(space, seed, min_curves=5, growth=0.0, kind="gain")
        return cls(space, seed)

    def model(self, results: list[Any], sign: float) -> Any:
        """The fitted model for these results (told order), or None with too few curves."""
        from hyperpilot.methods.fitting import refit_size

        told = [i for i, r in enumerate(results) if r.status.value != "failed" and r.curve]
        if len(told) < self.min_curves:
            return None
        m = refit_size(len(told), self.min_curves, self.growth)
        if self.cache is None or self.cache[0] != m:
            self.cache = (m, self._fit(results[: told[m - 1] + 1], sign, m))
        return self.cache[1]

    def _fit(self, results: list[Any], sign: float, m: int) -> Any:
        from fidelity import BNNCurveModel, GainCurveModel

        runs: dict[tuple[int, int], dict[float, float]] = {}
        configs = {}
        for r in results:
            if r.status.value == "failed":
                continue
            key = (r.trial.config_id, r.trial.seed_index)
            configs[key] = r.trial.config
            pts = runs.setdefault(key, {})
            for b, v in r.curve:
                pts[float(b)] = sign * float(v)
        keys = [k for k in runs if len(runs[k]) >= 2]
        xs = self.space.encode([configs[k] for k in keys]) if keys else []
        curves = [(sorted(runs[k]), [runs[k][b] for b in sorted(runs[k])], x)
                  for k, x in zip(keys, xs, strict=True)]
        seed = int(np.random.SeedSequence([self.seed, 31, m]).generate_state(1)[0] % (2**31 - 1))
        self.fits += 1
        if self.kind == "gain":
            return GainCurveModel(seed=seed, **self.options).fit(curves)
        return BNNCurveModel(seed=seed, min_curves=self.min_curves, **self.options).fit(curves)

    def encode(self, config: dict[str, Any]) -> list[float]:
        """The config's encoding, as the model sees it."""
        return [float(v) for v in self.space.encode([config])[0]]
