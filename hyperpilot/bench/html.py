"""A self-contained interactive report: plotly figures with plotly.js inlined once (no CDN).

The page opens with its summary (who wins, at which budget, how sure: ``bench.verdict``), then
the regret curves per benchmark, mean rank, speed-up and overhead, then the tables. Every chart
gives a method the colour its PNG figures give it (``figures.method_palette``), and every trace
carries the uid ``<chart>--<method>--<role>`` so tests can find it in the rendered page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px;line-height:1.4}}
table{{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}
h2{{margin-top:1.5em}}.summary{{background:#f6f8fa;border-left:4px solid #4c72b0;
padding:0.6em 1.2em}}.caption{{color:#555;font-size:13px;margin-top:0}}</style>
</head><body><h1>{title}</h1>
{body}
</body></html>
"""
LABELS = {"ffe": "full-fidelity equivalents (FFE)", "mean_rank": "mean rank (1 = best)",
          "overhead_s": "optimizer overhead per proposal [s]",
          "trial_index": "trial index (observations so far)", "speedup": "speed-up"}
REGRET_CAPTION = (
    "Median regret over seeds (band: 25-75%) and IQM (band: 95% bootstrap CI), against the "
    "budget spent. A curve is a step line (the incumbent changes only when a trial ends) and "
    "starts at the budget where every seed of the method has a full-budget result: "
    "multi-fidelity methods spend their first FFE at low budgets, so their curves start late, "
    "and a method with a single point is drawn as a dot.")


def slug(text: str) -> str:
    """``text`` as an id fragment: letters, digits, ``.``, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)


def trace_uid(chart: str, method: str, role: str) -> str:
    """The uid of ``method``'s ``role`` trace (``"curve"``, ``"band"``) in chart ``chart``."""
    return f"{slug(chart)}--{slug(method)}--{role}"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: Any, title: str, x: str, y: str, logx: bool = False, logy: bool = False) -> Any:
    fig.update_layout(title=title, height=420, margin={"t": 50}, legend_title_text="method",
                      xaxis_title=LABELS.get(x, x), yaxis_title=LABELS.get(y, y))
    if logx:  # otherwise plotly picks (a category axis for the speed-up's method names)
        fig.update_xaxes(type="log")
    if logy:
        fig.update_yaxes(type="log")
    return fig


def curve_fig(summary: pd.DataFrame, bench: str, stat: str, palette: dict[str, str]) -> Any:
    """``stat`` regret of each method on ``bench``: step line with markers, band behind it;
    log y when every plotted value is > 0 (as the PNG). Where only some seeds have a
    full-budget result, a dotted line gives the median over those (``k/n seeds``); a method with
    none by the end is marked at the top edge (it ranks last), so every method shows."""
    import plotly.graph_objects as go

    lo, hi = ("q25", "q75") if stat == "median" else ("iqm_lo", "iqm_hi")
    s = summary[summary["benchmark"] == bench]
    chart = f"regret-{stat}-{bench}"
    shown = pd.concat([s[stat], s.get("median_scored", s[stat])]).dropna()
    top = float(shown.max()) if len(shown) else 1.0
    fig = go.Figure()
    for m, g in s.groupby("method", sort=True):
        for tr in _method_traces(g, str(m), stat, lo, hi, chart, palette[str(m)], top):
            fig.add_trace(tr)
    logy = bool(len(shown)) and bool((shown > 0).all())
    what = "median" if stat == "median" else "IQM"
    fig = _layout(fig, f"{bench}: {what} regret" + ("" if logy else " (linear axis: some "
                  "regrets are <= 0)"), "ffe", f"{what} regret" + (" (log)" if logy else ""),
                  logx=True, logy=logy)
    first = s.loc[s[stat].notna() | s.get("median_scored", s[stat]).notna(), "ffe"]
    if len(first):  # from just before the first result: the empty start says nothing
        fig.update_xaxes(range=[np.log10(float(first.min())) - 0.1,
                                np.log10(float(s["ffe"].max())) + 0.05])
    return _ticks(fig, shown if logy else None, first if len(first) else None)


