"""SB3 workload: smoke runs of every algorithm, exact resume, seeds, invalid configs (tiny budgets)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hyperpilot.trial import Context, Trial
from hyperpilot.workloads import WORKLOADS, InvalidConfig
from hyperpilot.workloads.sb3_spaces import SPACES, largest_divisor_at_most, to_sb3_kwargs

PPO = {"learning_rate": 3e-4, "one_minus_gamma": 0.01, "n_envs": 4, "n_steps": 32, "batch_size": 64,
       "n_epochs": 3, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 1e-3, "vf_coef": 0.5,
       "max_grad_norm": 0.5, "net_arch": "tiny", "activation": "tanh"}


def ctx(cfg: dict, d: Path | None = None, seed: int = 3, report=lambda b, v: False) -> Context:
    return Context(trial=Trial(0, 0, cfg, 1.0), seed=seed, checkpoint_dir=d, report=report)


def sample(algo: str, **fix: object) -> dict:
    cfg = SPACES[algo]().sample(1, np.random.default_rng(0))[0]
    cfg.update(fix)
    return cfg


def test_ppo_invalid_batch_is_repaired_or_rejected() -> None:
    cfg = dict(PPO, n_envs=1, n_steps=16, batch_size=512)
    kw, n_envs, notes = to_sb3_kwargs("ppo", cfg, 10_000)
    assert kw["batch_size"] == 16 and n_envs == 1 and "batch_size 512 -> 16" in notes[0]
    with pytest.raises(InvalidConfig, match="must divide n_steps"):
        to_sb3_kwargs("ppo", cfg, 10_000, repair=False)
    assert largest_divisor_at_most(96, 64) == 48
    kw, _, _ = to_sb3_kwargs("ppo", PPO, 10_000)
    assert kw["batch_size"] == 64 and math.isclose(kw["gamma"], 0.99)


def test_spaces_sample_to_valid_kwargs() -> None:
    for algo, make in SPACES.items():
        for cfg in make().sample(20, np.random.default_rng(1)):
            kw, n_envs, _ = to_sb3_kwargs(algo, cfg, 5_000)
            assert 0.9 <= kw["gamma"] <= 0.9999 and n_envs >= 1
            if algo == "ppo":
                assert (cfg["n_steps"] * n_envs) % kw["batch_size"] == 0
            if "buffer_size" in kw:
                assert kw["buffer_size"] <= 5_000


@pytest.mark.rl
def test_unknown_algo_or_env_lists_options() -> None:
    with pytest.raises(ValueError, match="choose one of ppo, a2c"):
        WORKLOADS["sb3"](algo="trpo", env="CartPole-v1", min_steps=10, max_steps=100)
    with pytest.raises(ValueError, match="unknown env"):
        WORKLOADS["sb3"](algo="ppo", env="NoSuchEnv-v0", min_steps=10, max_steps=100)
    with pytest.raises(ValueError, match="discrete"):
        WORKLOADS["sb3"](algo="sac", env="CartPole-v1", min_steps=10, max_steps=100)


@pytest.mark.rl
@pytest.mark.parametrize("algo,env,steps,fix", [
    ("ppo", "CartPole-v1", 512, {}),
    ("a2c", "CartPole-v1", 512, {"n_envs": 4, "n_steps": 8}),
    ("dqn", "CartPole-v1", 600, {"learning_starts": 100, "train_freq": 4}),
    ("sac", "Pendulum-v1", 300, {"learning_starts": 100, "train_freq": 2, "net_arch": "small"}),
    ("td3", "MountainCarContinuous-v0", 200, {"learning_starts": 50, "train_freq": 2, "net_arch": "small"}),
])
def test_smoke_every_algorithm(algo: str, env: str, steps: int, fix: dict) -> None:
    w = WORKLOADS["sb3"](algo=algo, env=env, min_steps=steps // 2, max_steps=steps,
                         eval_every=steps // 2, eval_episodes=1)
    cfg = PPO if algo == "ppo" else sample(algo, **fix)
    value, curve, cost = w.objective(cfg, steps, 0, ctx(cfg))
    assert len(curve) == 2 and curve[0][0] < curve[1][0] and curve[-1][0] >= steps
    assert value == pytest.approx(np.mean([v for _, v in curve])) and cost > 0


@pytest.mark.rl
def test_ppo_resume_equals_uninterrupted(tmp_path: Path) -> None:
    """Model, training envs (mid-episode) and RNG states are checkpointed: resume is exact."""
    import torch

    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=256, max_steps=512,
                         eval_every=256, eval_episodes=2)
    before = torch.get_rng_state()
    straight = w.objective(PPO, 512, 0, ctx(PPO))
    first = w.objective(PPO, 256, 0, ctx(PPO, tmp_path))
    c = ctx(PPO, tmp_path)
    second = w.objective(PPO, 512, 256, c)
    assert c.extras["workload_info"]["resumed"] and second[1][0][0] > 256
    assert c.extras["workload_info"]["exact_resume"]
    assert first[1] + second[1] == straight[1] and second[0] == straight[0]
    assert torch.equal(before, torch.get_rng_state())  # the caller's global RNG is left alone
    from stable_baselines3 import PPO as SB3PPO

    m = SB3PPO.load(tmp_path / "run" / "seed0" / "model.zip")
    assert m.num_timesteps == 512


@pytest.mark.rl
def test_dqn_resume_keeps_replay_buffer(tmp_path: Path) -> None:
    cfg = sample("dqn", learning_starts=50, train_freq=4, buffer_size=10_000)
    w = WORKLOADS["sb3"](algo="dqn", env="CartPole-v1", min_steps=200, max_steps=400,
                         eval_every=200, eval_episodes=1)
    straight = w.objective(cfg, 400, 0, ctx(cfg))
    w.objective(cfg, 200, 0, ctx(cfg, tmp_path))
    second = w.objective(cfg, 400, 200, ctx(cfg, tmp_path))
    assert second[1] == straight[1][1:]
    from stable_baselines3 import DQN

    m = DQN.load(tmp_path / "run" / "seed0" / "model.zip")
    m.load_replay_buffer(tmp_path / "run" / "seed0" / "replay_buffer.pkl")
    assert m.num_timesteps == 400 and m.replay_buffer.size() == 400


@pytest.mark.rl
def test_missing_checkpoint_trains_from_scratch_and_says_so(tmp_path: Path) -> None:
    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=128, max_steps=256,
                         eval_every=128, eval_episodes=1)
    c = ctx(PPO, tmp_path)
    _, curve, _ = w.objective(PPO, 256, 128, c)
    info = c.extras["workload_info"]
    assert info["from_scratch"] and "from scratch" in info["note"] and curve[0][0] == 128


@pytest.mark.rl
def test_tensorboard_logs_per_trial_and_seed(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is part of the rl extra")
    tb = tmp_path / "tb"
    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=128, max_steps=256,
                         eval_every=128, eval_episodes=1, n_seeds=2, tensorboard_dir=str(tb))
    c = ctx(PPO, tmp_path / "ckpt")
    w.objective(PPO, 256, 0, c)
    assert not any("tensorboard" in n for n in c.extras["workload_info"]["repairs"])
    runs = {p.relative_to(tb).parts[:2] for p in tb.rglob("events.out.tfevents.*")}
    # one folder per config, one run per training seed (continued across evaluation chunks)
    assert {r[0] for r in runs} == {"config0"} and len(runs) == 2


@pytest.mark.rl
def test_report_stops_and_seeds_aggregate() -> None:
    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=128, max_steps=512,
                         eval_every=128, eval_episodes=1, n_seeds=2)
    calls: list[tuple[float, float]] = []
    c = ctx(PPO, report=lambda b, v: calls.append((b, v)) or True)
    value, curve, _ = w.objective(PPO, 512, 0, c)
    info = c.extras["workload_info"]
    assert info["stopped_early"] and len(curve) == 1 and calls == curve
    assert len(set(info["train_seeds"])) == 2 and max(info["train_seeds"]) < 10_000
    assert value == pytest.approx(-np.mean(info["last_returns_per_seed"]))


@pytest.mark.rl
def test_test_config_uses_fresh_seeds() -> None:
    from hyperpilot.workloads.sb3 import test_config

    out = test_config("ppo", "CartPole-v1", PPO, 128, test_seeds=[10_000, 10_001], n_episodes=1)
    assert set(out["per_seed"]) == {10_000, 10_001} and out["std"] >= 0
    assert out["mean"] == pytest.approx(np.mean(list(out["per_seed"].values())))
    with pytest.raises(ValueError, match="test seeds must be"):
        test_config("ppo", "CartPole-v1", PPO, 128, test_seeds=[3])


@pytest.mark.rl
def test_test_config_resumes_at_a_seed_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test killed after its first seed trains only the others when rerun; same result."""
    from hyperpilot.workloads import sb3

    seeds = [10_000, 10_001, 10_002]
    straight = sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, n_episodes=1, eval_every=64)
    log = tmp_path / "t.partial"
    real, runs = sb3._SeedRun, []

    def dying(s, cfg, seed, tb):  # noqa: ANN001, ANN202
        if runs:
            raise KeyboardInterrupt  # the kill, while training the second seed
        runs.append(seed)
        return real(s, cfg, seed, tb)

    monkeypatch.setattr(sb3, "_SeedRun", dying)
    with pytest.raises(KeyboardInterrupt):
        sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, n_episodes=1, eval_every=64,
                        progress=log)
    assert len(log.read_text().splitlines()) == 1
    with open(log, "a") as f:
        f.write('{"key": "torn')  # a line cut short by the kill is ignored
    trained: list[int] = []
    monkeypatch.setattr(sb3, "_SeedRun", lambda s, c, seed, tb: trained.append(seed) or real(s, c, seed, tb))
    resumed = sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, n_episodes=1, eval_every=64,
                              progress=log)
    assert trained == seeds[1:] and resumed == straight
    # another setting (more episodes) does not reuse the recorded seed
    trained.clear()
    sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds[:1], n_episodes=2, progress=log)
    assert trained == seeds[:1]


