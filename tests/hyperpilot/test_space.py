"""SearchSpace: encode/decode properties (hypothesis), scales, conditions, errors, serialisation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperpilot.space import Categorical, Condition, Float, Int, Param, SearchSpace, SpaceError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------- strategies
@st.composite
def params(draw: st.DrawFn) -> Param:
    kind = draw(st.sampled_from(["float", "int", "cat"]))
    if kind == "cat":
        pool = st.one_of(st.text(min_size=1, max_size=4), st.integers(-5, 5), st.booleans())
        return Categorical(draw(st.lists(pool, min_size=1, max_size=5, unique_by=repr)))
    log = draw(st.booleans())
    if kind == "int":
        low = draw(st.integers(1, 1000) if log else st.integers(-1000, 1000))
        return Int(low, low + draw(st.integers(1, 10_000)), log)
    if log:
        low = 10 ** draw(st.floats(-8, 3))
        return Float(low, low * 10 ** draw(st.floats(0.01, 8)), True)
    low = draw(st.floats(-1e3, 1e3))
    return Float(low, low + draw(st.floats(1e-3, 1e4)), False)


@st.composite
def spaces(draw: st.DrawFn) -> SearchSpace:
    ps = draw(st.lists(params(), min_size=1, max_size=5))
    return SearchSpace({f"p{i}": p for i, p in enumerate(ps)})


def value_in(p: Param) -> st.SearchStrategy[Any]:
    if isinstance(p, Categorical):
        return st.sampled_from(p.choices)
    if isinstance(p, Int):
        return st.integers(p.low, p.high)
    return st.floats(p.low, p.high)


@st.composite
def space_and_config(draw: st.DrawFn) -> tuple[SearchSpace, dict[str, Any]]:
    space = draw(spaces())
    return space, {n: draw(value_in(p)) for n, p in space.params.items()}


# --------------------------------------------------------------------- properties
@FAST
@given(space_and_config())
def test_encode_decode_round_trip(sc: tuple[SearchSpace, dict[str, Any]]) -> None:
    space, config = sc
    x = space.encode(config)
    assert x.shape == (space.dim,) and np.all((x >= 0) & (x <= 1))
    back = space.decode(x[None])[0]
    assert list(back) == list(config)
    for n, p in space.params.items():
        if isinstance(p, Float):
            assert math.isclose(back[n], config[n], rel_tol=1e-9, abs_tol=1e-12 * (p.high - p.low))
        else:
            assert back[n] == config[n] and type(back[n]) is type(config[n])


@FAST
@given(spaces(), st.integers(0, 2**32 - 1))
def test_decode_of_any_point_is_valid(space: SearchSpace, seed: int) -> None:
    X = np.random.default_rng(seed).uniform(-0.5, 1.5, (8, space.dim))  # outside the cube too
    X[0], X[1] = 0.0, 1.0
    for cfg in space.decode(X):
        assert space.validate(cfg) == cfg


@FAST
@given(spaces(), st.integers(0, 2**32 - 1))
def test_canonical_is_idempotent(space: SearchSpace, seed: int) -> None:
    X = np.random.default_rng(seed).random((5, space.dim))
    C = space.canonical(X)
    np.testing.assert_allclose(space.canonical(C), C, atol=1e-9)


# --------------------------------------------------------------------- scales and rounding
def test_int_rounding_gives_each_integer_an_equal_share() -> None:
    space = SearchSpace({"k": Int(1, 3)})
    assert [c["k"] for c in space.decode(np.array([[0.0], [0.32], [0.34], [0.66], [0.67], [1.0]]))] \
        == [1, 1, 2, 2, 3, 3]
    counts = np.bincount([c["k"] for c in space.sample(3000, np.random.default_rng(0))])[1:]
    assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.04)


def test_log_scale_is_respected() -> None:
    space = SearchSpace({"lr": Float(1e-4, 1.0, log=True), "units": Int(16, 1024, log=True),
                         "lin": Float(0.0, 1.0)})
    cfgs = space.sample(4000, np.random.default_rng(1))
    lr, units = np.array([c["lr"] for c in cfgs]), np.array([c["units"] for c in cfgs])
    assert 0.7 < np.median(lr) / 1e-2 < 1.4  # geometric mean, not the arithmetic mean 0.5
    assert 0.7 < np.median(units) / 128 < 1.4
    assert abs(np.median([c["lin"] for c in cfgs]) - 0.5) < 0.05
    assert space.encode({"lr": 1e-2, "units": 128, "lin": 0.5})[0] == pytest.approx(0.5)


def test_categorical_decodes_argmax_and_encodes_one_hot() -> None:
    space = SearchSpace({"a": Categorical(["x", "y", "z"])})
    assert space.decode(np.array([[0.2, 0.7, 0.1]]))[0] == {"a": "y"}
    np.testing.assert_array_equal(space.encode({"a": "z"}), [0, 0, 1])
    assert space.categorical_groups == [[0, 1, 2]]


# --------------------------------------------------------------------- conditions
@pytest.fixture()
def cond_space() -> SearchSpace:
    return SearchSpace(
        {"opt": Categorical(["sgd", "adam"]), "momentum": Float(0.0, 0.99),
         "nesterov": Categorical([True, False]), "beta1": Float(0.5, 0.999)},
        [Condition("momentum", "opt", ("sgd",)), Condition("nesterov", "opt", ("sgd",)),
         Condition("beta1", "opt", ("adam",))],
    )


def test_inactive_parameters_are_dropped_and_neutral(cond_space: SearchSpace) -> None:
    assert cond_space.active({"opt": "adam"}) == ["opt", "beta1"]
    x = cond_space.encode({"opt": "adam", "beta1": 0.9})
    np.testing.assert_allclose(x[2], 0.5)  # momentum: neutral
    np.testing.assert_allclose(x[3:5], [0.5, 0.5])  # nesterov: 1/k per column
    for cfg in cond_space.decode(np.random.default_rng(0).random((20, cond_space.dim))):
        assert set(cfg) == set(cond_space.active(cfg))
        cond_space.validate(cfg)


def test_condition_validation_errors(cond_space: SearchSpace) -> None:
    with pytest.raises(SpaceError, match="inactive"):
        cond_space.validate({"opt": "adam", "beta1": 0.9, "momentum": 0.5})
    with pytest.raises(SpaceError, match=r"missing parameter\(s\) \['beta1'\]"):
        cond_space.validate({"opt": "adam"})
    with pytest.raises(SpaceError, match="must be a Categorical"):
        SearchSpace({"a": Float(0, 1), "b": Float(0, 1)}, {"b": ("a", [0.5])})
    with pytest.raises(SpaceError, match="must come before"):
        SearchSpace({"b": Float(0, 1), "a": Categorical(["x"])}, {"b": ("a", ["x"])})
    with pytest.raises(SpaceError, match="unknown parameter"):
        SearchSpace({"a": Categorical(["x"])}, {"zz": ("a", ["x"])})
    with pytest.raises(SpaceError, match="not one of"):
        SearchSpace({"a": Categorical(["x"]), "b": Float(0, 1)}, {"b": ("a", ["nope"])})


def test_chained_conditions() -> None:
    space = SearchSpace({"a": Categorical(["on", "off"]), "b": Categorical(["x", "y"]),
                         "c": Float(0, 1)}, {"b": ("a", ["on"]), "c": ("b", ["x"])})
    assert space.active({"a": "off", "b": "x"}) == ["a"]
    assert space.active({"a": "on", "b": "x"}) == ["a", "b", "c"]


# --------------------------------------------------------------------- error messages
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Float(1.0, 0.0), "low < high"),
        (lambda: Int(5, 5), "low < high"),
        (lambda: Float(0.0, math.inf), "finite"),
        (lambda: Float(math.nan, 1.0), "finite"),
        (lambda: Float(0.0, 1.0, log=True), "low > 0"),
        (lambda: Int(0.5, 3), "integers"),  # type: ignore[arg-type]
        (lambda: Categorical([]), "at least one choice"),
        (lambda: Categorical("abc"), "must be a list"),
        (lambda: Categorical(["a", "a"]), "distinct"),
        (lambda: SearchSpace({}), "non-empty"),
        (lambda: SearchSpace({"a": 3}), "expected Float, Int or Categorical"),  # type: ignore[dict-item]
        (lambda: SearchSpace.from_dict({"params": {"a": {"type": "float", "low": 0}}}), "missing key 'high'"),
        (lambda: SearchSpace.from_dict({"params": {"a": {"type": "fancy"}}}), "unknown type"),
        (lambda: SearchSpace.from_dict({"params": {}, "extra": 1}), "unknown key"),
        (lambda: SearchSpace.from_dict({"params": {"a": {"type": "int", "low": 0, "high": 1, "q": 2}}}), "unknown key"),
    ],
)
def test_clear_errors_on_bad_definitions(make: Any, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        make()


def test_clear_errors_on_bad_configs() -> None:
    space = SearchSpace({"lr": Float(1e-3, 1.0, log=True), "n": Int(1, 4), "a": Categorical(["x", "y"])})
    ok = {"lr": 0.1, "n": 2, "a": "x"}
    assert space.validate({**ok, "n": np.int64(2), "lr": np.float32(0.5)})["n"] == 2
    for bad, match in [({**ok, "zz": 1}, r"unknown parameter\(s\) \['zz'\]"),
                       ({**ok, "lr": "0.1"}, "'lr': expected a number"),
                       ({**ok, "n": 2.5}, "'n': expected an integer"),
                       ({**ok, "n": True}, "'n': expected an integer"),
                       ({**ok, "lr": 2.0}, "outside"),
                       ({**ok, "a": "z"}, "'a': 'z' is not one of"),
                       ({"lr": 0.1}, "missing")]:
        with pytest.raises(SpaceError, match=match):
            space.validate(bad)
    with pytest.raises(SpaceError, match="columns"):
        space.decode(np.zeros((1, space.dim + 1)))


# --------------------------------------------------------------------- serialisation
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_dump_load_round_trip(tmp_path: Path, cond_space: SearchSpace, suffix: str) -> None:
    space = SearchSpace({**cond_space.params, "k": Int(2, 64, log=True), "c": Categorical([1, 2.5, "s"])},
                        cond_space.conditions)
    path = tmp_path / f"space{suffix}"
    space.dump(path)
    back = SearchSpace.load(path)
    assert back.to_dict() == space.to_dict() and back.fingerprint() == space.fingerprint()
    cfg = space.sample(1, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(back.encode(cfg), space.encode(cfg))


def test_from_dict_puts_a_parent_before_its_child_as_a_store_sorts_them() -> None:
    """A store writes definitions with sorted keys: ``step_size`` before its parent ``update``
    (the bandit's space); loading it must work and keep the other names where they were."""
    import json

    space = SearchSpace({"epsilon": Float(0.001, 0.5), "update": Categorical(["avg", "const"]),
                         "step_size": Float(0.01, 1.0)}, {"step_size": ("update", ["const"])})
    stored = json.loads(json.dumps(space.to_dict(), sort_keys=True))
    assert list(stored["params"]) == ["epsilon", "step_size", "update"]
    back = SearchSpace.from_dict(stored)
    assert list(back.params) == ["epsilon", "update", "step_size"]
    assert back.to_dict() == space.to_dict()
    with pytest.raises(SpaceError, match="unknown parameter"):
        SearchSpace.from_dict({"params": {"a": {"type": "float", "low": 0, "high": 1}},
                               "conditions": [{"child": "a", "parent": "zz", "values": ["x"]}]})
