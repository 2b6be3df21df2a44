"""Seeds as part of a trial: paired and per-config schemes, stored, and never a test seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hyperpilot as hp
from hyperpilot import seeds
from hyperpilot.bench.testscore import TEST_SEEDS
from hyperpilot.study import Study
from hyperpilot.trial import Trial
from tests.hyperpilot.objectives import FIDELITY, SPACE, branin_mf


def _drive(s: Study, n: int) -> Study:
    while len(s.results) < n:
        for t in s.ask(2):
            s.tell(t, *branin_mf(t.config, t.budget, t.resume_budget, hp.Context(t, t.seed)))
    return s


def test_per_config_seeds_are_the_seeds_studies_always_had() -> None:
    for cid in range(50):
        old = np.random.SeedSequence([3, 7919, cid]).generate_state(1)[0] % (2**31 - 1)
        assert seeds.config_seed(3, cid) == int(old)
    s = _drive(Study(SPACE, FIDELITY, "hyperband", seed=3), 10)
    assert all(r.trial.seed == seeds.config_seed(3, r.trial.config_id) for r in s.results)
    assert all(r.trial.seed_index == 0 for r in s.results)


def test_paired_seeds_are_shared_by_configs_and_distinct_by_index() -> None:
    s = _drive(Study(SPACE, FIDELITY, "hyperband", seed=3,
                     method_options={"paired_seeds": True}), 12)
    assert len({r.trial.config_id for r in s.results}) > 1
    assert {r.trial.seed for r in s.results} == {seeds.paired_seed(3, 0)}
    ks = [seeds.paired_seed(3, k) for k in range(200)]
    assert len(set(ks)) == 200 and all(0 <= x < seeds.TUNING_SEED_SPAN for x in ks)
    assert seeds.paired_seed(4, 0) != seeds.paired_seed(3, 0)
    assert s.method.options()["paired_seeds"] is True
    assert "paired_seeds" not in Study(SPACE, FIDELITY, "hyperband").method.options()


def test_test_seeds_never_appear_in_a_tuning_study(monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(seeds.is_test_seed(s) for s in TEST_SEEDS)
    assert all(seeds.is_test_seed(seeds.TEST_SEED_START + i) for i in range(10))
    assert not any(seeds.is_test_seed(seeds.paired_seed(m, k)) for m in range(3) for k in range(9000))
    # make the reserved range cover most 31-bit seeds: every per-config seed must be drawn again
    monkeypatch.setattr(seeds, "TEST_SEED_START", 0)
    monkeypatch.setattr(seeds, "TEST_SEED_SPAN", 2**31 - 2**27)
    s = _drive(Study(SPACE, FIDELITY, "hyperband", seed=0), 20)
    assert s.results and not any(seeds.is_test_seed(r.trial.seed) for r in s.results)


def test_sb3_tuning_and_test_seeds_are_disjoint() -> None:
    pytest.importorskip("stable_baselines3")
    from hyperpilot.workloads.sb3 import TRAIN_SEED_SPAN, test_config, train_seeds

    assert TRAIN_SEED_SPAN <= seeds.TEST_SEED_START
    for s in (0, 17, seeds.paired_seed(0, 0), 2**31 - 2):
        assert all(0 <= x < TRAIN_SEED_SPAN for x in train_seeds(s, 3))
    with pytest.raises(ValueError, match="test seeds must be >= 10000"):
        test_config("ppo", "CartPole-v1", {}, 100, [9999])


def test_seed_index_is_stored_and_read_back(tmp_path: Path) -> None:
    from hyperpilot.storage import Storage

    st = Storage(tmp_path / "s.sqlite")
    sid = st.open_study("a", {"x": 1}, 0)
    trials = [Trial(0, 0, {"x": 0.0}, 1.0, seed=5, info={"source": "random"}),
              Trial(1, 0, {"x": 0.0}, 1.0, seed=6, info={"source": "race"}, seed_index=2)]
    st.add_trials(sid, trials, 0, 0.0)
    assert [r.trial for r in st.load_trials(sid)] == trials
    with pytest.raises(ValueError, match="reserved"):
        st.add_trials(sid, [Trial(2, 1, {}, 1.0, info={"seed_index": 1})], 2, 0.0)
    st.close()


def test_extra_seeds_get_their_own_checkpoint_folder(tmp_path: Path) -> None:
    from hyperpilot.runner import make_context

    s = Study(SPACE, FIDELITY, "hyperband", seed=0)
    first = make_context(s, Trial(0, 4, {}, 1.0), tmp_path, None)
    extra = make_context(s, Trial(1, 4, {}, 1.0, seed_index=1), tmp_path, None)
    assert first.checkpoint_dir == tmp_path / "config-4"
    assert extra.checkpoint_dir == tmp_path / "config-4-seed1"
