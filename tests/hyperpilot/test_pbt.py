"""pbt, pb2, pb2-bnn: the PBT arithmetic, the methods' contract, determinism and exact resume."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperpilot as hp
from fidelity.pbt import NumRange, boundaries, exploit_pairs, explore, perturb_number, truncation
from hyperpilot.benchmarks import get_benchmark
from hyperpilot.methods import PB2_BNN_SURROGATE, UnknownMethod, make_method, parse_method
from hyperpilot.schedule import config_at
from hyperpilot.study import Study
from hyperpilot.trial import Context, Status, Trial
from tests.hyperpilot.objectives import SPACE, branin_mf

TOY = get_benchmark("schedule-toy")
SMALL = {"population": 4, "interval": 9}
OPTS: dict[str, dict[str, Any]] = {
    "pbt": SMALL,
    "pb2": {**SMALL, "n_candidates": 64},
    "pb2-bnn": {**SMALL, "n_candidates": 64,
                "surrogate_options": {"n_features": 256, "fit_features": 128}},
}


# ----------------------------------------------------------------- the arithmetic
def test_truncation_on_a_hand_made_population() -> None:
    losses = [0.5, 0.1, 0.9, 0.3, math.inf, 0.2, 0.7, 0.4]
    assert truncation(losses) == ([4, 2], [1, 5])  # worst first, best first; k = 8 // 4
    assert truncation([1.0, 1.0, 1.0, 1.0]) == ([3], [0])  # ties: the lower index ranks higher
    # failed members are exploited even outside the bottom quarter
    assert truncation([0.1, 0.2, math.inf, math.nan, 0.3, 0.4, 0.5, math.inf]) == ([7, 3, 2], [0, 1])
    assert truncation([0.3]) == ([], [])
    with pytest.raises(ValueError):
        truncation(losses, 0.6)


def test_exploit_pairs_copy_a_top_member_and_depend_only_on_the_seed() -> None:
    losses = [0.5, 0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4]
    pairs = exploit_pairs(losses, np.random.default_rng(0))
    assert sorted(pairs) == [2, 4] and set(pairs.values()) <= {1, 5}
    assert pairs == exploit_pairs(losses, np.random.default_rng(0))


def test_perturbation_multiplies_clips_and_moves_integers() -> None:
    lr = NumRange(1e-4, 0.1, log=True)
    assert perturb_number(0.01, lr, 1.2) == pytest.approx(0.012)
    assert perturb_number(0.01, lr, 0.8) == pytest.approx(0.008)
    assert perturb_number(0.09, lr, 1.2) == 0.1  # clipped to the space
    assert perturb_number(1.1e-4, lr, 0.8) == 1e-4
    n = NumRange(1, 10, integer=True)
    assert perturb_number(3, n, 1.2) == 4.0  # round(3.6)
    assert perturb_number(1, n, 1.2) == 2.0  # round(1.2) == 1: an integer moves by a step
    assert perturb_number(1, n, 0.8) == 1.0  # ... but stays in the space
    ranges = {"lr": lr, "n": n}
    vals = {"lr": 0.01, "n": 5}
    new, how = explore(vals, ranges, np.random.default_rng(1), resample_probability=0.0)
    assert set(how.values()) <= {"x0.8", "x1.2"}
    assert new["lr"] in (pytest.approx(0.008), pytest.approx(0.012)) and new["n"] in (4, 6)
    new, how = explore(vals, ranges, np.random.default_rng(1), resample_probability=1.0)
    assert set(how.values()) == {"resample"} and 1e-4 <= new["lr"] <= 0.1 and 1 <= new["n"] <= 10


def test_ready_interval_boundaries() -> None:
    assert boundaries(27, 9) == [9, 18, 27]
    assert boundaries(27, 10) == [10, 20, 27]
    assert boundaries(27, 27) == [27]


# ----------------------------------------------------------------- the methods in a study
def _run(method: str, seed: int, budget: float, storage: Path | None = None) -> Study:
    s = Study(TOY.space, TOY.fidelity, method, seed=seed, storage=storage,
              method_options=OPTS[method])
    return s.run(TOY, budget=budget)


def _traj(s: Study) -> list[tuple[Any, ...]]:
    return [(r.trial.trial_id, r.trial.config_id, r.trial.budget, r.trial.resume_budget,
             r.trial.info.get("clone_from"), r.value, repr(r.trial.config)) for r in s.results]


def test_pbt_study_contract_and_schedules() -> None:
    s = _run("pbt", 0, 8)
    assert len(s.results) == 24 and s.budget_used() == pytest.approx(8.0)  # 2 rounds x 4 FFE
    gens: dict[tuple[int, int], list[Trial]] = {}
    for r in s.results:
        t = r.trial
        assert r.status == Status.COMPLETE and t.budget - t.resume_budget == 9
        TOY.space.validate(t.config)
        gens.setdefault((t.info["round"], t.info["generation"]), []).append(t)
    by_cid = {r.trial.config_id: r for r in s.results}
    for (_, g), ts in gens.items():
        assert sorted(t.info["member"] for t in ts) == [0, 1, 2, 3]
        for t in ts:
            src = t.info["clone_from"]
            if g == 0:
                assert src is None and t.info["source"] == "random"
                continue
            parent = by_cid[src].trial
            assert parent.info["generation"] == g - 1 and parent.budget == t.resume_budget
            if t.info["source"] == "exploit":  # the copied history, then the explored values
                assert parent.info["member"] == t.info["exploited"] != t.info["member"]
                for k, v in t.config.items():
                    assert v["schedule"][:-1] == [p for p in parent.config[k]["schedule"]
                                                  if p[0] < t.resume_budget]
            else:
                assert t.config == parent.config and parent.info["member"] == t.info["member"]
    assert sum(t.info["source"] == "exploit" for ts in gens.values() for t in ts) == 4


def test_incumbent_schedule_reruns_its_lineage_exactly() -> None:
    """The best member's config is the schedule it trained with, inherited history included:
    re-run from scratch on the seed of its lineage's first trial, it gives the same value."""
    s = _run("pbt", 3, 4)
    best = min((r for r in s.results if r.trial.budget == TOY.fidelity.max),
               key=lambda r: r.value if r.value is not None else math.inf)
    assert s.best is not None and s.best[1] == best.value
    by_cid = {r.trial.config_id: r.trial for r in s.results}
    t = best.trial
    while t.info["clone_from"] is not None:
        t = by_cid[t.info["clone_from"]]
    value, curve, _ = TOY(best.trial.config, TOY.fidelity.max, 0.0, Context(t, t.seed, None))
    assert value == best.value and curve[-1][1] == best.value


