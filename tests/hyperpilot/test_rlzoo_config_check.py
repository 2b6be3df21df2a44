"""paper/scripts/rlzoo_config_check.py: rl-zoo's published hyperparameters as SB3 arguments."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))

from rlzoo_config_check import sb3_kwargs, zoo_hyperparams  # noqa: E402


def test_rl_zoo_values_become_sb3_arguments() -> None:
    kw, n_envs, normalize = sb3_kwargs({"n_envs": 8, "n_timesteps": 1e5, "policy": "MlpPolicy",
                                        "normalize": True, "learning_rate": "lin_0.001",
                                        "clip_range": "lin_0.2", "gamma": 0.98, "n_steps": 32})
    assert n_envs == 8 and normalize
    assert set(kw) == {"learning_rate", "clip_range", "gamma", "n_steps"}
    # rl-zoo's "lin_x": linear from x at the start (remaining progress 1) to 0 at the end
    assert kw["learning_rate"](1.0) == pytest.approx(1e-3) and kw["learning_rate"](0.25) == pytest.approx(2.5e-4)
    assert kw["clip_range"](0.5) == pytest.approx(0.1) and kw["gamma"] == 0.98
    assert sb3_kwargs({"gamma": 0.9})[1:] == (1, False)


@pytest.mark.data
def test_acrobot_row_is_read_from_the_data_directory(data_dir: Path) -> None:
    hp = zoo_hyperparams(data_dir, "ppo", "Acrobot-v1")
    assert hp["normalize"] is True and hp["n_envs"] == 16 and hp["n_timesteps"] == 1e6
    with pytest.raises(KeyError, match="no rl-zoo row"):
        zoo_hyperparams(data_dir, "ppo", "NoSuchEnv-v0")
