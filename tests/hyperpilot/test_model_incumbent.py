"""``paper/scripts/model_incumbent.py``: the posterior-mean incumbent against the best single run."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from hyperpilot.selection import IncumbentRule, choose

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))

import model_incumbent as mi  # noqa: E402

from tests.hyperpilot.test_posterior_incumbent import SPACE, _history  # noqa: E402


@pytest.mark.parametrize("surrogate", ["gp-capped", "rff-kev"])
def test_the_model_rule_passes_over_a_lucky_single_run(surrogate: str) -> None:
    h = _history()
    best = choose(h, "minimize", IncumbentRule(), 9.0)
    assert best is not None and best.config == {"x": 0.9}
    pick = mi.model_choice(h, SPACE, 1.0, 9.0, surrogate, seed=0)
    assert pick is not None
    config, predicted = pick
    assert abs(config["x"] - 0.3) <= 0.1 + 1e-9  # from the basin, not the lucky outlier
    assert predicted > -0.05  # the model does not believe the lucky draw


def test_the_model_rule_needs_a_run_at_the_max_budget() -> None:
    low = [r for r in _history() if r.trial.budget < 9.0]
    assert mi.model_choice(low, SPACE, 1.0, 9.0, "gp-capped", seed=0) is None


def test_the_summary_counts_wins_against_the_best_run_on_the_same_study() -> None:
    rows = []
    for seed, (base, model, same) in enumerate([(0.2, 0.1, False), (0.1, 0.3, False),
                                                (0.1, 0.1, True)]):
        rows += [{"benchmark": "b", "method": "m", "seed": seed, "cut": 10.0, "rule": "best-run",
                  "config": f"c{seed}", "test_regret": base},
                 {"benchmark": "b", "method": "m", "seed": seed, "cut": 10.0, "rule": "model:gp",
                  "config": f"c{seed}" if same else f"d{seed}", "test_regret": model}]
    s = mi.summary(pd.DataFrame(rows)).set_index("rule")
    assert (s.loc["model:gp", ["wins", "losses", "ties", "n"]].tolist()) == [1, 1, 1, 3]
    assert s.loc["best-run", "median"] == pytest.approx(0.1)
    assert s.loc["model:gp", "mean"] == pytest.approx(0.5 / 3)
    assert "| b | m | 10 | model:gp | 3 |" in mi.markdown(mi.summary(pd.DataFrame(rows)))


def test_stored_results_come_back_in_tell_order(tmp_path: Path) -> None:
    from hyperpilot.study import Study
    from tests.hyperpilot.objectives import FIDELITY, branin_mf
    from tests.hyperpilot.objectives import SPACE as BRANIN_SPACE

    path = mi.store_path(tmp_path, "branin", "hyperband", 3)
    path.parent.mkdir(parents=True)
    study = Study(BRANIN_SPACE, FIDELITY, "hyperband", "minimize", 3, storage=path, name="s")
    study.run(branin_mf, n_trials=12)
    study.storage.close()
    back = mi.stored_results(path)
    assert [(r.trial.trial_id, r.value) for r in back] == \
        [(r.trial.trial_id, r.value) for r in study.results]
