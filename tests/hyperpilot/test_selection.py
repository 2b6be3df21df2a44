"""The incumbent rule: a lucky brittle run must not win once configs have several seeds."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import hyperpilot as hp
from hyperpilot.selection import IncumbentRule, choose, rule_of, trace
from hyperpilot.study import Study
from hyperpilot.trial import Result, Status, Trial
from tests.hyperpilot.objectives import SPACE, noisy_branin


def _history() -> list[Result]:
    """Acrobot-like returns (maximize): ``brittle`` scored -81.2 on its first seed and never
    learned on two others; ``steady`` is a little worse on every seed; ``once`` ran one seed."""
    runs = [("brittle", 0, [(0, -81.2), (1, -500.0), (2, -500.0)]),
            ("steady", 1, [(0, -90.0), (1, -86.0), (2, -94.0)]),
            ("once", 2, [(0, -84.0)]),
            ("crashy", 3, [(0, -95.0), (1, None), (2, -96.0)])]
    out, tid = [], 0
    for name, cid, seeds in runs:
        cfg = {"name": name}
        out.append(Result(Trial(tid, cid, cfg, 30.0), Status.COMPLETE, -40.0, []))  # lower rung
        tid += 1
        for k, v in seeds:
            status = Status.COMPLETE if v is not None else Status.FAILED
            out.append(Result(Trial(tid, cid, cfg, 90.0, seed_index=k), status, v, []))
            tid += 1
    out.append(Result(Trial(tid, 4, {"name": "cut"}, 90.0), Status.STOPPED, -10.0, []))
    return out


def test_the_best_run_rule_picks_the_lucky_brittle_config() -> None:
    inc = choose(_history(), "maximize", IncumbentRule())
    assert inc is not None and inc.config == {"name": "brittle"} and inc.value == -81.2
    assert inc.budget == 90.0 and inc.n_seeds == 1


@pytest.mark.parametrize("statistic", ["mean", "mean-std", "worst"])
def test_the_seed_rules_pick_the_steady_config(statistic: str) -> None:
    inc = choose(_history(), "maximize", IncumbentRule(statistic, min_seeds=3))  # type: ignore[arg-type]
    assert inc is not None and inc.config == {"name": "steady"}
    assert inc.value == pytest.approx(-90.0) and inc.n_seeds == 3
    assert inc.std == pytest.approx(4.0) and inc.seed_indices == (0, 1, 2)
    assert inc.values == (-90.0, -86.0, -94.0)
    assert "3 seed" in inc.rule


def test_min_seeds_and_the_fallback_to_the_most_seeded() -> None:
    h = _history()
    assert choose(h, "maximize", IncumbentRule("mean", 1)).config == {"name": "once"}  # type: ignore[union-attr]
    few = [r for r in h if r.trial.seed_index == 0]  # nobody has 3 seeds: those with the most
    assert choose(few, "maximize", IncumbentRule("mean", 3)).config == {"name": "brittle"}  # type: ignore[union-attr]
    two = [r for r in h if r.trial.seed_index < 2]  # two seeds at most: "once" is out
    inc = choose(two, "maximize", IncumbentRule("mean", 3))
    assert inc is not None and inc.config == {"name": "steady"}
    assert inc.rule.endswith("no config has 3 yet, so among those with 2")  # the fallback is said
    assert "yet" not in choose(h, "maximize", IncumbentRule("mean", 3)).rule  # type: ignore[union-attr]


def test_a_failed_seed_is_the_worst_value() -> None:
    h = [r for r in _history() if r.trial.config["name"] == "crashy"]
    inc = choose(h, "maximize", IncumbentRule("mean", 3))
    assert inc is not None and inc.value == -math.inf and math.isnan(inc.values[1])


def test_the_mean_minus_std_rule_prefers_the_steadier_of_equal_means() -> None:
    h = [Result(Trial(i, i // 2, {"c": i // 2}, 1.0, seed_index=i % 2), Status.COMPLETE, v, [])
         for i, v in enumerate([0.0, 2.0, 0.9, 1.1])]  # minimize: equal means of 1
    assert choose(h, "minimize", IncumbentRule("mean", 2)).config_id == 0  # type: ignore[union-attr]
    assert choose(h, "minimize", IncumbentRule("mean-std", 2)).config_id == 1  # type: ignore[union-attr]
    assert choose(h, "minimize", IncumbentRule("worst", 2)).config_id == 1  # type: ignore[union-attr]


def test_rule_of_a_stored_definition() -> None:
    assert rule_of({"method_options": {}}) == IncumbentRule()
    assert rule_of({"method_options": {"racing": {"max_seeds": 4}}}) == IncumbentRule("mean", 4)
    assert rule_of({"method_options": {"racing": {}, "incumbent": {"statistic": "worst",
                                                                   "min_seeds": 2}}}) \
        == IncumbentRule("worst", 2)
    with pytest.raises(ValueError, match="statistic"):
        IncumbentRule("median")  # type: ignore[arg-type]


def test_trace_follows_the_rule_after_each_result() -> None:
    h = _history()
    incs = trace(h, "maximize", IncumbentRule("mean", 3), 90.0)
    assert incs[0] is None  # a lower-rung run
    assert incs[1] is not None and incs[1].config == {"name": "brittle"}
    assert incs[-1] is not None and incs[-1].config == {"name": "steady"}


def test_a_racing_study_returns_the_best_mean_and_others_the_best_run() -> None:
    fid = hp.Fidelity(1, 9, 3)
    s = Study(SPACE, fid, "hyperband:race", seed=1)
    while len(s.results) < 80:
        for t in s.ask(2):
            s.tell(t, *noisy_branin(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    inc = s.incumbent()
    assert inc is not None and s.method.incumbent_rule == IncumbentRule("mean", 3)
    assert s.best == (inc.config, inc.value, inc.budget)
    racer = s.method.racer  # type: ignore[attr-defined]
    assert inc.n_seeds == max(racer.n_seeds(c) for c in racer.losses)
    plain = Study(SPACE, fid, "hyperband", seed=1, method_options={"incumbent": {
        "statistic": "worst"}})
    assert plain.method.incumbent_rule == IncumbentRule("worst", 1)
    assert Study(SPACE, fid, "hyperband").method.incumbent_rule == IncumbentRule()


def test_show_and_test_incumbent_print_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hyperpilot.cli import main

    db = tmp_path / "s.sqlite"
    assert main(["run", "--benchmark", "branin", "--method", "random:race", "--budget", "8",
                 "--storage", str(db), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "best mean over >= 3 seed(s)" in out and "extra seeds" in out
    assert main(["show", str(db)]) == 0
    assert re.search(r"incumbent rule +best mean over >= 3 seed\(s\)", capsys.readouterr().out)
    assert main(["test-incumbent", str(db), "--seeds", "2"]) == 0
    assert "incumbent rule: best mean over >= 3 seed(s)" in capsys.readouterr().out
