"""ConfigSpace JSON import/export, checked against the real ConfigSpace 1.x package and YAHPO files."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hyperpilot.configspace_io import (
    dump_configspace_json,
    from_configspace_dict,
    load_configspace_json,
    to_configspace_dict,
)
from hyperpilot.space import Categorical, Condition, Float, Int, SearchSpace, SpaceError

CS = pytest.importorskip("ConfigSpace")


def _ours() -> SearchSpace:
    return SearchSpace(
        {"booster": Categorical(["gbtree", "dart", "linear"]), "lr": Float(1e-4, 0.5, log=True),
         "depth": Int(1, 12), "units": Int(16, 1024, log=True), "drop": Float(0.0, 1.0),
         "flag": Categorical([True, False]), "k": Categorical([1, 2, 3]), "const": Categorical(["c"])},
        [Condition("depth", "booster", ("gbtree", "dart")), Condition("drop", "booster", ("dart",))],
    )


def _close_dicts(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal space dicts up to ConfigSpace's 13-digit rounding of bounds and its parameter order."""
    assert set(a["params"]) == set(b["params"])
    for n, pa in a["params"].items():
        pb = b["params"][n]
        assert pa.keys() == pb.keys(), n
        for k, v in pa.items():
            if isinstance(v, float):
                assert math.isclose(v, pb[k], rel_tol=1e-9, abs_tol=1e-12), (n, k)
            else:
                assert v == pb[k], (n, k)
    assert a.get("conditions") == b.get("conditions")


def test_ours_to_configspace_and_back() -> None:
    space = _ours()
    cs = CS.ConfigurationSpace.from_json(StringIO(json.dumps(to_configspace_dict(space))))
    assert set(cs.keys()) == set(space.names)
    assert isinstance(cs["lr"], CS.UniformFloatHyperparameter) and cs["lr"].log
    assert isinstance(cs["const"], CS.Constant)
    assert len(cs.conditions) == 2
    back = from_configspace_dict(cs.to_serialized_dict())
    _close_dicts(back.to_dict(), space.to_dict())
    # configs agree: ConfigSpace accepts what we sample, with the same active set
    for cfg in space.sample(20, np.random.default_rng(0)):
        theirs = dict(CS.Configuration(cs, values=cfg))
        assert theirs.keys() == cfg.keys()
        assert all(theirs[n] == pytest.approx(v, rel=1e-9) if isinstance(v, float) else theirs[n] == v
                   for n, v in cfg.items())


def test_configspace_to_ours() -> None:
    cs = CS.ConfigurationSpace(seed=0)
    opt = CS.Categorical("opt", ["sgd", "adam"])
    cs.add([opt, CS.Float("lr", (1e-5, 1e-1), log=True), CS.Integer("layers", (1, 8)),
            CS.OrdinalHyperparameter("size", ["s", "m", "l"]), CS.Constant("act", "relu"),
            mom := CS.Float("momentum", (0.0, 0.99)), CS.EqualsCondition(mom, opt, "sgd")])
    space = from_configspace_dict(cs.to_serialized_dict())
    assert space.params["lr"] == Float(1e-5, 1e-1, log=True)
    assert space.params["layers"] == Int(1, 8)
    assert space.params["size"] == Categorical(["s", "m", "l"])
    assert space.params["act"] == Categorical(["relu"])
    assert space.conditions == [Condition("momentum", "opt", ("sgd",))]
    assert set(space.active({"opt": "adam"})) == {"opt", "lr", "layers", "size", "act"}


def test_normal_is_uniform_with_warning_and_unsupported_constructs() -> None:
    cs = CS.ConfigurationSpace()
    a, b = CS.Categorical("a", ["x", "y"]), CS.Categorical("b", ["u", "v"])
    z = CS.Float("z", (0.0, 10.0), distribution=CS.Normal(5, 1))
    cs.add([a, b, z, CS.AndConjunction(CS.EqualsCondition(z, a, "x"), CS.EqualsCondition(z, b, "u")),
            CS.ForbiddenEqualsClause(b, "v")])
    d = cs.to_serialized_dict()
    with pytest.warns(UserWarning, match="normal_float prior dropped"), \
            pytest.raises(SpaceError, match="unsupported condition of type 'AND'"):
        from_configspace_dict(d)
    with pytest.warns(UserWarning) as rec:
        space = from_configspace_dict(d, unsupported="ignore")
    assert sum("ignoring" in str(w.message) for w in rec) == 2  # the AND and the forbidden
    assert space.params["z"] == Float(0.0, 10.0) and space.conditions == []
    with pytest.warns(UserWarning, match="prior dropped"), pytest.raises(SpaceError, match="forbidden"):
        from_configspace_dict({**d, "conditions": []})


@pytest.mark.parametrize(
    ("hp", "match"),
    [({"name": "x", "type": "normal_float", "mu": 0, "sigma": 1}, "bounds"),
     ({"name": "x", "type": "weird"}, "unsupported ConfigSpace type 'weird'"),
     ({"name": "x", "type": "uniform_float", "lower": 2, "upper": 1}, "'x'.*low < high"),
     ({"name": "x", "type": "categorical"}, "missing key 'choices'"),
     ({"type": "categorical"}, "needs 'name' and 'type'")],
)
def test_bad_hyperparameters(hp: dict[str, Any], match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        from_configspace_dict({"hyperparameters": [hp]})


def test_parents_are_moved_before_children() -> None:
    d = {"hyperparameters": [{"name": "c", "type": "uniform_float", "lower": 0, "upper": 1},
                             {"name": "p", "type": "categorical", "choices": ["a", "b"]}],
         "conditions": [{"type": "EQ", "child": "c", "parent": "p", "value": "a"}]}
    assert from_configspace_dict(d).names == ["p", "c"]
    d["conditions"][0]["parent"] = "c"
    d["hyperparameters"][0]["type"] = "categorical"
    d["hyperparameters"][0]["choices"] = ["a"]
    with pytest.raises(SpaceError):  # a parameter conditioned on itself
        from_configspace_dict(d)


def test_file_round_trip_and_searchspace_load_points_to_the_converter(tmp_path: Path) -> None:
    path = tmp_path / "cs.json"
    dump_configspace_json(_ours(), path)
    assert load_configspace_json(path).to_dict() == _ours().to_dict()
    with pytest.raises(SpaceError, match="load_configspace_json"):  # space.py knows no adapter
        SearchSpace.load(path)


# --------------------------------------------------------------------- real YAHPO files
@pytest.mark.data
@pytest.mark.parametrize("scenario", ["lcbench", "rbv2_xgboost", "iaml_glmnet"])
def test_yahpo_config_spaces(data_dir: Path, scenario: str) -> None:
    path = data_dir / "yahpo_data" / scenario / "config_space.json"
    space = load_configspace_json(path)
    raw = json.loads(path.read_text())
    assert set(space.names) == {h["name"] for h in raw["hyperparameters"]}
    assert len(space.conditions) == len(raw["conditions"])
    cs = CS.ConfigurationSpace.from_json(StringIO(json.dumps(to_configspace_dict(space))))
    for cfg in space.sample(10, np.random.default_rng(0)):
        assert dict(CS.Configuration(cs, values=cfg)).keys() == cfg.keys()
    if scenario == "lcbench":
        assert space.params["learning_rate"].log and space.params["batch_size"] == Int(16, 512, log=True)
        assert len(space.params["OpenML_task_id"].choices) == 34  # type: ignore[union-attr]
    if scenario == "rbv2_xgboost":
        assert space.active({"booster": "gblinear"}) == [n for n in space.names if n not in
                                                          {c.child for c in space.conditions}]
