"""The logic of the surrogate measurement scripts (``paper/scripts/surrogate_*.py``) on tiny inputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "paper" / "scripts"))

import surrogate_common as common  # noqa: E402
import surrogate_quality as quality  # noqa: E402

from surrogates import SURROGATES, UnknownSurrogate  # noqa: E402


def test_top_indices_keep_the_largest_tenth_best_first() -> None:
    y = torch.tensor([1.0, 5, 3, 5, 2, 0, 4, 9, 8, 7])
    assert common.top_indices(y).tolist() == [7]
    assert common.top_indices(y.unsqueeze(-1), 0.3).tolist() == [7, 8, 9]
    assert common.top_indices(y, 0.25).tolist() == [7, 8, 9]  # ceil(2.5)
    assert common.top_indices(torch.tensor([5.0, 5, 1]), 0.5).tolist() == [0, 1]  # ties: earlier
    assert len(common.top_indices(torch.arange(30.0))) == 3  # not 4 from 0.1 * 30 = 3.0000000004
    assert common.top_indices(torch.tensor([2.0, 1.0]), 0.1).tolist() == [0]  # at least one
    with pytest.raises(ValueError):
        common.top_indices(y, 0.0)


def test_heldout_metrics_score_the_top_tenth_apart() -> None:
    """A model right everywhere but in its order of the best three points."""
    y = torch.arange(30.0)
    mean = y.clone()
    mean[27:] = torch.tensor([29.0, 28.0, 27.0])  # best three reversed, off by 2, 0, -2
    var = torch.full((30,), 4.0)
    m = common.heldout_metrics(mean, var, y.unsqueeze(-1))
    assert set(m) == {p + k for p in ("", "top10_") for k in ("rmse", "nll", "cov90", "spearman")}
    assert m["spearman"] > 0.99 and m["top10_spearman"] == pytest.approx(-1.0)
    assert m["top10_rmse"] == pytest.approx(math.sqrt(8 / 3))
    assert m["rmse"] == pytest.approx(math.sqrt(8 / 30))
    assert m["cov90"] == 1.0 and m["top10_cov90"] == 1.0  # |error| <= 2 < 1.645 * 2
    nll = 0.5 * (math.log(2 * math.pi * 4.0) + 8 / 3 / 4.0)
    assert m["top10_nll"] == pytest.approx(nll)


def test_metrics_coverage_and_undefined_spearman() -> None:
    y = torch.zeros(4)
    m = common.metrics(torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.ones(4), y)
    assert m["cov90"] == 0.5  # |error| 0 and 1 inside 1.645, 2 and 3 outside
    assert math.isnan(m["spearman"])  # constant targets
    assert math.isnan(common.metrics(torch.ones(2), torch.ones(2), torch.arange(2.0))["spearman"])


def test_surrogate_names_default_to_the_registry_and_are_checked() -> None:
    assert common.surrogate_names(None) == list(SURROGATES)
    assert common.surrogate_names(["all"]) == list(SURROGATES)
    assert common.surrogate_names(["gp,ensemble", "gp-capped", "gp"]) == ["gp", "ensemble",
                                                                        "gp-capped"]
    with pytest.raises(UnknownSurrogate, match="known:"):
        common.surrogate_names(["gp,nope"])


def test_summarize_takes_medians_of_ok_rows_and_collects_notes() -> None:
    rows = [{"k": "a", "x": 1.0, "status": "ok"}, {"k": "a", "x": 3.0, "status": "ok"},
            {"k": "a", "x": 100.0, "status": "ok"}, {"k": "a", "x": math.nan, "status": "failed",
                                                     "note": "fit failed: boom"},
            {"k": "b", "x": math.nan, "status": "skipped", "note": "skipped: too big"},
            {"k": "b", "x": math.nan, "status": "skipped", "note": "skipped: too big"}]
    a, b = common.summarize(rows, ["k"], ["x"])
    assert (a["x"], a["runs"], a["note"]) == (3.0, 3, "fit failed: boom")
    assert math.isnan(b["x"]) and (b["runs"], b["note"]) == (0, "skipped: too big")
    md = common.records_markdown([a, b], ["k", "x", "runs", "note"], digits=2)
    assert md.splitlines()[2:] == ["| a | 3.00 | 3 | fit failed: boom |",
                                   "| b | - | 0 | skipped: too big |"]


def test_lcbench_tasks_are_development_tasks_only() -> None:
    assert quality.lcbench_tasks(["3945", "7593", "3945"]) == ["lcbench:3945", "lcbench:7593"]
    assert len(quality.lcbench_tasks(["dev"])) == 10
    with pytest.raises(ValueError, match="not a development task"):
        quality.lcbench_tasks(["189862"])


def test_quality_rows_skip_exact_gps_above_the_limit_and_score_the_others() -> None:
    split = common.hartmann_split(12, 40, seed=0)
    rows = quality.evaluate("hartmann6", split, 12, 0, ["gp", "gp-capped"], max_gp_n=10)
    gp, capped = rows
    assert gp["status"] == "skipped" and "--max-gp-n 10" in gp["note"]
    assert math.isnan(gp["top10_nll"]) and list(gp) == list(capped)  # same CSV columns
    assert capped["status"] == "ok" and capped["surrogate"] == "gp-capped"
    assert all(math.isfinite(capped[c]) for c in ("rmse", "nll", "top10_rmse", "top10_nll"))
    md = quality.table(rows)
    assert "| hartmann6 | 12 | gp | - |" in md and "| hartmann6 | 12 | gp-capped | " in md
    assert quality.skip_reason("gp-capped", 10**6, 10) is None
    assert quality.skip_reason("gp", 10, None) is None
