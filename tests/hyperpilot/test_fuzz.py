"""Fuzzing user input: random spaces, configs and YAML study files raise only documented errors.

The documented user errors are ``SpaceError`` (spaces and configs) and ``UsageError`` (the CLI's
settings); the CLI turns them into one line and exit code 2. Anything else escaping is a bug.

Two bugs these tests found are fixed and pinned by the regression tests at the end:
``SearchSpace.from_dict`` with non-mapping ``params``, and YAML study files with non-string keys.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hyperpilot as hp
from hyperpilot import cli
from hyperpilot.space import SpaceError

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
JSONISH = st.recursive(SCALARS, lambda c: st.one_of(st.lists(c, max_size=4),
                                                    st.dictionaries(st.text(max_size=6), c,
                                                                    max_size=4)), max_leaves=12)

NUM = st.one_of(st.integers(-100, 100), st.floats(allow_nan=True, allow_infinity=True),
                st.text(max_size=3), st.none(), st.booleans())
PARAM = st.fixed_dictionaries(
    {"type": st.sampled_from(["float", "int", "categorical", "Float", "bogus", 3])},
    optional={"low": NUM, "high": NUM, "log": st.one_of(st.booleans(), NUM),
              "choices": st.one_of(st.lists(SCALARS, max_size=4), SCALARS),
              "default": NUM, "extra": SCALARS})
SPACE_DICT = st.fixed_dictionaries(
    {"params": st.one_of(st.dictionaries(st.text(max_size=4), st.one_of(PARAM, JSONISH),
                                         max_size=4), JSONISH)},
    optional={"conditions": st.one_of(
        st.lists(st.fixed_dictionaries({}, optional={"child": SCALARS, "parent": SCALARS,
                                                     "values": JSONISH}), max_size=3), JSONISH),
        "other": JSONISH})

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.one_of(SPACE_DICT, JSONISH))
def test_random_space_dicts_raise_only_space_errors(d: Any) -> None:
    try:
        space = hp.SearchSpace.from_dict(d)
    except SpaceError as e:
        assert str(e)
        return
    again = hp.SearchSpace.from_dict(space.to_dict())  # what was accepted round-trips
    assert again.to_dict() == space.to_dict()


FIXED = hp.SearchSpace({"lr": hp.Float(1e-4, 1e-1, log=True), "n": hp.Int(1, 8),
                        "opt": hp.Categorical(["sgd", "adam"]),
                        "mom": hp.Float(0.0, 0.99)},
                       [hp.Condition("mom", "opt", ("sgd",))])
CONFIG = st.dictionaries(st.sampled_from(["lr", "n", "opt", "mom", "other"]), SCALARS, max_size=5)


@FUZZ
@given(st.one_of(CONFIG, JSONISH))
def test_random_configs_raise_only_space_errors(config: Any) -> None:
    try:
        valid = FIXED.validate(config)
    except SpaceError as e:
        assert str(e)
        return
    assert FIXED.validate(valid) == valid
    assert FIXED.decode(FIXED.encode(valid))[0].keys() == valid.keys()


KEYS = st.one_of(st.sampled_from(sorted(cli.DEFAULTS)), st.sampled_from(["n-workers", "bogus"]),
                 st.text(min_size=1, max_size=6))
STUDY_FILE = st.dictionaries(KEYS, JSONISH, max_size=6)
GARBAGE = st.text(alphabet=st.sampled_from(list("ab: -[]{}\n\t'\"!&*#|>%@`,?0.")), max_size=40)


def _settings_from(text: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "study.yaml"
        path.write_text(text)
        ns = cli._parser().parse_args(["run", "--config", str(path)])
        return cli.settings(ns)


@FUZZ
@given(st.one_of(STUDY_FILE.map(lambda d: yaml.safe_dump(d, allow_unicode=True)), GARBAGE))
def test_random_study_files_raise_only_usage_errors(text: str) -> None:
    try:
        cfg = _settings_from(text)
    except cli.UsageError as e:
        assert str(e) and "\n" not in str(e).strip()
        return
    assert isinstance(cfg["workers"], int) and cfg["workers"] >= 1
    assert isinstance(cfg["seed"], int) and cfg["seed"] >= 0


@pytest.mark.parametrize("text", ["1: 2\n", "?\n"])
def test_non_string_yaml_keys_are_usage_errors(text: str) -> None:
    with pytest.raises(cli.UsageError):
        _settings_from(text)


@pytest.mark.parametrize("params", [None, [{}], 3])
def test_non_mapping_params_are_space_errors(params: Any) -> None:
    with pytest.raises(SpaceError):
        hp.SearchSpace.from_dict({"params": params})


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("text, needle", [
    ("benchmark: branin\nworkers: two\n", "workers"),
    ("benchmark: branin\nseed: -3\n", "seed"),
    ("benchmark: branin\nbudget: lots\n", "budget"),
    ("benchmark: branin\nmethod: nope\n", "unknown method"),
    ("benchmark: nope\n", "unknown benchmark"),
    ("benchmark: branin\nexecutor: slurm\n", "executor"),
    ("benchmark: branin\nbenchmark: branin\nbogus: 1\n", "unknown key"),
    ("benchmark: [unclosed\n", "malformed YAML"),
])
def test_bad_study_files_are_one_line_exit_2(text: str, needle: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text(text + f"storage: {tmp_path / 'x.sqlite'}\n")
    code, err = _main(["run", "--config", str(cfg), "--no-progress"], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyperpilot: error:") and needle in lines[0]


@pytest.mark.parametrize("space, needle", [
    ({"params": {"x": {"type": "float", "low": 2, "high": 1}}}, "low < high"),
    ({"params": {"c": {"type": "categorical", "choices": []}}}, "at least one choice"),
    ({"params": {"x": {"type": "float", "low": "a", "high": 1}}}, "finite numbers"),
    ({"params": {"x": {"type": "int", "low": 0.5, "high": 3}}}, "integers"),
    ({"params": {}}, "non-empty"),
    ({"parms": {}}, "params"),
])
def test_bad_spaces_are_one_line_space_errors(space: dict[str, Any], needle: str) -> None:
    with pytest.raises(SpaceError, match=needle) as e:
        hp.SearchSpace.from_dict(space)
    assert "\n" not in str(e.value)


def test_bad_cli_flags_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["run", "--retries", "x"], ["run", "--executor", "slurm"],
                 ["run", "--workers", "0"]):
        with pytest.raises(SystemExit) as e:  # argparse's own usage errors also exit 2
            code, _ = _main(args, capsys)
            raise SystemExit(code)
        assert e.value.code == 2


def test_namespace_defaults_cover_new_flags() -> None:
    ns = cli._parser().parse_args(["run"])
    assert isinstance(ns, argparse.Namespace)
    cfg = cli.settings(ns)
    assert (cfg["executor"], cfg["retries"], cfg["cpus_per_trial"]) == ("local", 0, 1)