@pytest.mark.parametrize("method", ["pbt", "pb2"])
def test_determinism_and_resume_after_a_kill(method: str, tmp_path: Path) -> None:
    full = _run(method, 1, 8)
    assert _traj(full) == _traj(_run(method, 1, 8))
    db = tmp_path / "k.sqlite"
    part = _run(method, 1, 5.5, db)  # into the second generation of round 2
    lost = part.ask(2)  # the crash: asked, never told, with a half-written checkpoint
    assert len(lost) == 2 and all(t.info["clone_from"] is not None for t in lost)
    root = tmp_path / "k-checkpoints" / "default"
    for t in lost:
        d = root / f"config-{t.config_id}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "run").mkdir(exist_ok=True)
        (d / "run" / "toy.json").write_text("not json")
    part.storage.close()
    resumed = _run(method, 1, 8, db)
    assert _traj(resumed) == _traj(full)


def test_pb2_bnn_determinism_and_resume(tmp_path: Path) -> None:
    full = _run("pb2-bnn", 1, 8)
    assert any(r.trial.info.get("explore_model") == PB2_BNN_SURROGATE for r in full.results)
    assert _traj(full) == _traj(_run("pb2-bnn", 1, 8))
    db = tmp_path / "k.sqlite"
    part = _run("pb2-bnn", 1, 5.5, db)
    part.ask(2)
    part.storage.close()
    assert _traj(_run("pb2-bnn", 1, 8, db)) == _traj(full)


