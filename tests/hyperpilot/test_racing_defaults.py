"""``paper/scripts/racing_defaults.py``: settings, and one study scored by two incumbent rules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "paper" / "scripts"))

import racing_defaults as rd  # noqa: E402


def test_setting_names_map_to_method_options() -> None:
    assert rd.setting_options("off") == {}
    assert rd.setting_options("s3-model") == {
        "racing": {"max_seeds": 3, "compare": "paired"},
        "incumbent": {"statistic": "model", "min_seeds": 3}}
    assert rd.setting_options("off-model") == {"incumbent": {"statistic": "model", "min_seeds": 1}}
    with pytest.raises(ValueError, match="unknown setting"):
        rd.setting_options("s3-median")


@pytest.mark.parametrize("setting", ["off", "s2"])
def test_the_model_row_of_a_shared_study_is_the_model_rules_own_study(
        setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring a study's results by the model rule gives what a study run with that rule
    returns: the rule changes what is returned, not what runs. (At 8 FFE two configs reach
    the max budget here, so the model is fitted and decides.)"""
    import hyperpilot.posterior_incumbent as pi

    fits = []
    real = pi.posterior_incumbent
    monkeypatch.setattr(pi, "posterior_incumbent",
                        lambda *a, **k: fits.append(k["candidates"]) or real(*a, **k))
    shared = rd.run_one("noisy-brittle", "hyperband", setting, 1, 8.0, also_model=True)
    own = rd.run_one("noisy-brittle", "hyperband", f"{setting}-model", 1, 8.0)
    assert len(fits) == 2 and all(len(c) >= 2 for c in fits)  # one fit per way, 2+ candidates
    assert [r["setting"] for r in shared] == [setting, f"{setting}-model"]
    keep = [c for c in rd.COLUMNS if c not in ("setting", "seconds")]
    assert {c: shared[1][c] for c in keep} == {c: own[0][c] for c in keep}
    assert list(shared[0]) == rd.COLUMNS


def test_the_summary_pairs_a_model_setting_with_its_base_and_others_with_off() -> None:
    import pandas as pd

    rows = []
    for seed, (off, s3, s3m) in enumerate([(0.3, 0.2, 0.1), (0.3, 0.1, 0.2), (0.3, 0.2, 0.05)]):
        for setting, regret in (("off", off), ("s3", s3), ("s3-model", s3m)):
            rows.append({"benchmark": "b", "method": "m", "setting": setting, "seed": seed,
                         "test_regret": regret, "extra_share": 0.0, "tuning_value": 0.0,
                         "test_value": regret})
    table = rd.summary(pd.DataFrame(rows)).set_index("setting")
    assert table.loc["s3", "vs"] == "off" and table.loc["s3", "wins"] == 3
    assert table.loc["s3-model", "vs"] == "s3"
    assert (table.loc["s3-model", "wins"], table.loc["s3-model", "losses"]) == (2, 1)