def _method_traces(g: pd.DataFrame, m: str, stat: str, lo: str, hi: str, chart: str, c: str,
                   top: float) -> list[Any]:
    """One method's band, curve, partial curve (some seeds scored) or no-result mark."""
    import plotly.graph_objects as go

    out = []
    band = g.dropna(subset=[lo, hi])
    if len(band):
        (xu, yu), (xl, yl) = _steps(band["ffe"], band[hi]), _steps(band["ffe"], band[lo])
        out.append(go.Scatter(
            x=xu + xl[::-1], y=yu + yl[::-1], fill="toself", fillcolor=_rgba(c, 0.15),
            line={"width": 0}, mode="lines", showlegend=False, legendgroup=m,
            hoverinfo="skip", uid=trace_uid(chart, m, "band")))
    dash = "dash" if _is_peer(m) else "solid"
    if g[stat].notna().any():
        out.append(go.Scatter(
            x=g["ffe"], y=g[stat], mode="lines+markers", name=m, legendgroup=m,
            line={"color": c, "shape": "hv", "dash": dash}, marker={"color": c, "size": 5},
            uid=trace_uid(chart, m, "curve"),
            hovertemplate=f"{m}<br>%{{x:.3g}} FFE<br>{stat} regret %{{y:.4g}}<extra></extra>"))
    part = g[g[stat].isna() & (g.get("n_scored", 0) > 0)] if "n_scored" in g else g.iloc[:0]
    if len(part):
        n = int(g["n_seeds"].iloc[-1])
        out.append(go.Scatter(
            x=part["ffe"], y=part["median_scored"], mode="lines+markers",
            name=f"{m} (median of the seeds scored so far)", legendgroup=m,
            line={"color": c, "shape": "hv", "dash": "dot"}, marker={"color": c, "size": 5},
            customdata=part["n_scored"], uid=trace_uid(chart, m, "partial"),
            hovertemplate=(f"{m}<br>%{{x:.3g}} FFE<br>median over %{{customdata}}/{n} seeds "
                           "%{y:.4g}<extra></extra>")))
    if not out or (len(out) == 1 and len(band)):
        out.append(go.Scatter(
            x=[float(g["ffe"].max())], y=[top], mode="markers",
            name=f"{m}: no full-budget result by {float(g['ffe'].max()):g} FFE (ranks last)",
            legendgroup=m, marker={"color": c, "size": 11, "symbol": "triangle-up"},
            uid=trace_uid(chart, m, "none"), hovertemplate=f"{m}: no full-budget result"
            "<extra></extra>"))
    return out


def _ticks(fig: Any, logged: pd.Series | None, ffe: pd.Series | None = None) -> Any:
    """Decade ticks only (0.1, 1, 10, ...) on log axes that span 1.5 decades or more; plotly's
    default labels 2 and 5 inside each decade too, which reads as a jumble of digits."""
    for axis, vals in (("x", ffe), ("y", logged)):
        if vals is not None and len(vals) and float(vals.min()) > 0:
            if np.log10(float(vals.max())) - np.log10(float(vals.min())) >= 1.5:
                (fig.update_xaxes if axis == "x" else fig.update_yaxes)(dtick=1)
    return fig


def _steps(x: pd.Series, y: pd.Series) -> tuple[list[float], list[float]]:
    """The corners of the step line through ``(x, y)`` (each value holds until the next x)."""
    xs, ys = list(map(float, x)), list(map(float, y))
    out_x = [v for a, b in zip(xs, xs[1:] + xs[-1:], strict=True) for v in (a, b)]
    out_y = [v for v in ys for _ in (0, 1)]
    return out_x, out_y


def _is_peer(method: str) -> bool:
    from hyperpilot.bench.peers import PEERS

    return method.split(":")[0] in PEERS


