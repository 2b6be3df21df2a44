"""Methods by name: a plain dict registry of factories ``(space, fidelity, seed, **options)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperpilot.methods.base import History, Method, Suggestion
from hyperpilot.methods.proposers import Proposer, RandomProposer
from hyperpilot.methods.scheduled import ReplayMismatch, ScheduledMethod
from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity

MethodFactory = Callable[..., Method]


def _random(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    opts.pop("full_fidelity", None)  # random search is full fidelity by definition
    return ScheduledMethod(space, fidelity, seed, RandomProposer(space), full_fidelity=True,
                           name="random", **opts)


def _hyperband(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    return ScheduledMethod(space, fidelity, seed, RandomProposer(space), name="hyperband", **opts)


def _bo(surrogate: str, name: str, stop: bool = False) -> MethodFactory:
    """A model-based method; torch and BoTorch are imported only when it is built."""

    def factory(space: SearchSpace, fidelity: Fidelity, seed: int, mode: str = "async",
                full_fidelity: bool = False, stop_rule: dict[str, Any] | None = None,
                **opts: Any) -> Method:
        from hyperpilot.methods.bo import BOProposer

        if full_fidelity:  # one budget: the two data rules coincide, no constant input column
            opts.setdefault("data_rule", "bohb")
        proposer = BOProposer(space, fidelity.min, seed, surrogate=surrogate, **opts)  # type: ignore[arg-type]
        rule = stop_rule if stop_rule is not None else ({} if stop else None)
        return ScheduledMethod(space, fidelity, seed, proposer, mode=mode,  # type: ignore[arg-type]
                               full_fidelity=full_fidelity, name=name, stop_rule=rule)

    factory.__doc__ = f"{name}: {surrogate} surrogate in batch q-LogEI inside Hyperband brackets."
    return factory


METHODS: dict[str, MethodFactory] = {
    "random": _random,
    "hyperband": _hyperband,
    "hyperpilot": _bo("ensemble", "hyperpilot", stop=True),
    "hyperpilot-nostop": _bo("ensemble", "hyperpilot-nostop"),
    "hyperpilot-mcdropout": _bo("mcdropout", "hyperpilot-mcdropout"),
    "gp-bo": _bo("gp", "gp-bo"),
}


VARIANTS: dict[str, dict[str, Any]] = {
    "": {},
    "full": {"full_fidelity": True},
    "fid": {"data_rule": "fidelity"},  # the default since the fid20 measurement; kept explicit
    "bohb": {"data_rule": "bohb"},
    "bg": {"background_fit": True, "optimizer": "pool"},
    "feed": {"feed_curves": True, "data_rule": "bohb"},
    "norandom": {"random_fraction": 0.0},
}
"""``"<method>:<variant>"`` names: option sets layered over a registered method."""
_NO_MODEL = ("random", "hyperband")


class UnknownMethod(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def register_method(name: str, factory: MethodFactory) -> None:
    """Add a method under ``name`` (a factory taking ``space, fidelity, seed, **options``)."""
    METHODS[name] = factory


def make_method(name: str, space: SearchSpace, fidelity: Fidelity, seed: int,
                **options: Any) -> Method:
    """Build the method registered as ``name``, optionally with a ``":<variant>"`` (``VARIANTS``).

    Raises:
        UnknownMethod: with the list of known names.
    """
    base, _, variant = name.partition(":")
    model_only = (variant in ("fid", "bohb", "bg", "norandom") and base in _NO_MODEL) or (
        variant == "feed" and base not in ("hyperpilot", "hyperpilot-nostop",
                                           "hyperpilot-mcdropout"))
    if base not in METHODS or variant not in VARIANTS or model_only:
        raise UnknownMethod(f"unknown method {name!r}; known: {', '.join(sorted(METHODS))}; "
                            "variants: '<name>:full' (max budget only), '<model method>:fid' "
                            "(budget as a model input: the default), '<model method>:bohb' (fit on "
                            "the highest budget with enough points), '<model method>:bg' (background fits, "
                            "pool proposals: for many workers), '<neural method>:feed' (partial "
                            "curves extrapolated into the surrogate's data), "
                            "'<model method>:norandom' (no random proposals after the initial design)")
    return METHODS[base](space, fidelity, seed, **{**options, **VARIANTS[variant]})


__all__ = ["History", "METHODS", "Method", "Proposer", "RandomProposer", "ReplayMismatch",
           "ScheduledMethod", "Suggestion", "UnknownMethod", "make_method", "register_method"]
