"""``hyperpilot.posterior_incumbent``: the config with the best posterior mean, not the best run."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import hyperpilot as hp
from hyperpilot.posterior_incumbent import posterior_incumbent
from hyperpilot.selection import IncumbentRule, ModelContext, choose, rule_of, trace
from hyperpilot.trial import Fidelity, Result, Status, Trial
from tests.hyperpilot.test_cli import _cli

SPACE = hp.SearchSpace({"x": hp.Float(0.0, 1.0)})
FID = Fidelity(1.0, 9.0, 3.0)


def _history(sign: float = 1.0) -> list[Result]:
    """Loss ``(x - 0.3)^2`` plus noise (sd 0.02) and a lower-budget offset, at budgets 1, 3, 9;
    at budget 9 the run of ``x = 0.9`` (true loss 0.36) is a lucky -0.05, the best single run.
    Values are ``sign * loss`` (``sign = -1``: a maximised score)."""
    rng = np.random.default_rng(0)
    out, tid = [], 0
    for x in np.linspace(0.0, 1.0, 21):
        for budget in (1.0, 3.0, 9.0):
            v = (x - 0.3) ** 2 + 0.02 * rng.standard_normal() + 0.05 * (9.0 - budget) / 8
            if budget == 9.0 and math.isclose(x, 0.9):
                v = -0.05
            out.append(Result(Trial(tid, int(round(20 * x)), {"x": float(x)}, budget),
                              Status.COMPLETE, sign * float(v), []))
            tid += 1
    return out


@pytest.mark.parametrize("direction, sign", [("minimize", 1.0), ("maximize", -1.0)])
def test_a_lucky_best_run_is_passed_over_in_either_direction(direction: str, sign: float) -> None:
    h = _history(sign)
    lucky = choose(h, direction, IncumbentRule())
    assert lucky is not None and lucky.config == {"x": 0.9}
    out = posterior_incumbent(h, SPACE, FID, direction, "gp-capped", seed=0)
    assert out is not None
    inc, predicted = out
    assert abs(inc.config["x"] - 0.3) <= 0.1 + 1e-9 and inc.budget == 9.0
    assert inc.value == next(r.value for r in h if r.trial.config == inc.config
                             and r.trial.budget == 9.0)  # its own run's value, as reported
    assert sign * predicted < 0.05  # near the basin's loss, not the lucky -0.05 ... nor 0.36
    assert sign * predicted > -0.05
    assert "best posterior mean of gp-capped" in inc.rule
    again = posterior_incumbent(h, SPACE, FID, direction, "gp-capped", seed=0)
    assert again is not None and again[0] == inc and again[1] == predicted  # seeded


def test_no_run_at_the_budget_gives_none_and_one_run_is_too_few() -> None:
    h = _history()
    assert posterior_incumbent(h, SPACE, FID, "minimize", budget=27.0) is None
    assert posterior_incumbent([], SPACE, FID, "minimize") is None
    with pytest.raises(ValueError, match="at least 2 complete runs"):
        posterior_incumbent(h[:1], SPACE, FID, "minimize")
    with pytest.raises(ValueError, match="direction"):
        posterior_incumbent(h, SPACE, FID, "down")


def test_study_and_cli_offer_the_posterior_incumbent(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    r = _cli("run", "--benchmark", "bandit", "--method", "random", "--budget", "3",
             "--storage", str(db), "--no-progress")
    assert r.returncode == 0, r.stderr
    t = _cli("test-incumbent", str(db), "--seeds", "2", "--by-model")
    assert t.returncode == 0, t.stderr
    assert "incumbent rule: best posterior mean of gp-capped (seed 0)" in t.stdout
    bad = _cli("test-incumbent", str(db), "--by-model", "nope")
    assert bad.returncode == 2 and "--by-model: unknown surrogate 'nope'" in bad.stderr
    study = hp.Study(SPACE, FID, "random", "minimize", 0)
    assert study.posterior_incumbent() is None
    for res in _history():
        trial = study.ask(1)[0]
        study.tell(trial, value=res.value)  # a study of the same shape, told values by hand
    inc = study.posterior_incumbent("rff-kev")
    assert inc is not None and "rff-kev" in inc.rule


CTX = ModelContext(SPACE, FID, 0)


def test_the_model_rule_passes_over_the_lucky_run_and_needs_the_studys_space() -> None:
    h = _history()
    rule = IncumbentRule("model")
    inc = choose(h, "minimize", rule, context=CTX)
    assert inc is not None and abs(inc.config["x"] - 0.3) <= 0.1 + 1e-9
    assert inc.rule == rule.describe() and "best posterior mean of gp-capped" in inc.rule
    out = posterior_incumbent(h, SPACE, FID, "minimize", "gp-capped", seed=0)
    assert out is not None and out[0].config == inc.config  # the same fit, the same choice
    with pytest.raises(ValueError, match="needs the study's space"):
        choose(h, "minimize", rule)
    with pytest.raises(ValueError, match="incumbent surrogate must be one of"):
        IncumbentRule("model", surrogate="nope")


def test_a_failed_seed_disqualifies_a_config_under_the_model_rule() -> None:
    h = _history()
    good = choose(h, "minimize", IncumbentRule("model"), context=CTX)
    assert good is not None
    t = next(r.trial for r in h if r.trial.config_id == good.config_id and r.trial.budget == 9.0)
    failed = Result(Trial(999, t.config_id, dict(t.config), 9.0, seed_index=1), Status.FAILED,
                    None, [])
    again = choose([*h, failed], "minimize", IncumbentRule("model"), context=CTX)
    assert again is not None and again.config_id != good.config_id


def test_the_model_rule_is_stored_with_its_surrogate_and_races_over_max_seeds() -> None:
    assert IncumbentRule("mean-std", 3).options() == {"statistic": "mean-std", "min_seeds": 3}
    assert IncumbentRule("model").options() == {"statistic": "model", "min_seeds": 1,
                                                "surrogate": "gp-capped"}
    assert rule_of({"method_options": {"racing": {}, "incumbent": {"statistic": "model"}}}) \
        == IncumbentRule("model", 3)
    assert IncumbentRule("model", 3).cheap() == IncumbentRule("mean", 3)
    assert IncumbentRule("model").cheap() == IncumbentRule()
    s = hp.Study(SPACE, FID, "hyperband:race+bymodel", "minimize", 0)
    assert s.method.incumbent_rule == IncumbentRule("model", 3)
    assert s.method.options()["incumbent"] == {"statistic": "model", "min_seeds": 3,
                                               "surrogate": "gp-capped"}


def _objective(config: dict[str, float], budget: float) -> float:
    """A noisy bowl whose noise depends on the run (trial id and budget), not on the config."""
    x = float(config["x"])
    return (x - 0.3) ** 2 + 0.3 / budget + 0.05 * math.sin(1e3 * x * budget)


def _run(method: str, n: int) -> hp.Study:
    s = hp.Study(SPACE, FID, method, "minimize", 3)
    while len(s.results) < n:
        for t in s.ask(2):
            s.tell(t, value=_objective(t.config, t.budget))
    return s


def test_a_bymodel_study_runs_the_same_trials_and_returns_the_models_choice() -> None:
    plain, by = _run("hyperband", 60), _run("hyperband:bymodel", 60)
    assert [(r.trial.config, r.trial.budget, r.value) for r in plain.results] \
        == [(r.trial.config, r.trial.budget, r.value) for r in by.results]
    inc = by.incumbent()
    assert inc is not None and "posterior mean" in inc.rule
    want = choose(plain.results, "minimize", IncumbentRule("model"), context=CTX._replace(seed=3))
    assert want is not None and inc.config_id == want.config_id
    assert by.best == (inc.config, inc.value, inc.budget)
    # the rule's trace refits when a max-budget run arrives and ends where choose() does
    incs = trace(by.results, "minimize", IncumbentRule("model"), FID.max, CTX._replace(seed=3))
    assert incs[-1] is not None and incs[-1].config_id == inc.config_id
    assert incs[0] is None or incs[0].budget == FID.max


def test_show_prints_the_model_rule_of_a_stored_bymodel_study(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite"
    r = _cli("run", "--benchmark", "bandit", "--method", "random:bymodel", "--budget", "3",
             "--storage", str(db), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "best posterior mean of gp-capped" in r.stdout
    s = _cli("show", str(db))
    assert s.returncode == 0, s.stderr
    assert re.search(r"incumbent rule +best posterior mean of gp-capped", s.stdout)
    best = re.search(r"best config +(.*)", r.stdout)
    assert best is not None and best.group(1) in s.stdout  # the run and show agree
