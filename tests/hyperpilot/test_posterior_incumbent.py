"""``hyperpilot.posterior_incumbent``: the config with the best posterior mean, not the best run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import hyperpilot as hp
from hyperpilot.posterior_incumbent import posterior_incumbent
from hyperpilot.selection import IncumbentRule, choose
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
