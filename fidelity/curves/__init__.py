"""Learning-curve models: predict a run's value at a later budget from a prefix of its curve."""

from fidelity.curves.base import Curve, CurveModel
from fidelity.curves.bnn import BNNCurveModel
from fidelity.curves.gain import GainCurveModel
from fidelity.curves.mixture import Mixture
from fidelity.curves.parametric import ParametricCurveModel
from fidelity.curves.stopping import CurveStopper, prob_better

__all__ = ["BNNCurveModel", "Curve", "CurveModel", "CurveStopper", "GainCurveModel", "Mixture",
           "ParametricCurveModel", "prob_better"]