@pytest.mark.rl
def test_test_config_in_parallel_workers_gives_the_same_result(tmp_path: Path) -> None:
    """Test seeds trained two at a time (spawned processes) give exactly the serial result, skip
    a seed the progress file already holds, and record the others there."""
    from hyperpilot.workloads import sb3

    seeds = [10_000, 10_001, 10_002]
    serial = sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, n_episodes=1, eval_every=64)
    log = tmp_path / "t.partial"
    sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds[:1], n_episodes=1, eval_every=64,
                    progress=log)
    parallel = sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, n_episodes=1, eval_every=64,
                               progress=log, workers=2)
    assert parallel == serial and list(parallel["per_seed"]) == seeds
    recorded = [json.loads(line)["seed"] for line in log.read_text().splitlines()]
    assert recorded[0] == seeds[0] and sorted(recorded) == seeds
    with pytest.raises(ValueError, match="workers must be >= 1"):
        sb3.test_config("ppo", "CartPole-v1", PPO, 128, seeds, workers=0)


@pytest.mark.rl
def test_test_config_curves_leave_the_final_return_unchanged() -> None:
    from hyperpilot.workloads.sb3 import test_config

    plain = test_config("ppo", "CartPole-v1", PPO, 384, test_seeds=[10_000], n_episodes=2)
    curved = test_config("ppo", "CartPole-v1", PPO, 384, test_seeds=[10_000], n_episodes=2,
                         eval_every=128)
    assert [s for s, _ in curved["curves"][10_000]] == [128, 256, 384]
    assert curved["curves"][10_000][-1][1] == curved["per_seed"][10_000]
    assert curved["per_seed"] == plain["per_seed"] and "curves" not in plain
    with pytest.raises(ValueError, match="eval_every"):
        test_config("ppo", "CartPole-v1", PPO, 384, test_seeds=[10_000], eval_every=0)