def line_fig(df: pd.DataFrame, x: str, y: str, title: str, palette: dict[str, str],
             logx: bool = False, logy: bool = False) -> Any:
    """One line with markers per method (mean rank, overhead)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for m, g in df.groupby("method", sort=True):
        g = g.sort_values(x)
        fig.add_trace(go.Scatter(x=g[x], y=g[y], mode="lines+markers", name=str(m),
                                 line={"color": palette[str(m)]},
                                 marker={"color": palette[str(m)], "size": 4},
                                 uid=trace_uid(title, str(m), "curve")))
    fig = _layout(fig, title, x, y, logx=logx, logy=logy)
    if logx:  # the last two decades, as the PNG: before that few cells have a score
        hi = float(df[x].max())
        fig.update_xaxes(range=[np.log10(max(float(df[x].min()), hi / 100)), np.log10(hi) + 0.05])
    return _ticks(fig, df[y] if logy else None, df[x] if logx else None)


def speedup_fig(sp: pd.DataFrame, palette: dict[str, str], floor: float = 0.1) -> Any:
    """Median speed-up over benchmarks (bar) and each benchmark's (dots), as ``speedup.png``."""
    import plotly.graph_objects as go

    med = sp.groupby("method")["speedup"].median().sort_values(ascending=True)
    fig = go.Figure(go.Bar(
        x=med.clip(lower=floor), y=[f"{m} ({v:.1f}x)" for m, v in med.items()], orientation="h",
        marker={"color": [palette[str(m)] for m in med.index]}, opacity=0.6, showlegend=False,
        hovertemplate="median %{x:.3g}x<extra></extra>"))
    names = {m: f"{m} ({v:.1f}x)" for m, v in med.items()}
    fig.add_trace(go.Scatter(
        x=sp["speedup"].clip(lower=floor), y=sp["method"].map(names), mode="markers",
        marker={"color": "black", "size": 6}, name="one benchmark", text=sp["benchmark"],
        hovertemplate="%{text}: %{x:.3g}x<extra></extra>"))
    fig.add_vline(x=1.0, line_width=1)
    fig = _layout(fig, "Speed-up to random search's final median regret", "speedup", "method",
                  logx=True)
    fig.update_layout(height=200 + 40 * len(med))
    return fig


def table_html(t: pd.DataFrame) -> str:
    """A table with readable headings (``LABELS``, underscores as spaces); missing values as
    an empty cell, never ``-``."""
    shown = t.rename(columns={c: LABELS.get(str(c), str(c).replace("_", " ")) for c in t.columns})
    shown.columns.name = None
    return shown.to_html(index=False, na_rep="", border=0,
                         float_format=lambda v: "" if np.isnan(v) else f"{v:.4g}")


def write_html(path: Path, title: str, summary: pd.DataFrame, ranks: pd.DataFrame,
               over: pd.DataFrame, tables: dict[str, tuple[str, pd.DataFrame]],
               palette: dict[str, str], lead: list[str], notes: list[str],
               speedup: pd.DataFrame | None = None) -> Path:
    """Write ``report.html``.

    Args:
        tables: ``name -> (title, table)``, shown in order under their titles.
        palette: method -> ``#rrggbb`` (``figures.method_palette``), for every chart.
        lead: the summary's sentences (``verdict.summary_lines``); ``notes``: more lines under it.
        speedup: ``stats.speedup_to_target`` rows, drawn when given and not empty.
    """
    parts = ['<div class="summary"><h2>Summary</h2>'
             + "".join(f"<p>{_md_inline(x)}</p>" for x in lead + notes) + "</div>"]
    figs: list[tuple[str, Any, str]] = []
    for b in dict.fromkeys(summary["benchmark"]):
        figs += [(f"Regret on {b}", curve_fig(summary, b, "median", palette), REGRET_CAPTION),
                 ("", curve_fig(summary, b, "iqm", palette), "")]
    figs.append(("Mean rank", line_fig(ranks, "ffe", "mean_rank", "Mean rank over benchmarks "
                 "and seeds (1 = best)", palette, logx=True), ""))
    if speedup is not None and len(speedup):
        figs.append(("Speed-up", speedup_fig(speedup, palette), "How many times less budget "
                     "a method needs than random search to reach random search's final median "
                     "regret: bars are the median over benchmarks, dots single benchmarks (at "
                     "0.1: the target was never reached)."))
    if len(over):
        figs.append(("Optimizer overhead", line_fig(over, "trial_index", "overhead_s",
                     "Optimizer overhead per proposal", palette, logy=True), ""))
    for i, (head, f, caption) in enumerate(figs):
        parts.append((f"<h2>{html.escape(head)}</h2>" if head else "")
                     + (f'<p class="caption">{html.escape(caption)}</p>' if caption else "")
                     + f.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%",
                                 div_id=f"chart-{i}"))
    for name, (heading, t) in tables.items():
        parts.append(f'<h2 id="{slug(name)}">{html.escape(heading)}</h2>' + table_html(t))
    path.write_text(PAGE.format(title=html.escape(title), body="\n".join(parts)))
    return path


def _md_inline(text: str) -> str:
    """Escaped ``text`` with Markdown ``**bold**`` as ``<b>``."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))
