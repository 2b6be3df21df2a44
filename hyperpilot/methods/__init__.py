"""Methods by name: a plain dict registry of factories ``(space, fidelity, seed, **options)``.

A method name is ``<method>[@<surrogate>][:<variant>[+<variant>...]]`` (:func:`parse_method`):

* ``<method>``: a key of ``METHODS``: ``random``, ``hyperband``, ``hyperpilot`` (the ``transfer``
  network: ``rff-kev`` plus features learned on related tasks where there are any; curve
  stopping), ``hyperpilot-nostop``, ``hyperpilot-mcdropout``, ``gp-bo`` (GP, curve
  stopping), ``gp-bo-nostop``, ``gp-bo-capped`` (GP on at most 500 points, curve stopping),
  ``pbt`` (population-based training, ``hyperpilot.methods.pbt``), ``pb2`` and ``pb2-bnn`` (its
  explore step by a GP / our BNN on (time, hyperparameters), ``hyperpilot.methods.pb2``): these
  three train schedules and need an objective that resumes from checkpoints;
* ``@<surrogate>``: any key of ``surrogates.SURROGATES`` replaces a model-based method's own
  surrogate (``hyperpilot@gp``, ``gp-bo@ensemble``); the same as
  ``method_options={"surrogate": name}``;
* ``:<variant>``: an option set of ``VARIANTS`` (``hyperpilot:full``, ``gp-bo@gp-capped:bohb``,
  ``hyperband:race``: racing at the max budget, ``fidelity.racing``; ``random:bymodel``: the
  incumbent by a GP's posterior mean, ``hyperpilot.selection``), or several joined by ``+``
  (``hyperpilot:race+bnnstop``) when they set different options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from hyperpilot.methods.base import History, Method, Suggestion
from hyperpilot.methods.proposers import Proposer, RandomProposer
from hyperpilot.methods.scheduled import ReplayMismatch, ScheduledMethod
from hyperpilot.space import SearchSpace
from hyperpilot.trial import Fidelity

MethodFactory = Callable[..., Method]


def _pbt(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    from hyperpilot.methods.pbt import PBT

    return PBT(space, fidelity, seed, **opts)


def _pb2(surrogate: str, name: str) -> MethodFactory:
    def factory(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
        from hyperpilot.methods.pb2 import PB2

        return PB2(space, fidelity, seed, surrogate=opts.pop("surrogate", surrogate), name=name,
                   **opts)

    return factory


def _random(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    opts.pop("full_fidelity", None)  # random search is full fidelity by definition
    return ScheduledMethod(space, fidelity, seed, RandomProposer(space), full_fidelity=True,
                           name="random", **opts)


def _hyperband(space: SearchSpace, fidelity: Fidelity, seed: int, **opts: Any) -> Method:
    return ScheduledMethod(space, fidelity, seed, RandomProposer(space), name="hyperband", **opts)


@dataclass(frozen=True)
class ModelMethod:
    """A model-based method: a surrogate in batch q-LogEI inside Hyperband brackets.

    torch and BoTorch are imported only when the method is built. Options other than those
    named below go to ``hyperpilot.methods.bo.BOProposer``. With ``racing`` every seed of a
    config enters the surrogate as its own row (a replicate: same config, same budget), the
    surrogate learns the noise from them, and the acquisition is ``qlognei`` unless an ``acqf``
    option says otherwise.

    Attributes:
        surrogate: the default surrogate, a key of ``surrogates.SURROGATES``.
        name: the method's name.
        stop: stop runs early from their learning curves (``StopRule()``) unless a
            ``stop_rule`` option says otherwise.
        local_related: where the study has related tasks (a ``related`` option naming at least
            one task) and the optimizer is L-BFGS, the ``local`` option defaults to
            ``LocalShare()``'s (``hyperpilot.methods.local``); ``local=None`` (the ``:global``
            variant) turns it off. A surrogate that does not learn from related tasks (``gp-bo``'s
            GP) takes the same share and is not given the tasks: the baseline searches as
            ``hyperpilot`` does, so that the two differ in the surrogate alone.
    """

    surrogate: str
    name: str
    stop: bool = False
    local_related: bool = False

    def __call__(self, space: SearchSpace, fidelity: Fidelity, seed: int,
                 mode: Literal["async", "sync"] = "async", full_fidelity: bool = False,
                 stop_rule: dict[str, Any] | None = None, surrogate: str | None = None,
                 paired_seeds: bool = False, racing: dict[str, Any] | None = None,
                 incumbent: dict[str, Any] | None = None, **opts: Any) -> Method:
        from hyperpilot.methods.bo import BOProposer

        if "related" in opts:
            role = self.related_role(surrogate)
            if (self.local_related and role is not None and opts["related"].get("tasks")
                    and opts.get("optimizer", "lbfgs") == "lbfgs"):
                opts.setdefault("local", {})
            if role == "local":
                del opts["related"]  # gp-bo's GP: the tasks set its search; it cannot use them
        if full_fidelity:  # one budget: the two data rules coincide, no constant input column
            opts.setdefault("data_rule", "bohb")
        if racing is not None:  # replicated, noisy observations: noisy EI (unless asked otherwise)
            opts.setdefault("acqf", "qlognei")
        proposer = BOProposer(space, fidelity.min, seed, surrogate=surrogate or self.surrogate,
                              fidelity=fidelity, **opts)
        rule = stop_rule if stop_rule is not None else ({} if self.stop else None)
        return ScheduledMethod(space, fidelity, seed, proposer, mode=mode,
                               full_fidelity=full_fidelity, name=self.name, stop_rule=rule,
                               paired_seeds=paired_seeds, racing=racing, incumbent=incumbent)

    def related_role(self, surrogate: str | None) -> Literal["model", "local"] | None:
        """What the method does with a study's related tasks: the one rule that both the bench
        (``hyperpilot.related.method_related_options``: whether to hand them over) and
        ``__call__`` (whether to keep them, and to take the local share) follow.

        Args:
            surrogate: the surrogate named in the method's name (``hyperpilot@NAME``), or None
                for the method's own.

        Returns:
            ``"model"``: the surrogate learns from them (registered with ``related``);
            ``"local"``: they only switch on the local share (``local_related`` with the
            method's own surrogate, which does not learn from them: ``gp-bo``'s GP); None: not
            used.
        """
        from surrogates import surrogate_spec

        if surrogate_spec(surrogate or self.surrogate).related:
            return "model"
        return "local" if self.local_related and surrogate is None else None


def _bo(surrogate: str, name: str, stop: bool = False, local_related: bool = False
        ) -> ModelMethod:
    return ModelMethod(surrogate, name, stop, local_related)


DEFAULT_SURROGATE = "transfer"
"""The surrogate of ``hyperpilot`` and ``hyperpilot-nostop`` (since 2026-12-05, 23:40 UTC): a
random-Fourier-feature network (``rff-kev``: 2,048 units, an exact Bayesian last layer,
hyperparameters from its infinite-width kernel's evidence) plus a feature block learned on
related tasks (ABLR, ``surrogates.transfer``), whose scale the task's own evidence sets. Where
the study has related tasks (an LCBench task: the other development tasks;
``hyperpilot.related``) it beat the GP on 10 LCBench tasks nobody developed on, 36 / 13 at 10
FFE (p = 0.0014) and 33 / 17 at 30 FFE (p = 0.033) over 50 pairs, ``rff-kev`` 40 / 9 and the
multi-task GP given the same related tasks 33 / 17 at 30 FFE (README, "Learning from related
tasks"); on the development tasks at the headline's 100 FFE (90 pairs by 2026-12-06) it wins
54 / 35 and 55 / 34 against the GP at 10 and 33.3 FFE (p = 0.056, 0.033) and loses 39 / 48 at
100 FFE (p = 0.39), and the same kernel conditioned exactly (``transfer-gp``) tied the GP at 100 FFE
(10 / 9 / 1) at the GP's cost, so the cheaper ``transfer`` stays. Since 2026-12-06 ``hyperpilot``
takes a late local share where the study has related tasks (``methods.local``), and ``gp-bo``
the same: on the 100-FFE grid (90 pairs, 2026-12-06) it beats itself without the share
55 / 17 / 18 (p = 8.1e-06) at 100 FFE, and wins 51 / 39 (p = 0.25) against ``gp-bo`` with the
share (``transfer:global`` against ``gp-bo:global``: 39 / 48, p = 0.39). Where there are no
related tasks it is ``rff-kev`` itself: on Hartmann-6 and the bandit at 100 FFE (10 pairs,
2026-12-07) level with the GP pair by pair (4 / 6, 5 / 5, 6 / 4) and within 1.05x of its median
regret. Over all 12 headline benchmarks at 100 FFE (100 pairs) it ranks first of 12 at 10, 33.3
and 100 FFE (3.56 / 3.32 / 2.92 against the GP's 4.58 / 4.04 / 3.48).
Until 2026-12-05 the default was the deep ensemble (today's ``hyperpilot@ensemble``), then the
linearized-Laplace network
(``hyperpilot@laplace-warp``), then ``rff``, then ``rff-kev``."""
PB2_BNN_SURROGATE = DEFAULT_SURROGATE
"""The explore model of ``pb2-bnn`` (since 2026-12-06): the default surrogate, which on PB2's
(time, mutable hyperparameters) inputs has no related tasks and is ``rff-kev``. Side by side
with the linearized-Laplace network that explored until then (``pb2-bnn@laplace-warp``; README,
issue 21): first in mean rank on ``schedule-toy`` (15 seeds, 2.17 against 2.90 of 4), validation
error 0.0305 against 0.0408 on digits and equal on breast cancer (0.0471; 3 seeds), at 0.3-0.6x
its tuning time."""

METHODS: dict[str, MethodFactory] = {
    "random": _random,
    "hyperband": _hyperband,
    "hyperpilot": _bo(DEFAULT_SURROGATE, "hyperpilot", stop=True, local_related=True),
    "hyperpilot-nostop": _bo(DEFAULT_SURROGATE, "hyperpilot-nostop", local_related=True),
    "hyperpilot-mcdropout": _bo("mcdropout", "hyperpilot-mcdropout"),
    "gp-bo": _bo("gp", "gp-bo", stop=True, local_related=True),  # hyperpilot's stopping and
    # local share: a fair baseline
    "gp-bo-nostop": _bo("gp", "gp-bo-nostop"),  # gp-bo before it stopped runs
    "gp-bo-capped": _bo("gp-capped", "gp-bo-capped", stop=True),  # Syne Tune's 500-point cap
    "pbt": _pbt,  # population-based training: schedules, needs a checkpointing objective
    "pb2": _pb2("gp", "pb2"),  # PBT with a GP-UCB explore step on (time, hyperparameters)
    "pb2-bnn": _pb2(PB2_BNN_SURROGATE, "pb2-bnn"),  # ... with our default BNN surrogate
}
POPULATION_METHODS = ("pbt", "pb2", "pb2-bnn")
"""Methods whose trials continue other trials' checkpoints: they need an objective that resumes
(``runner.resumes_from_checkpoints``) and schedule-valued configs."""


VARIANTS: dict[str, dict[str, Any]] = {
    "": {},
    "full": {"full_fidelity": True},
    "fid": {"data_rule": "fidelity"},  # the default since the fid20 measurement; kept explicit
    "bohb": {"data_rule": "bohb"},
    "curves": {"data_rule": "curves"},  # every learning-curve point is an observation
    "bg": {"background_fit": True, "optimizer": "pool"},
    "feed": {"feed_curves": True, "data_rule": "bohb"},
    "norandom": {"random_fraction": 0.0},
    "race": {"racing": {}},  # race at the max budget on up to 3 paired seeds (RaceRule)
    "bymodel": {"incumbent": {"statistic": "model"}},  # incumbent: best posterior mean (Ax)
    "stop": {"stop_rule": {}},  # learning-curve stopping on the parametric curve model
    "bnnstop": {"stop_rule": {"model": "bnn"}},  # ... on the BNN curve model, trained online
    "gainstop": {"stop_rule": {"model": "gain"}},  # ... on the study's finished runs' gains
    # the parametric rule, stopping sooner: one check below 0.4 from 5% of the budget (issue 19:
    # 40-55% of the training budget saved at 0.3-0.5% false stops with Hyperband on LCBench)
    "faststop": {"stop_rule": {"threshold": 0.4, "patience": 1, "min_fraction": 0.05}},
    "local": {"local": {}},  # late in a study a share of each batch in a box around the incumbent
    "global": {"local": None},  # every slot global: hyperpilot before its local share
    "quick": {"maxiter": 25},  # a quarter of the acquisition's L-BFGS-B iterations (cost)
}
"""``"<method>:<variant>"`` names: option sets layered over a registered method."""
_NO_MODEL = ("random", "hyperband", "pbt")
_MODEL_VARIANTS = ("fid", "bohb", "curves", "bg", "norandom", "feed", "local", "global",
                   "quick")


class UnknownMethod(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class MethodName:
    """A parsed ``<method>[@<surrogate>][:<variant>]`` (``surrogate`` None: the method's own)."""

    base: str
    surrogate: str | None
    variant: str


def register_method(name: str, factory: MethodFactory) -> None:
    """Add a method under ``name`` (a factory taking ``space, fidelity, seed, **options``).

    A model-based factory should accept a ``surrogate`` option, so ``<name>@<surrogate>`` works.
    """
    METHODS[name] = factory


def parse_method(name: str) -> MethodName:
    """Split and check ``<method>[@<surrogate>][:<variant>]``: the one parser of method names.

    Raises:
        UnknownMethod: for an unknown method, surrogate or variant, a surrogate on a method
            without a model, a model variant on one, or ``:feed`` with a surrogate that does
            not accept known variances; the message lists the known names.
    """
    head, _, variant = name.partition(":")
    base, at, surrogate = head.partition("@")
    parts = variant.split("+")
    if base not in METHODS or any(v not in VARIANTS for v in parts) or (
            len(parts) > 1 and ("" in parts or len(set(parts)) < len(parts))):
        raise UnknownMethod(_unknown(name))
    if at and base in _NO_MODEL:
        raise UnknownMethod(f"method {base!r} uses no surrogate, so {name!r} is not a method; "
                            f"'@<surrogate>' goes on a model-based method")
    if at:
        from surrogates import SURROGATES

        if surrogate not in SURROGATES:
            raise UnknownMethod(f"unknown surrogate {surrogate!r} in {name!r}; known: "
                                f"{', '.join(sorted(SURROGATES))}")
    if base in POPULATION_METHODS and variant:
        raise UnknownMethod(f"{name!r}: population-based methods take no ':<variant>'")
    model_only = any(v in _MODEL_VARIANTS for v in parts) and base in _NO_MODEL
    if model_only or ("feed" in parts and not _feeds(base, surrogate or None)):
        raise UnknownMethod(_unknown(name))
    if len(parts) > 1:
        variant_options(variant)  # two variants that set one option differently: refused
    return MethodName(base, surrogate or None, variant)


def variant_options(variant: str) -> dict[str, Any]:
    """The options of ``<variant>[+<variant>...]``, merged; two that disagree are refused."""
    out: dict[str, Any] = {}
    for v in variant.split("+"):
        for k, x in VARIANTS[v].items():
            if k in out and out[k] != x:
                raise UnknownMethod(f"variants in {variant!r} disagree on {k!r}")
            out[k] = x
    return out


def _feeds(base: str, surrogate: str | None) -> bool:
    """Whether ``:feed`` applies: the surrogate in use accepts known variances."""
    factory = METHODS[base]
    name = surrogate or (factory.surrogate if isinstance(factory, ModelMethod) else None)
    if name is None:
        return False
    from surrogates import SURROGATES

    return SURROGATES[name].accepts_yvar


def _unknown(name: str) -> str:
    return (f"unknown method {name!r}; known: {', '.join(sorted(METHODS))}; '<model "
            "method>@<surrogate>' picks any registered surrogate (hyperpilot@gp); variants: "
            "'<name>:full' (max budget only), '<model method>:fid' (budget as a model input: "
            "the default), '<model method>:bohb' (fit on the highest budget with enough "
            "points), '<model method>:curves' (every learning-curve point is an observation), "
            "'<model method>:bg' (background fits, pool proposals: for many workers), "
            "'<model method>:feed' (partial curves extrapolated into the surrogate's data; "
            "surrogates that accept known variances), '<model method>:norandom' (no random "
            "proposals after the initial design), '<model method>:local' / "
            "'<model method>:global' (late in a study a share of each batch in a box around the "
            "incumbent, or none; hyperpilot's and gp-bo's default is local where the study has "
            "related tasks), '<model method>:quick' (25 L-BFGS-B iterations per restart of the "
            "acquisition, not 100), '<name>:race' (race configs at the max budget on up to 3 "
            "paired seeds), '<name>:bymodel' (the incumbent is the config with the best "
            "posterior mean of a GP fitted on every run, not the best single run), "
            "'<name>:stop' / '<name>:bnnstop' / '<name>:gainstop' (learning-curve stopping on "
            "the parametric / the online BNN curve model / the remaining gains of the study's "
            "most similar finished runs), '<name>:faststop' (the parametric rule at threshold "
            "0.4, patience 1, from 5% of the budget); join variants with '+' (hyperpilot:race+bnnstop)")


def make_method(name: str, space: SearchSpace, fidelity: Fidelity, seed: int,
                **options: Any) -> Method:
    """Build the method named ``<method>[@<surrogate>][:<variant>]`` (see :func:`parse_method`).

    ``@<surrogate>`` is the ``surrogate`` option; the variant's options override ``options``.

    Raises:
        UnknownMethod: with the list of known names.
        ValueError: for a ``surrogate`` option on a method without a model, or one that
            contradicts the name's ``@<surrogate>``.
    """
    parsed = parse_method(name)
    opts = {**options, **variant_options(parsed.variant)}
    if parsed.surrogate is not None:
        if opts.get("surrogate", parsed.surrogate) != parsed.surrogate:
            raise ValueError(f"method {name!r} names surrogate {parsed.surrogate!r} but its "
                             f"options say {opts['surrogate']!r}")
        opts["surrogate"] = parsed.surrogate
    if "surrogate" in opts and parsed.base in _NO_MODEL:
        raise ValueError(f"method {parsed.base!r} uses no surrogate (got surrogate="
                         f"{opts['surrogate']!r})")
    return METHODS[parsed.base](space, fidelity, seed, **opts)


__all__ = ["History", "METHODS", "POPULATION_METHODS", "Method", "MethodName", "ModelMethod", "Proposer",
           "RandomProposer", "ReplayMismatch", "ScheduledMethod", "Suggestion", "UnknownMethod",
           "VARIANTS", "make_method", "parse_method", "register_method"]