@pytest.mark.rl
def test_lunar_lander() -> None:
    pytest.importorskip("Box2D", reason='box2d is not installed (pip install "hyperpilot[box2d]")')
    pytest.importorskip("pygame", reason='pygame is not installed (pip install "hyperpilot[box2d]")')
    w = WORKLOADS["sb3"](algo="ppo", env="LunarLander-v3", min_steps=128, max_steps=128,
                         eval_every=128, eval_episodes=1)
    value, curve, _ = w.objective(PPO, 128, 0, ctx(PPO))
    assert len(curve) == 1 and math.isfinite(value)


@pytest.mark.rl
def test_lunar_lander_resumes_with_fresh_episodes(tmp_path: Path) -> None:
    """Box2D envs pickle their constructor's arguments, not their state (gymnasium's EzPickle):
    a promoted run resumes from its checkpoint with its training envs reset, instead of stepping
    an env that was never reset (LunarLander's ``assert self.lander is not None``)."""
    pytest.importorskip("Box2D", reason='box2d is not installed (pip install "hyperpilot[box2d]")')
    pytest.importorskip("pygame", reason='pygame is not installed (pip install "hyperpilot[box2d]")')
    w = WORKLOADS["sb3"](algo="ppo", env="LunarLander-v3", min_steps=128, max_steps=256,
                         eval_every=128, eval_episodes=1)
    w.objective(PPO, 128, 0, ctx(PPO, tmp_path))
    c = ctx(PPO, tmp_path)
    value, curve, _ = w.objective(PPO, 256, 128, c)
    info = c.extras["workload_info"]
    assert info["resumed"] and not info["exact_resume"] and curve[0][0] > 128 and math.isfinite(value)


