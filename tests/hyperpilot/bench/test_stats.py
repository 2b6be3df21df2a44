"""Statistics and table helpers on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperpilot.bench import analysis, tables
from hyperpilot.bench.stats import (
    bootstrap_ci,
    first_ffe_reaching,
    iqm,
    paired_sign_test,
    rank_methods,
    speedup_to_target,
)


def test_iqm_known_arrays() -> None:
    assert iqm(np.arange(1, 9)) == 4.5  # middle four of 1..8: 3,4,5,6
    assert iqm(np.array([0.0, 1.0, 1.0, 100.0])) == 1.0  # the outlier is trimmed
    np.testing.assert_allclose(iqm(np.array([[1, 2, 3, 4], [2, 2, 2, 2]]), axis=1), [2.5, 2.0])


def test_bootstrap_ci_contains_true_mean_and_is_seeded() -> None:
    x = np.random.default_rng(0).normal(5.0, 1.0, 400)
    lo, hi = bootstrap_ci(x, np.random.default_rng(1), "mean")
    assert lo < 5.0 < hi and hi - lo < 0.5
    assert bootstrap_ci(x, np.random.default_rng(1), "mean") == (lo, hi)
    assert bootstrap_ci(np.array([2.0, 2.0]), np.random.default_rng(0)) == (2.0, 2.0)


def test_paired_sign_test_counts_and_matches_the_binomial() -> None:
    a = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, np.nan, 3.0, np.nan])
    b = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 3.0, np.nan])
    r = paired_sign_test(a, b)
    assert (r["wins"], r["losses"], r["ties"]) == (8, 1, 2)  # a missing score is worst
    # two-sided binomial: 2 * P(X >= 8 | n = 9, 1/2) = 2 * (9 + 1) / 512
    assert np.isclose(r["p"], 20 / 512)
    swapped = paired_sign_test(b, a)
    assert (swapped["wins"], swapped["losses"], swapped["p"]) == (1, 8, r["p"])
    assert paired_sign_test(np.ones(3), np.ones(3)) == {"wins": 0, "losses": 0, "ties": 3,
                                                         "p": 1.0}


def test_paired_table_on_hand_made_cells() -> None:
    # two benchmarks x two seeds; one trial per cell at FFE 1 (score) and FFE 5 (better score)
    rows = []
    for bench, seed, f, b, c in [("x:1", 0, 1.0, 2.0, 3.0), ("x:1", 1, 1.0, 2.0, 0.5),
                                 ("y", 0, 1.0, 1.0, 1.0), ("y", 1, 4.0, 2.0, np.nan)]:
        for m, v in (("f", f), ("b", b), ("c", c)):
            rows += [(m, bench, seed, 1.0, v), (m, bench, seed, 5.0, v / 2)]
    df = pd.DataFrame(rows, columns=["method", "benchmark", "seed", "ffe", "score"])
    t = analysis.paired(df, [1.0, 5.0], "f", families=True).set_index(["against", "group", "ffe"])
    # f against b: wins on x:1 (both seeds), ties y seed 0, loses y seed 1
    assert t.loc[("b", "all", 1.0), ["wins", "losses", "ties"]].tolist() == [2, 1, 1]
    # against c: a missing score is worst, so y seed 1 is a win
    assert t.loc[("c", "all", 5.0), ["wins", "losses", "ties"]].tolist() == [2, 1, 1]
    assert t.loc[("b", "x", 5.0), ["wins", "losses", "ties"]].tolist() == [2, 0, 0]
    assert t.loc[("b", "y", 1.0), "p"] == 1.0
    w = tables.wide_paired(analysis.paired(df, [1.0, 5.0], "f"))
    assert list(w.columns) == ["against", "@1", "@5"] and list(w["against"]) == ["b", "c"]
    assert w.loc[0, "@1"] == "2/1/1 (p = 1)"
    assert analysis.paired(df, [1.0], "absent").empty
    # a pair where the rival's cell was not run is left out, not counted as a win
    partial = df[~((df["method"] == "b") & (df["benchmark"] == "y") & (df["seed"] == 1))]
    t = analysis.paired(partial, [1.0], "f").set_index("against")
    assert t.loc["b", ["wins", "losses", "ties"]].tolist() == [2, 0, 1]


def test_focus_is_hyperpilot_else_the_first_hyperpilot_variant_else_the_first() -> None:
    """A reference run before the default changed names its hyperpilot ``hyperpilot@ensemble``."""
    assert analysis.focus_method(["gp-bo", "hyperpilot@ensemble", "hyperpilot"]) == "hyperpilot"
    assert analysis.focus_method(["gp-bo", "hyperpilot-nostop@ensemble", "hyperpilot@ensemble"]) \
        == "hyperpilot@ensemble"
    assert analysis.focus_method(["gp-bo", "hyperpilot-mcdropout", "hyperpilot@ensemble:full"]) \
        == "hyperpilot-mcdropout"
    assert analysis.focus_method(["random", "gp-bo"]) == "random"
    with pytest.raises(ValueError, match="no methods"):
        analysis.focus_method([])


def test_ranks_with_ties_and_missing() -> None:
    df = pd.DataFrame({"b": [0, 0, 0, 0, 1, 1], "method": list("abcdab"),
                       "score": [1.0, 1.0, np.nan, 0.5, 3.0, 2.0]})
    assert rank_methods(df, ["b"]).tolist() == [2.5, 2.5, 4.0, 1.0, 2.0, 1.0]


def test_speedup_on_hand_made_table() -> None:
    rows = []
    # random reaches regret 1.0 at FFE 8 in both seeds; "fast" at FFE 2; "never" stays at 5.
    for seed in (0, 1):
        for f, r in [(1, 5.0), (4, 3.0), (8, 1.0), (10, 1.0)]:
            rows.append(("random", f, r, seed))
        for f, r in [(1, 4.0), (2, 0.9), (10, 0.5)]:
            rows.append(("fast", f, r, seed))
        for f, r in [(1, 5.0), (10, 5.0)]:
            rows.append(("never", f, r, seed))
    df = pd.DataFrame(rows, columns=["method", "ffe", "score", "seed"]).assign(benchmark="b")
    sp = speedup_to_target(df).set_index("method")
    assert sp.loc["random", "target"] == 1.0
    assert sp.loc["random", "ffe_to_target"] == 8 and sp.loc["random", "speedup"] == 1.0
    assert sp.loc["fast", "speedup"] == 4.0 and sp.loc["fast", "reached"] == 1.0
    assert sp.loc["never", "speedup"] == 0.0 and np.isinf(sp.loc["never", "ffe_to_target"])
    assert first_ffe_reaching(np.array([1, 2]), np.array([3.0, 2.0]), 2.0) == 2


def test_scores_at_is_a_step_function() -> None:
    df = pd.DataFrame({"method": "m", "benchmark": "b", "seed": 0, "ffe": [0.5, 1.0, 2.0],
                       "score": [np.nan, 3.0, 1.0]})
    got = analysis.scores_at(df, np.array([0.1, 0.7, 1.0, 1.5, 5.0]))["score"].to_numpy()
    np.testing.assert_array_equal(got, [np.nan, np.nan, 3.0, 3.0, 1.0])


def test_latex_is_booktabs_and_escaped() -> None:
    tex = tables.to_latex(pd.DataFrame({"method": ["gp_bo"], "regret": [0.123456]}), "c", "tab:x")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "gp\\_bo" in tex and "0.1235" in tex
    assert tables.to_markdown(pd.DataFrame({"a": [np.nan]})).splitlines()[-1] == "| - |"


def test_compute_saved_on_hand_made_trials() -> None:
    from hyperpilot.bench.analysis import budget_sums, compute_saved

    df = pd.DataFrame({
        "method": ["hb", "hb", "hb", "rs"], "benchmark": "b", "seed": [0, 0, 1, 0],
        "trial_index": [0, 1, 0, 0],
        "budget": [3.0, 9.0, 9.0, 9.0],
        "resume_budget": [0.0, 3.0, 0.0, 0.0],
        "spent": [3.0, 6.0, 2.0, 9.0],  # the third run was stopped at budget 2 of 9
        "stopped": [False, False, True, False],
    })
    t = compute_saved(df).set_index("method")
    assert list(t.index) == ["hb"]  # random search neither promotes nor stops
    assert t.loc["hb", "resume_saved"] == pytest.approx(3 / 14)  # 3 of (11 spent + 3 resumed)
    assert t.loc["hb", "stop_saved"] == pytest.approx(7 / 18)  # 7 of 18 asked
    assert t.loc["hb", "promotions"] == 1 and t.loc["hb", "stopped"] == 1
    # per-cell sums of two pieces of the grid (seed 0, seed 1) pool to the same numbers
    pieces = pd.concat([budget_sums(df[df["seed"] == 0]), budget_sums(df[df["seed"] == 1])])
    pd.testing.assert_frame_equal(compute_saved(sums=pieces), t.reset_index())


def test_figures_draw_a_never_reached_target_and_keep_one_colour_per_method(tmp_path) -> None:
    from hyperpilot.bench import figures

    sp = pd.DataFrame({"method": ["random", "random", "fast", "fast", "never", "never"],
                       "benchmark": ["a", "b"] * 3, "speedup": [1.0, 1.0, 4.0, 8.0, 0.0, 0.0]})
    paths = figures.speedup_plot(sp, tmp_path)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    ranks = pd.DataFrame({"method": ["a", "a", "b", "b"], "ffe": [1.0, 100.0] * 2,
                          "mean_rank": [1.5, 1.0, 1.5, 2.0]})
    assert figures.rank_curves(ranks, tmp_path)[0].stat().st_size > 1000
    # the same method gets the same colour whatever else is in the figure
    assert figures.method_palette(["b", "a"])["a"] == figures.method_palette(["a", "b"])["a"]
