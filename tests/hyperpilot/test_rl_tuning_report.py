"""paper/scripts/rl_tuning.py: a preset tuned on the area under the curve is tested on it too."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))

from rl_tuning import PRESETS, report, summarise  # noqa: E402

from hyperpilot.workloads.curves import curve_value  # noqa: E402


def _studies(methods: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"method": m, "tuning_seed": 0, "finished": True, "trials": 3,
                          "stopped": 0, "study_steps": 5e5, "actual_steps": 5.2e5,
                          "optimizer_s": 1.0, "trial_wall_h": 0.1, "tuning_return": 480.0,
                          "extra_seed_share": 0.0, "tuner_steps_to": 5e4} for m in methods])


def test_auc_presets_report_the_tuned_objective_on_test_seeds() -> None:
    p = PRESETS["cartpole"]
    assert p["value"] == "auc" and "value" not in PRESETS["acrobot"]
    # a fast learner that wobbles at the end against a slow one that ends at 500
    fast = [[2500 * (i + 1), 500.0 if i < 18 else 300.0] for i in range(20)]
    slow = [[2500 * (i + 1), 25.0 * (i + 1)] for i in range(20)]
    tests = pd.DataFrame([
        {"method": m, "tuning_seed": 0, "test_seed": 10000 + j, "test_return": c[-1][1],
         "test_auc": curve_value([(b, v) for b, v in c], "auc"),
         "steps_to": next((b for b, v in c if v >= 475), np.inf), "curve": c}
        for m, c in (("fast", fast), ("slow", slow)) for j in range(3)])
    summary = summarise("cartpole", p, _studies(["fast", "slow"]), tests)
    row = summary.set_index("method")
    # the final return prefers the slow learner; the tuned value (mean return over training)
    # prefers the fast one: 18 evaluations at 500
    assert row.loc["slow", "test_mean"] > row.loc["fast", "test_mean"]
    assert row.loc["fast", "test_auc_mean"] > 450 > row.loc["slow", "test_auc_mean"]
    text = report("cartpole", p, _studies(["fast", "slow"]), tests, summary, None)
    assert "mean test AUC" in text and f"{row.loc['fast', 'test_auc_mean']:.1f}" in text
    acro = summarise("acrobot", PRESETS["acrobot"], _studies(["fast"]),
                     tests[tests["method"] == "fast"])
    assert "test_auc_mean" not in acro.columns


def test_steps_trained_count_each_run_from_where_it_started(monkeypatch) -> None:  # noqa: ANN001
    """A Hyperband config continues across promotions from 0; a PBT interval is a config of its
    own that starts at its parent's checkpoint: each costs its furthest curve point less its start."""
    import rl_tuning

    df = pd.DataFrame({
        "config_id": [0, 0, 1, 2], "seed_index": [0, 0, 0, 0],
        "resume_budget": [0.0, 100.0, 0.0, 1000.0],  # config 0 promoted; config 2 a PBT interval
        "curve": [[[50, -1.0], [104, -2.0]], [[150, -3.0], [310, -4.0]], [[60, -1.0]],
                  [[1100, -5.0], [1260, -6.0]]],
        "spent": [100.0, 200.0, 100.0, 250.0], "status": ["complete"] * 4,
        "overhead_s": [0.0] * 4, "wall_s": [1.0] * 4, "incumbent_loss": [-2.0, -4.0, -4.0, -6.0]})
    monkeypatch.setattr(rl_tuning.A, "load_study", lambda db: df)
    rec = rl_tuning.study_summary(Path("unused.sqlite"), None)
    assert rec["actual_steps"] == 310 + 60 + 260 and rec["study_steps"] == 650