@pytest.mark.rl
def test_example_files_build_workloads() -> None:
    import importlib.util

    import yaml

    files = sorted(Path(__file__).resolve().parents[2].joinpath("examples").glob("*.yaml"))
    assert len(files) >= 10
    for f in files:
        d = yaml.safe_load(f.read_text())
        if d["workload"] != "sb3":
            w = WORKLOADS[d["workload"]](min_epochs=d["min_epochs"], max_epochs=d["max_epochs"], eta=d["eta"])
        elif "LunarLander" in d["env"] and importlib.util.find_spec("Box2D") is None:
            continue
        else:
            w = WORKLOADS["sb3"](algo=d["algo"], env=d["env"], min_steps=d["min_steps"],
                                 max_steps=d["max_steps"], eta=d["eta"], n_seeds=d["n_seeds"],
                                 eval_episodes=d["eval_episodes"])
        assert w.fidelity.max / w.fidelity.min == pytest.approx(27) and f.stem in d["storage"]


@pytest.mark.rl
def test_final_evaluations_use_more_episodes() -> None:
    """The last ``last_k`` evaluations before the budget (the value's) use more episodes; the
    earlier ones and the first episodes' seeds are unchanged."""
    from hyperpilot.workloads import sb3

    seen: list[int] = []
    real = sb3._SeedRun.evaluate

    def counting(self, episodes=None):  # type: ignore[no-untyped-def]
        seen.append(episodes or self.s.eval_episodes)
        return real(self, episodes)

    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=128, max_steps=512,
                         eval_every=128, eval_episodes=1, last_k=2, final_eval_episodes=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sb3._SeedRun, "evaluate", counting)
        w.objective(PPO, 512, 0, ctx(PPO))
    assert seen == [1, 1, 3, 3]
    with pytest.raises(ValueError, match="final_eval_episodes"):
        WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=128, max_steps=512,
                         final_eval_episodes=0)


def test_cap_rollout_cuts_n_steps_only() -> None:
    from hyperpilot.workloads.sb3_spaces import cap_rollout, largest_rollout

    ppo = SPACES["ppo"]()
    assert largest_rollout(ppo) == 16 * 2048
    capped = cap_rollout(ppo, 6250)  # PBT's ready interval on CartPole: 50k / 8
    assert largest_rollout(capped) == 16 * 256 <= 6250
    assert list(capped.params["n_steps"].choices) == [16, 32, 64, 128, 256]
    assert capped.params["n_envs"] == ppo.params["n_envs"]
    assert [n for n in ppo.names if n != "n_steps"] == [n for n in capped.names if n != "n_steps"]
    for cfg in capped.sample(50, np.random.default_rng(0)):
        assert cfg["n_envs"] * cfg["n_steps"] <= 6250
    a2c = cap_rollout(SPACES["a2c"](), 16 * 100)
    assert a2c.params["n_steps"].high == 100 and largest_rollout(a2c) == 1600
    assert list(cap_rollout(SPACES["a2c"](), 64).params["n_steps"].choices) == [4]
    with pytest.raises(ValueError, match="leaves no n_steps"):
        cap_rollout(ppo, 100)  # 16 envs x 16 steps is the smallest rollout
    assert cap_rollout(SPACES["sac"](), 10) is not None and largest_rollout(SPACES["sac"]()) == 1


