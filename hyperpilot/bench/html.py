"""A self-contained interactive report: plotly figures with plotly.js inlined once (no CDN)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;font-size:13px;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}h2{{margin-top:1.5em}}</style>
</head><body><h1>{title}</h1>
{body}
</body></html>
"""


def _curve_fig(summary: pd.DataFrame, bench: str, stat: str):  # type: ignore[no-untyped-def]
    import plotly.graph_objects as go

    lo, hi = ("q25", "q75") if stat == "median" else ("iqm_lo", "iqm_hi")
    fig = go.Figure()
    for i, (m, g) in enumerate(summary[summary["benchmark"] == bench].groupby("method")):
        color = f"hsl({(i * 67) % 360},70%,45%)"
        fig.add_trace(go.Scatter(x=g["ffe"], y=g[hi], mode="lines", line={"width": 0},
                                 showlegend=False, legendgroup=m, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=g["ffe"], y=g[lo], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=color.replace("hsl", "hsla").replace(")", ",0.2)"),
                                 showlegend=False, legendgroup=m, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=g["ffe"], y=g[stat], mode="lines", name=m, legendgroup=m,
                                 line={"color": color}))
    fig.update_layout(title=f"{bench}: {stat} regret", xaxis_type="log",
                      xaxis_title="full-fidelity equivalents", yaxis_title="regret",
                      height=420, margin={"t": 50})
    return fig


def _line_fig(df: pd.DataFrame, x: str, y: str, title: str, logy: bool = False):  # type: ignore[no-untyped-def]
    import plotly.express as px

    fig = px.line(df, x=x, y=y, color="method", title=title, log_x=(x == "ffe"), log_y=logy)
    fig.update_layout(height=400, margin={"t": 50})
    return fig


def write_html(path: Path, title: str, summary: pd.DataFrame, ranks: pd.DataFrame,
               over: pd.DataFrame, tables: dict[str, pd.DataFrame], notes: str = "") -> Path:
    """Write ``report.html``: curves per benchmark (median and IQM), mean rank, overhead, tables."""
    figs = []
    for b in dict.fromkeys(summary["benchmark"]):
        figs += [_curve_fig(summary, b, "median"), _curve_fig(summary, b, "iqm")]
    figs.append(_line_fig(ranks, "ffe", "mean_rank", "mean rank over time (1 = best)"))
    figs.append(_line_fig(over, "trial_index", "overhead_s",
                          "optimizer overhead per proposal [s] vs trial index", logy=True))
    parts = [f"<p>{html.escape(notes)}</p>" if notes else ""]
    for i, f in enumerate(figs):
        parts.append(f.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%"))
    for name, t in tables.items():
        parts.append(f"<h2>{html.escape(name)}</h2>" + t.to_html(index=False, na_rep="-",
                                                                  float_format=lambda v: f"{v:.4g}"))
    path.write_text(PAGE.format(title=html.escape(title), body="\n".join(parts)))
    return path
