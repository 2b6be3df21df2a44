"""Optuna distributions as our ``SearchSpace``, and values back and forth.

* ``FloatDistribution(low, high, log)`` is ``Float(low, high, log)``; with a ``step`` it is an
  ``Int`` over the grid index ``k`` (value ``low + k * step``), so every proposal is on the grid.
* ``IntDistribution(low, high, log, step=1)`` is ``Int(low, high, log)``; a larger step is an
  ``Int`` over the grid index, as above.
* ``CategoricalDistribution(choices)`` is a ``Categorical`` over the choice *indices* (Optuna's
  own internal representation), so any choice (``None``, a float, a string) works, one-hot.

Distributions with a single value are left out: Optuna answers them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperpilot.space import Categorical, Config, Float, Int, Param, SearchSpace


@dataclass(frozen=True)
class SpaceMap:
    """Our space for a dict of Optuna distributions (see the module docstring).

    Attributes:
        distributions: name -> ``optuna.distributions.BaseDistribution``, single values excluded.
        space: the equivalent ``SearchSpace`` (same names, same order).
    """

    distributions: dict[str, Any]
    space: SearchSpace

    @classmethod
    def of(cls, distributions: dict[str, Any]) -> SpaceMap | None:
        """The map of the non-single distributions, or None when none is left."""
        dists = {n: d for n, d in distributions.items() if not d.single()}
        if not dists:
            return None
        return cls(dists, SearchSpace({n: to_param(d) for n, d in dists.items()}))

    def has(self, params: dict[str, Any], distributions: dict[str, Any] | None = None) -> bool:
        """True when ``params`` (a trial's) hold every parameter, with the same distribution."""
        return all(n in params and (distributions is None or distributions.get(n, d) == d)
                   for n, d in self.distributions.items())

    def to_config(self, params: dict[str, Any]) -> Config:
        """Optuna's values (external representation) as our config."""
        return self.space.validate({n: _to_ours(d, params[n])
                                    for n, d in self.distributions.items()})

    def to_params(self, config: Config) -> dict[str, Any]:
        """Our config as Optuna's values (external representation)."""
        return {n: _to_optuna(d, config[n]) for n, d in self.distributions.items()}


def to_param(d: Any) -> Param:
    """One Optuna distribution as our parameter.

    Raises:
        ValueError: for a distribution kind we do not know.
    """
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(d, CategoricalDistribution):
        return Categorical(list(range(len(d.choices))))
    if isinstance(d, FloatDistribution):
        if d.step is None:
            return Float(d.low, d.high, log=d.log)
        return Int(0, int(round((d.high - d.low) / d.step)))
    if isinstance(d, IntDistribution):
        if d.step == 1:
            return Int(d.low, d.high, log=d.log)
        return Int(0, (d.high - d.low) // d.step)
    raise ValueError(f"HyperPilotSampler does not know the distribution {d!r}")


def _grid(d: Any) -> bool:
    from optuna.distributions import FloatDistribution, IntDistribution

    return (isinstance(d, FloatDistribution) and d.step is not None) or (
        isinstance(d, IntDistribution) and d.step != 1)


def _to_ours(d: Any, v: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(d, CategoricalDistribution):
        return int(d.to_internal_repr(v))
    if _grid(d):
        return int(round((float(v) - d.low) / d.step))
    return int(v) if isinstance(d, IntDistribution) else float(v)


def _to_optuna(d: Any, v: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if isinstance(d, CategoricalDistribution):
        return d.choices[int(v)]
    if _grid(d):
        x = d.low + int(v) * d.step
        return min(float(x), d.high) if isinstance(d, FloatDistribution) else int(min(x, d.high))
    return float(v) if isinstance(d, FloatDistribution) else int(v)