@pytest.mark.rl
def test_max_rollout_is_the_objectives_overshoot_and_pbt_checks_it() -> None:
    from hyperpilot.methods import make_method
    from hyperpilot.runner import check_handover

    full = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=5_000, max_steps=50_000)
    capped = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=5_000, max_steps=50_000,
                              max_rollout=6_250)
    assert full.objective.overshoot == 16 * 2048 - 1 and capped.objective.overshoot == 4095
    pbt = make_method("pbt", capped.space, capped.fidelity, seed=0)
    assert pbt.interval == 6_250
    check_handover(pbt, capped.objective)  # rollouts fit the interval
    with pytest.raises(ValueError, match="max_rollout"):
        check_handover(make_method("pbt", full.space, full.fidelity, seed=0), full.objective)
    check_handover(make_method("random", full.space, full.fidelity, seed=0), full.objective)
    with pytest.raises(ValueError, match="positive integer"):
        WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=10, max_steps=100, max_rollout=0)


@pytest.mark.rl
def test_normalize_is_off_by_default_on_for_all_or_a_tuned_parameter() -> None:
    """``normalize``: "off" leaves the space (and so every stored study's definition) as it was,
    "tune" adds a boolean ``normalize`` parameter, "on" wraps every config's envs."""
    from stable_baselines3.common.vec_env import VecNormalize

    from hyperpilot.workloads.sb3 import NormalisedPolicy, SB3Settings, acting, build_model

    kw = {"algo": "ppo", "env": "CartPole-v1", "min_steps": 256, "max_steps": 512}
    off, tune = WORKLOADS["sb3"](**kw), WORKLOADS["sb3"](**kw, normalize="tune")
    assert off.space.to_dict() == SPACES["ppo"]().to_dict()
    assert set(tune.space.params) - set(off.space.params) == {"normalize"}
    with pytest.raises(ValueError, match="unknown normalize 'yes'; choose one of off, on, tune"):
        WORKLOADS["sb3"](**kw, normalize="yes")
    s = SB3Settings("ppo", "CartPole-v1", 512, 256)
    for settings, cfg, wrapped in ((s, PPO, False), (SB3Settings(**{**s.__dict__, "normalize": "on"}), PPO, True),
                                   (SB3Settings(**{**s.__dict__, "normalize": "tune"}), dict(PPO, normalize=True), True),
                                   (SB3Settings(**{**s.__dict__, "normalize": "tune"}), dict(PPO, normalize=False), False)):
        model, _ = build_model(settings, cfg, 0)
        assert isinstance(model.get_env(), VecNormalize) == wrapped
        assert isinstance(acting(model), NormalisedPolicy) == wrapped


@pytest.mark.rl
def test_normalized_ppo_resume_equals_uninterrupted(tmp_path: Path) -> None:
    """The running statistics and returns of ``VecNormalize`` are checkpointed with the envs
    they wrap: a resumed normalised run equals the straight one."""
    from stable_baselines3.common.vec_env import VecNormalize

    w = WORKLOADS["sb3"](algo="ppo", env="CartPole-v1", min_steps=256, max_steps=512,
                         eval_every=256, eval_episodes=2, normalize="tune")
    cfg = dict(PPO, normalize=True)
    straight = w.objective(cfg, 512, 0, ctx(cfg))
    first = w.objective(cfg, 256, 0, ctx(cfg, tmp_path))
    c = ctx(cfg, tmp_path)
    second = w.objective(cfg, 512, 256, c)
    assert c.extras["workload_info"]["resumed"] and c.extras["workload_info"]["exact_resume"]
    assert first[1] + second[1] == straight[1] and second[0] == straight[0]
    import pickle

    with open(tmp_path / "run" / "seed0" / "state.pkl", "rb") as f:
        state = pickle.load(f)
    norm = pickle.loads(state["normalize"]["norm"])
    assert isinstance(norm, VecNormalize) and norm.obs_rms.count > 512  # statistics of 512 steps


@pytest.mark.rl
def test_test_config_trains_normalised_when_the_study_did() -> None:
    from hyperpilot.workloads.sb3 import test_config

    cfg = dict(PPO, normalize=True)
    with pytest.raises(ValueError, match="normalize"):
        test_config("ppo", "CartPole-v1", cfg, 256, [10_000, 10_001], n_episodes=1)  # off: unknown
    out = test_config("ppo", "CartPole-v1", cfg, 256, [10_000, 10_001], n_episodes=1,
                      normalize="tune")
    assert set(out["per_seed"]) == {10_000, 10_001}
    assert all(math.isfinite(v) for v in out["per_seed"].values())