def test_pb2_uses_its_model_after_one_generation_of_data() -> None:
    s = _run("pb2", 2, 4)
    exploits = [r.trial.info for r in s.results if r.trial.info["source"] == "exploit"]
    assert [i["explore_model"] for i in exploits] == ["none", "gp"]  # gen 1: no data yet
    assert exploits[1]["n_data"] == 4 and s.method.fallbacks == 0
    assert s.method.options()["surrogate"] == "gp"


def test_workers_wait_for_the_generation(tmp_path: Path) -> None:
    """Two worker processes: a free worker finds no trial until the generation has finished."""
    s = Study(TOY.space, TOY.fidelity, "pbt", seed=4, storage=tmp_path / "w.sqlite",
              method_options=SMALL)
    s.run(TOY, budget=4, n_workers=2)
    ref = _run("pbt", 4, 4)
    key = sorted((r.trial.config_id, r.value) for r in s.results)
    assert key == sorted((r.trial.config_id, r.value) for r in ref.results)


def test_refused_without_checkpoints_and_variants() -> None:
    s = Study(SPACE, hp.Fidelity(1, 9, 3), "pbt", seed=0)
    with pytest.raises(ValueError, match="resume from a checkpoint"):
        s.run(branin_mf, budget=2)
    with pytest.raises(UnknownMethod, match="no ':<variant>'"):
        parse_method("pbt:race")
    with pytest.raises(ValueError, match="population"):
        make_method("pbt", TOY.space, TOY.fidelity, 0, population=1)
    assert parse_method("pb2@gp").surrogate == "gp"


def test_schedule_toy_resumes_exactly_and_a_decaying_schedule_helps(tmp_path: Path) -> None:
    const = {"learning_rate": 0.05, "momentum": 0.0}
    decay = {"learning_rate": {"schedule": [[0, 0.2], [9, 0.05], [18, 0.01]]}, "momentum": 0.0}
    straight = TOY(decay, 27, 0.0, None)

    def ctx(b: float, r: float) -> Context:
        return Context(Trial(0, 0, decay, b, r, seed=0), 0, tmp_path)

    first = TOY(decay, 13, 0.0, ctx(13, 0))
    second = TOY(decay, 27, 13, ctx(27, 13))
    assert first[1] + second[1] == straight[1]
    vals = [np.mean([TOY.__class__(**{**TOY.__dict__, "seed": sd})(c, 27)[0]
                     for sd in range(8)]) for c in (const, decay)]
    assert vals[1] < vals[0] - 0.3  # the schedule matters on this benchmark
    assert config_at(decay, 10)["learning_rate"] == 0.05


def test_pb2_data_encodes_time_and_inactive_parameters() -> None:
    """An interval whose config lacks a conditional parameter (momentum without sgd) is still
    data: the inactive parameter is encoded as 0.5, as ``SearchSpace.encode`` does."""
    from hyperpilot.methods.pb2 import BanditExplorer
    from hyperpilot.methods.pbt import Interval

    ranges = {"lr": NumRange(1e-4, 1e-1, log=True), "mom": NumRange(0.0, 1.0)}
    ex = BanditExplorer(ranges, {}, 0.25, 27.0, "gp", None, 4.0, 64, 2)
    history = [Interval(0, 9, {"lr": 1e-2}, None, 1.0),  # first interval: no start loss
               Interval(9, 18, {"lr": 1e-3}, 1.0, 0.5),
               Interval(9, 18, {"lr": 1e-1, "mom": 0.25}, 1.0, 0.8),
               Interval(18, 27, {"lr": 1e-2, "mom": 0.5}, 0.5, math.inf)]  # failed: no data
    X, y = ex.data(history)
    assert X == pytest.approx(np.array([[1 / 3, 1 / 3, 0.5], [1 / 3, 1.0, 0.25]]))
    assert y[0] > y[1]  # improvement 0.5 beats 0.2, standardised
