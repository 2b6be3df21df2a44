"""The HTML report as a person reads it (issue 20): colours, axes, markers, tables, summary."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("plotly")
pytest.importorskip("seaborn")

from hyperpilot.bench import analysis, html, tables, verdict  # noqa: E402
from hyperpilot.bench.figures import method_palette  # noqa: E402

METHODS = ["gp-bo", "hyperband", "random"]


def _trials() -> pd.DataFrame:
    """3 methods x 2 benchmarks x 4 seeds; hyperband scores only at its last trial (ffe 4), on
    half the seeds; gp-bo beats random on every pair."""
    rows = []
    for b in ("branin", "hartmann6"):
        for s in range(4):
            for m in METHODS:
                for i, f in enumerate([0.5, 1.0, 2.0, 4.0]):
                    score = {"gp-bo": 1.0 / (i + 1), "random": 2.0 / (i + 1) + 1,
                             "hyperband": 0.5 if (i == 3 and s % 2 == 0) else np.nan}[m]
                    rows.append({"method": m, "benchmark": b, "seed": s, "trial_index": i,
                                 "ffe": f, "score": score})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def parts() -> dict[str, pd.DataFrame]:
    df = _trials()
    curves = analysis.scores_at(df, analysis.ffe_grid(df, 4.0, n=8))
    return {"df": df, "summary": analysis.summarize(curves, np.random.default_rng(0)),
            "ranks": analysis.mean_ranks(curves), "final": analysis.final_table(df, [1.0, 4.0])}


def test_one_colour_per_method_in_every_chart(parts: dict[str, pd.DataFrame]) -> None:
    palette = method_palette(METHODS)
    assert palette == method_palette(list(reversed(METHODS)))  # the order methods come in
    assert len(set(palette.values())) == 3 and all(c.startswith("#") for c in palette.values())
    sp = pd.DataFrame({"method": METHODS, "benchmark": "branin", "speedup": [2.0, 1.5, 1.0]})
    over = pd.DataFrame({"method": METHODS * 2, "trial_index": [0, 0, 0, 5, 5, 5],
                         "overhead_s": [0.1, 0.01, 0.01, 0.2, 0.01, 0.01]})
    figs = [html.curve_fig(parts["summary"], "branin", "median", palette),
            html.curve_fig(parts["summary"], "hartmann6", "iqm", palette),
            html.line_fig(parts["ranks"], "ffe", "mean_rank", "rank", palette, logx=True),
            html.line_fig(over, "trial_index", "overhead_s", "overhead", palette, logy=True)]
    for fig in figs:
        for tr in fig.data:
            m = tr.legendgroup or tr.name
            if m in palette:
                assert tr.line.color in (palette[m], None) and tr.marker.color in (palette[m], None)
    bars = html.speedup_fig(sp, palette).data[0]
    assert list(bars.marker.color) == [palette[m] for m in ["random", "hyperband", "gp-bo"]]


def test_regret_charts_use_a_log_axis_markers_and_human_labels(
        parts: dict[str, pd.DataFrame]) -> None:
    fig = html.curve_fig(parts["summary"], "branin", "median", method_palette(METHODS))
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.title.text == "full-fidelity equivalents (FFE)"
    curves = [tr for tr in fig.data if tr.uid.endswith(("--curve", "--partial"))]
    assert all("markers" in tr.mode and tr.line.shape == "hv" for tr in curves)
    hb = [tr for tr in fig.data if tr.uid.startswith("regret-median-branin--hyperband")]
    assert [tr.uid.rsplit("--", 1)[1] for tr in hb] == ["partial"]  # 2 of 4 seeds: dotted
    assert np.isfinite(np.asarray(hb[0].y, dtype=float)).sum() >= 1
    rank = html.line_fig(parts["ranks"], "ffe", "mean_rank", "rank", method_palette(METHODS))
    assert rank.layout.yaxis.title.text == "mean rank (1 = best)"


def test_tables_have_headings_values_and_no_empty_quantiles(parts: dict[str, pd.DataFrame]
                                                            ) -> None:
    w = tables.wide_final(parts["final"], 1.0)
    text = html.table_html(w)
    assert "- [-, -]" not in text and "no full-budget result yet (0/4)" in text
    heads = re.findall(r"<th>([^<]*)</th>", text)
    assert heads == ["method", "branin", "hartmann6", "mean rank"]  # no blank header row
    assert "focus rank" in html.table_html(pd.DataFrame({"focus_rank": [1.0]}))
    assert "overhead per proposal" in html.table_html(pd.DataFrame({"overhead_s": [1.0]}))


def test_summary_says_who_wins_where_and_how_sure(parts: dict[str, pd.DataFrame]) -> None:
    lines = verdict.summary_lines(parts["df"], parts["final"], [1.0, 4.0])
    assert lines[0].startswith("At 1 FFE, gp-bo ranks first")
    assert "gp-bo has the lower regret in 8, random in 0, 0 tied: sign test p = 0.0078, a clear " \
           "lead" in lines[0]
    assert lines[1].startswith("At 4 FFE, gp-bo ranks first")
    assert "branin: gp-bo, hartmann6: gp-bo" in lines[2] and "tentative" in lines[3]
    late = parts["df"].assign(score=parts["df"]["score"].where(parts["df"]["ffe"] > 0.5))
    empty = verdict.summary_lines(late, analysis.final_table(late, [0.5]), [0.5])
    assert empty[0] == "At 0.5 FFE no method has a full-budget result yet."