def test_a_lane_runs_from_the_first_seed_it_is_given(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """``--first-seed 2 --seeds 1`` tunes and tests seed 2 only (seeds 0-1 ran elsewhere), with
    the study's master seed and file names of seed 2; finished steps are skipped."""
    import subprocess

    import rl_tuning

    calls: list[list[str]] = []

    class Done:
        returncode = 0

    def fake_run(cmd: list[str], **_: object) -> Done:
        calls.append(cmd)
        return Done()

    monkeypatch.setattr(subprocess, "run", fake_run)
    rl_tuning.run_preset(PRESETS["acrobot"], tmp_path, ["random"], 1, 10, first=2)
    assert len(calls) == 2  # tune, then test
    tune, test = calls
    assert tune[tune.index("--seed") + 1] == "2" and str(tmp_path / "random-s2.sqlite") in tune
    assert str(tmp_path / "random-s2.sqlite") in test and "--seeds" in test
    assert (tmp_path / "random-s2.done").exists() and not (tmp_path / "random-s0.done").exists()
    rl_tuning.run_preset(PRESETS["acrobot"], tmp_path, ["random"], 1, 10, first=2, test_workers=2)
    assert len(calls) == 3  # the study is done: only its test (no .test.json was written) reruns
    assert test[test.index("--workers") + 1] == "1" and calls[2][calls[2].index("--workers") + 1] == "2"


def test_merge_adds_a_seed_to_a_reference_whose_stores_are_gone(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A reference collected before its stores were deleted gains one method's tuning seed 2 and a
    new preset: test columns are recomputed over the seeds tested for every method, study columns
    come from study rows where they cover every tested seed and are kept otherwise; an unfinished
    study is not merged; merging twice changes nothing."""
    import rl_tuning_merge as M

    from hyperpilot.paper import compact

    def rows(preset: str, m: str, seed: int, ret: float) -> list[dict]:
        return [{"method": m, "tuning_seed": seed, "test_seed": 10000 + j, "test_return": ret + j,
                 "test_auc": np.nan, "steps_to": np.nan, "tuning_return": ret,
                 "incumbent": "{}", "incumbent_rule": "best", "incumbent_seeds": 1,
                 "preset": preset, "env": PRESETS[preset]["env"]} for j in range(10)]

    old = [r for m, base in (("a", -100.0), ("b", -90.0)) for s in (0, 1)
           for r in rows("acrobot", m, s, base)] + rows("acrobot", "b", 2, -90.0)
    compact.write_csv(pd.DataFrame(old), tmp_path / "result.csv.gz")
    old_summary = summarise("acrobot", PRESETS["acrobot"],
                            _studies(["a", "b"]).assign(extra_seed_share=[0.2, 0.0]),
                            pd.DataFrame(old))
    assert list(old_summary["tuning_seeds_tested"]) == [2, 2]  # seed 2 of a is missing
    compact.write_csv(old_summary, tmp_path / "summary.csv")

    def fake_collect(d: Path, methods: list[str], threshold: object, value: str = "last"):  # noqa: ANN202
        preset = d.name
        if preset == "acrobot":  # a's seed 2 is finished and tested, its seed 3 still tuning
            st = _studies(["a", "a"]).assign(tuning_seed=[2, 3], finished=[True, False],
                                             extra_seed_share=0.5, trace=None)
            te = pd.DataFrame(rows("acrobot", "a", 2, -100.0)).drop(columns=["preset", "env"])
        else:
            st = _studies(["a", "b"]).assign(extra_seed_share=[0.3, 0.0], trace=None)
            te = pd.DataFrame(rows("lunarlander", "a", 0, 100.0) + rows("lunarlander", "b", 0, 50.0))
            te = te.drop(columns=["preset", "env"])
        return st, te.assign(curve=None)

    monkeypatch.setattr(M, "collect", fake_collect)
    done = M.merge(tmp_path, ["acrobot", "lunarlander"], tmp_path / "runs", ["a", "b"])
    assert done["skipped"] == ["acrobot/a-s3"]
    assert done["kept_study_columns"] == {"acrobot": ["a", "b"], "lunarlander": []}
    s = pd.read_csv(tmp_path / "summary.csv").set_index(["preset", "method"])
    assert list(s.index) == [("acrobot", "a"), ("acrobot", "b"), ("lunarlander", "a"), ("lunarlander", "b")]
    assert s.loc[("acrobot", "a"), "tuning_seeds_tested"] == 3
    assert s.loc[("acrobot", "a"), "test_runs"] == 30
    assert s.loc[("acrobot", "a"), "test_mean"] == -100 + 4.5
    assert s.loc[("acrobot", "a"), "extra_seed_share"] == 0.2  # kept: seeds 0-1 have no study rows
    assert s.loc[("lunarlander", "a"), "extra_seed_share"] == 0.3  # from the new study rows
    assert s.loc[("lunarlander", "b"), "test_mean"] == 50 + 4.5
    studies = pd.read_csv(tmp_path / "studies.csv.gz")
    assert sorted(zip(studies["preset"], studies["method"], studies["tuning_seed"], strict=True)) == [
        ("acrobot", "a", 2), ("lunarlander", "a", 0), ("lunarlander", "b", 0)]
    before = {f: (tmp_path / f).read_bytes() for f in ("result.csv.gz", "summary.csv", "studies.csv.gz")}
    M.merge(tmp_path, ["acrobot", "lunarlander"], tmp_path / "runs", ["a", "b"])
    assert {f: (tmp_path / f).read_bytes() for f in before} == before
    assert len(json.loads((tmp_path / "meta.json").read_text())["runs"]) == 2


def test_a_study_with_no_finished_trial_is_summarised_as_empty(monkeypatch) -> None:  # noqa: ANN001
    """A lane that just started its next seed has a store without trials: the report of the
    seeds before it must still run."""
    import rl_tuning

    monkeypatch.setattr(rl_tuning.A, "load_study", lambda db: pd.DataFrame())
    rec = rl_tuning.study_summary(Path("unused.sqlite"), 475.0)
    assert rec["trials"] == 0 and rec["study_steps"] == 0 and np.isnan(rec["tuning_return"])
    assert rec["trace"].empty


def test_status_says_where_each_lane_stands(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Waiting (no store), tuning (env steps of the study's), testing (finished test seeds, a torn
    last line not counted), tested."""
    import rl_tuning

    p = PRESETS["lunarlander"]  # 10 x 200k steps per study
    (tmp_path / "random-s1.sqlite").touch()
    monkeypatch.setattr(rl_tuning, "study_summary", lambda db, threshold: {"study_steps": 1.5e6})
    for f in ("random-s0.done", "hyperpilot_race-s0.done", "hyperpilot_race-s0.test.json"):
        (tmp_path / f).touch()
    (tmp_path / "random-s0.test.json.partial").write_text('{"seed": 10000}\n{"seed": 10001}\n{"se')
    lines = rl_tuning.status_lines(p, tmp_path, ["hyperpilot:race", "random"], range(3), 10)
    states = [x.split(": ", 1)[1] for x in lines]
    assert states == ["tested", "waiting", "waiting",
                      "testing, 2 of 10 test seeds done", "tuning, 1.50M of 2.00M env steps",
                      "waiting"]
    assert lines[3].split()[1:5] == [tmp_path.name, "random", "seed", "0:"]


def test_the_tested_incumbents_schedules_make_a_table_and_a_figure(tmp_path: Path) -> None:
    """A PBT incumbent's learning-rate schedule gives one row per segment, the last ending at the
    preset's max steps; a static incumbent gives none."""
    import rl_tuning

    from hyperpilot.bench.incumbent_schedules import schedule_figure

    p = PRESETS["cartpole-pop"]
    pbt = {"learning_rate": {"schedule": [[0, 3e-4], [12500, 6e-4], [31250, 4.8e-4]]},
           "n_epochs": 5}
    tests = pd.DataFrame([{"method": m, "tuning_seed": s, "test_seed": 10000 + j,
                           "incumbent": json.dumps(c, sort_keys=True)}
                          for m, c in (("pbt", pbt), ("random", {"learning_rate": 1e-3}))
                          for s in (0, 1) for j in range(2)])
    table = rl_tuning.incumbent_schedules(p, tests)
    assert set(table["method"]) == {"pbt"} and sorted(set(table["seed"])) == [0, 1]
    seed0 = table[table["seed"] == 0]
    assert list(zip(seed0["start"], seed0["end"], seed0["value"], strict=True)) == [
        (0.0, 12500.0, 3e-4), (12500.0, 31250.0, 6e-4), (31250.0, 50000.0, 4.8e-4)]
    assert set(table["param"]) == {"learning_rate"} and set(table["benchmark"]) == {"CartPole-v1"}
    assert schedule_figure(table, tmp_path / "s.png", rl_tuning.COLOURS) == tmp_path / "s.png"
    assert (tmp_path / "s.png").stat().st_size > 0
    assert rl_tuning.incumbent_schedules(p, tests[tests["method"] == "random"]).empty


def test_a_schedule_figure_of_seven_parameters_wraps_into_rows(tmp_path: Path) -> None:
    """Seven scheduled parameters fill two rows of four panels, not one row of seven."""
    import matplotlib.image

    from hyperpilot.bench.incumbent_schedules import COLUMNS, schedule_figure

    table = pd.DataFrame([("pbt", "CartPole-v1", 0, f"p{i}", s, e, 1.0 + i + s / 1e5)
                          for i in range(7) for s, e in ((0.0, 25000.0), (25000.0, 50000.0))],
                         columns=COLUMNS)
    h, w = matplotlib.image.imread(schedule_figure(table, tmp_path / "s.png", {}) or "").shape[:2]
    assert 4 * 4.2 / (2 * 3.2) - 0.05 < w / h < 4 * 4.2 / (2 * 3.2) + 0.05
    h1, w1 = matplotlib.image.imread(schedule_figure(table[table["param"] == "p0"],
                                                     tmp_path / "one.png", {}) or "").shape[:2]
    assert 4.2 / 3.2 - 0.05 < w1 / h1 < 4.2 / 3.2 + 0.05


def test_acrobot_norm_gives_every_tuner_the_normalize_parameter(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Our methods get the workload option, rl-zoo's tuner its ``--normalize`` flag; the plain
    preset passes neither."""
    import subprocess

    import rl_tuning

    calls: list[list[str]] = []

    class Done:
        returncode = 0

    monkeypatch.setattr(subprocess, "run", lambda cmd, **_: calls.append(cmd) or Done())
    for preset in ("acrobot-norm", "acrobot"):
        calls.clear()
        d = tmp_path / preset
        rl_tuning.run_preset(PRESETS[preset], d, ["random", "optuna-tpe-median"], 1, 10)
        tunes = {c[2]: c for c in calls if "test-incumbent" not in c}
        ours, peer = tunes["hyperpilot"], tunes["hyperpilot.bench.peers.rlzoo"]
        if preset == "acrobot-norm":
            opts = json.loads(ours[ours.index("--workload-options") + 1])
            assert opts == {"normalize": "tune"} and peer[peer.index("--normalize") + 1] == "tune"
        else:
            assert "--workload-options" not in ours and "--normalize" not in peer
