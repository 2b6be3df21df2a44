"""Our learning-curve rule as a :class:`Pruner`: stop when the curve model says the run will
probably not beat the incumbent (``P(final beats it) < threshold``, ``patience`` times in a row).

This is the rule ``hyperpilot`` and ``gp-bo`` use (``hyperpilot.stopping.StopRule`` holds its
settings); the same object serves a HyperPilot study and, through
``hyperpilot.integrations.optuna.CurvePruner``, an Optuna study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpilot.pruners.base import CurveView, Decision, Pruner

FALLBACK_NOTE = " (parametric fallback: too few runs for the study's curve model)"
"""Ends the reason of a decision that a rule on a study-trained curve model (``"bnn"``,
``"gain"``) left to the parametric model, so the bench can count them."""


@dataclass
class _RunState:
    last_check: float = 0.0
    low: int = 0


class CurveRule(Pruner):
    """``P(final value beats the incumbent) < rule.threshold`` for ``rule.patience`` checks.

    A run is checked when its budget grew by ``rule.growth`` since the last check (and is below
    the target); guards skip the model before ``rule.min_points`` points, before
    ``rule.min_fraction`` of the target budget, and without an incumbent.

    Args:
        rule: a ``hyperpilot.stopping.StopRule`` (None: its defaults).
        model: a ``fidelity.CurveModel`` for every run (None: a fresh ``ParametricCurveModel``,
            or the view's own ``model`` when it carries one).
    """

    name = "curve"
    needs_incumbent = True

    def __init__(self, rule: Any = None, model: Any = None) -> None:
        from hyperpilot.stopping import StopRule

        self.rule = rule if rule is not None else StopRule()
        self.model = model
        self._runs: dict[str, _RunState] = {}

    def reset(self, run: str) -> None:
        self._runs.pop(run, None)

    def _decide(self, view: CurveView) -> Decision | None:
        r, b = self.rule, view.budget
        st = self._runs.setdefault(view.run, _RunState())
        if b < st.last_check * r.growth or b >= view.t_target:
            return None
        st.last_check = b
        if (view.incumbent is None or len(view.curve) < r.min_points
                or b < r.min_fraction * view.t_target):
            return None
        prob = self._prob(view)
        st.low = st.low + 1 if prob < r.threshold else 0
        inc = f"{view.incumbent:.6g}"
        # a study-trained model that had too few curves says so in every reason it gives
        note = FALLBACK_NOTE if self._fell_back(view) else ""
        if st.low >= r.patience:
            return Decision("stop", f"P(final beats the incumbent {inc}) = {prob:.3g} < "
                            f"{r.threshold:g} at {st.low} checks in a row{note}", self.name, b, prob)
        why = (f"P(final beats the incumbent {inc}) = {prob:.3g}" +
               (f" < {r.threshold:g} ({st.low} of {r.patience} checks)" if st.low else
                f" >= {r.threshold:g}") + note)
        return Decision("continue", why, self.name, b, prob)

    def _model(self, view: CurveView) -> Any:
        return view.model if view.model is not None else self.model

    def _fell_back(self, view: CurveView) -> bool:
        """A rule on a study-trained model (``"bnn"``, ``"gain"``) answered by the parametric
        model: before the study's model exists (warm-up) or when it had too few curves."""
        from fidelity import ParametricCurveModel

        if self.rule.model == "parametric":
            return False
        m = self._model(view)
        return (m is None or isinstance(m, ParametricCurveModel)
                or getattr(m, "last_source", "") == "parametric"
                or bool(getattr(m, "last_info", {}).get("fallback", False)))

    def _prob(self, view: CurveView) -> float:
        from fidelity import ParametricCurveModel
        from fidelity.curves.stopping import prob_better

        model = self._model(view)
        if model is None:
            model = self.model = ParametricCurveModel(seed=0)
        s = view.sign
        t = [p[0] for p in view.curve]
        y = [s * p[1] for p in view.curve]
        x = None if view.x is None else list(view.x)
        assert view.incumbent is not None
        if hasattr(model, "prob_better"):  # an empirical model counts its own outcomes
            return float(model.prob_better(t, y, view.t_target, s * view.incumbent, x,
                                           self.rule.y_bounds(s)))
        mean, std = model.predict(t, y, view.t_target, x)
        return prob_better(mean, std, s * view.incumbent, self.rule.y_bounds(s))
