"""``<method>[@<surrogate>][:<variant>]``: parsing, and any method with any registered surrogate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.methods import METHODS, MethodName, UnknownMethod, make_method, parse_method
from hyperpilot.study import Study
from surrogates import SURROGATES, SurrogateSpec, UnknownSurrogate, register_surrogate
from surrogates.registry import _gp
from tests.hyperpilot.objectives import SPACE, branin_mf

FID = hp.Fidelity(1, 9, 3)
FAST = {"n_init": 4, "num_restarts": 1, "raw_samples": 32}


def _drive(s: Study, n: int) -> Study:
    while len(s.results) < n:
        for t in s.ask(3):
            s.tell(t, *branin_mf(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


def _traj(s: Study) -> list[tuple[Any, ...]]:
    return [(r.trial.config_id, r.trial.budget, r.value, r.trial.info.get("source"))
            for r in s.results]


@pytest.mark.parametrize(("name", "parsed"), [
    ("hyperpilot", MethodName("hyperpilot", None, "")),
    ("hyperpilot@gp", MethodName("hyperpilot", "gp", "")),
    ("hyperpilot-nostop@gp-capped:full", MethodName("hyperpilot-nostop", "gp-capped", "full")),
    ("gp-bo@ensemble:feed", MethodName("gp-bo", "ensemble", "feed")),
    ("random:full", MethodName("random", None, "full")),
])
def test_parse_method(name: str, parsed: MethodName) -> None:
    assert parse_method(name) == parsed


@pytest.mark.parametrize(("name", "why"), [
    ("random@gp", "uses no surrogate"), ("hyperband@ensemble:full", "uses no surrogate"),
    ("hyperpilot@nope", re.escape("known: " + ", ".join(sorted(SURROGATES)))),
    ("hyperpilot@", "unknown surrogate ''"), ("nope@gp", "known: gp-bo"),
    ("hyperpilot@gp:nope", "variants"), ("hyperpilot@gp:feed", "feed"),
    ("gp-bo-capped:feed", "feed"), ("hyperband:bohb", "unknown method"),
])
def test_bad_names_list_what_is_known(name: str, why: str) -> None:
    with pytest.raises(UnknownMethod, match=why):
        parse_method(name)


def test_new_gp_methods_are_registered() -> None:
    assert {"gp-bo", "gp-bo-nostop", "gp-bo-capped"} <= set(METHODS)
    space, seed = SPACE, 0
    assert make_method("gp-bo", space, FID, seed, **FAST).options()["stop_rule"] is not None
    assert make_method("gp-bo-nostop", space, FID, seed, **FAST).options()["stop_rule"] is None
    capped = make_method("gp-bo-capped", space, FID, seed, **FAST).options()
    assert capped["proposer"] == "bo-gp-capped" and capped["stop_rule"] is not None


def test_at_surrogate_equals_the_surrogate_option_and_the_named_method() -> None:
    """``hyperpilot@gp`` = ensemble method with the GP = ``gp-bo`` (both stop runs)."""
    at = _drive(Study(SPACE, FID, "hyperpilot@gp", seed=4, method_options=FAST), 15)
    opt = _drive(Study(SPACE, FID, "hyperpilot", seed=4,
                       method_options={**FAST, "surrogate": "gp"}), 15)
    gp = _drive(Study(SPACE, FID, "gp-bo", seed=4, method_options=FAST), 15)
    assert any(t[3] == "model" for t in _traj(at))
    assert _traj(at) == _traj(opt) == _traj(gp)
    assert at.method.options() == gp.method.options()


def test_surrogate_option_conflicts_and_methods_without_a_model() -> None:
    with pytest.raises(ValueError, match="names surrogate 'gp'"):
        make_method("hyperpilot@gp", SPACE, FID, 0, surrogate="ensemble")
    with pytest.raises(ValueError, match="uses no surrogate"):
        make_method("hyperband", SPACE, FID, 0, surrogate="gp")
    with pytest.raises(UnknownSurrogate, match="known"):
        Study(SPACE, FID, "hyperpilot", method_options={"surrogate": "nope"})


def test_capped_gp_method_fits_on_the_cap_and_keeps_the_true_incumbent() -> None:
    opts = {**FAST, "surrogate_options": {"max_points": 10, "top_fraction": 0.5}}
    s = _drive(Study(SPACE, FID, "gp-bo-capped", seed=2, method_options=opts), 24)
    fitted = s.method.proposer.fitter.cache[1]  # type: ignore[attr-defined]
    model = fitted.model
    assert model.fit_info["capped"] and model.fit_info["n"] == 10
    assert model.fit_info["n_data"] == model.train_X.shape[0] > 10
    assert fitted.best_f == float(model.train_Y.max())
    info = [r.trial.info for r in s.results if r.trial.info.get("source") == "model"]
    assert info and all(i["n_fed"] == 0 and i["n_train"] > 10 for i in info[-1:])


@pytest.fixture
def user_gp() -> Iterator[str]:
    """A surrogate registered by a user: the GP's factory under a new name."""
    register_surrogate("user-gp", SurrogateSpec(_gp, description="registered in a test"))
    try:
        yield "user-gp"
    finally:
        SURROGATES.pop("user-gp")


def test_a_registered_surrogate_works_in_any_method_also_in_the_background(user_gp: str) -> None:
    gp = _traj(_drive(Study(SPACE, FID, "gp-bo-nostop", seed=1, method_options=FAST), 15))
    user = _drive(Study(SPACE, FID, f"hyperpilot-nostop@{user_gp}", seed=1, method_options=FAST),
                  15)
    assert _traj(user) == gp and user.method.options()["proposer"] == "bo-user-gp"
    bg = Study(SPACE, FID, f"gp-bo@{user_gp}:bg", seed=1, method_options=FAST)
    proposer = bg.method.proposer  # type: ignore[attr-defined]
    _drive(bg, 12)
    proposer._collect(wait=True)  # the child got the spec, not the name it never registered
    _drive(bg, 24)
    proposer.close()
    assert any(r.trial.info.get("source") == "model" for r in bg.results)
    assert bg.method.fallbacks == 0


def test_register_surrogate_rejects_names_that_break_method_names() -> None:
    for bad in ["", "a@b", "a:b", "a,b", "a b"]:
        with pytest.raises(ValueError, match="surrogate names"):
            register_surrogate(bad, SurrogateSpec(_gp))


def test_quick_variant_caps_the_acquisitions_iterations(monkeypatch: pytest.MonkeyPatch) -> None:
    """``:quick`` reaches ``propose_or_random`` as ``maxiter=25``; the default stays at 100."""
    import acquisition

    seen: list[int] = []
    real = acquisition.propose_or_random

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["options"].maxiter)
        return real(*args, **kwargs)

    monkeypatch.setattr(acquisition, "propose_or_random", spy)
    for name, maxiter in [("gp-bo-nostop:quick", 25), ("gp-bo-nostop", 100)]:
        seen.clear()
        s = _drive(Study(SPACE, FID, name, seed=1, method_options=FAST), 15)
        assert s.method.proposer.maxiter == maxiter  # type: ignore[attr-defined]
        assert seen and set(seen) == {maxiter}
    with pytest.raises(ValueError, match="maxiter"):
        make_method("gp-bo", SPACE, FID, seed=0, maxiter=0)
