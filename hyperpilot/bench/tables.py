"""Tables as CSV, Markdown and LaTeX (booktabs), written side by side under ``report/tables``."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd


def fmt(x: object, digits: int = 4) -> str:
    """Numbers to ``digits`` significant digits; NaN -> ``-``; inf -> ``inf``."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        if math.isnan(x):
            return "-"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.{digits}g}"
    return str(x)


def to_markdown(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _tex(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                 ("#", r"\#"), ("$", r"\$")):
        s = s.replace(a, b)
    return s


def to_latex(df: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs ``table`` (``\\toprule``/``\\midrule``/``\\bottomrule``); needs ``booktabs``."""
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in df.columns)
    out = [r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
           " & ".join(_tex(str(c)) for c in df.columns) + r" \\", r"\midrule"]
    out += [" & ".join(_tex(fmt(v)) for v in row) + r" \\" for row in df.itertuples(index=False)]
    out += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        out.append(rf"\caption{{{_tex(caption)}}}")
    if label:
        out.append(rf"\label{{{label}}}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def write_all(df: pd.DataFrame, folder: Path, name: str, caption: str = "") -> str:
    """Write ``name.csv``, ``name.md`` and ``name.tex``; returns the Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / f"{name}.csv", index=False)
    md = to_markdown(df)
    (folder / f"{name}.md").write_text(md)
    (folder / f"{name}.tex").write_text(to_latex(df, caption, f"tab:{name}"))
    return md


def wide_final(final: pd.DataFrame, ffe: float) -> pd.DataFrame:
    """One budget of ``analysis.final_table`` as method x benchmark ``median [q25, q75]`` strings,
    plus the mean rank over benchmarks and seeds; ``(k/n)`` marks quantiles over only the k of n
    seeds that had an incumbent by then (the others rank last), and a cell where no seed had one
    says so instead of showing empty quantiles."""
    f = final[final["ffe"] == ffe].copy()
    f["cell"] = [(f"{fmt(a)} [{fmt(b)}, {fmt(c)}]" + (f" ({k}/{n})" if k < n else "")) if k
                 else f"no full-budget result yet (0/{n})"
                 for a, b, c, k, n in zip(f["median"], f["q25"], f["q75"], f["n_scored"],
                                          f["n_seeds"], strict=True)]
    wide = f.pivot(index="method", columns="benchmark", values="cell")
    wide["mean rank"] = f.groupby("method")["mean_rank"].mean()
    wide.columns.name = None  # else a blank "benchmark" header row in HTML
    return wide.sort_values("mean rank").reset_index()


def wide_paired(paired: pd.DataFrame) -> pd.DataFrame:
    """``analysis.paired``'s ``"all"`` rows as one row per rival and one ``wins/losses/ties
    (p = ...)`` column per budget."""
    a = paired[paired["group"] == "all"].copy()
    a["cell"] = [f"{w}/{lo}/{t} (p = {p:.2g})" for w, lo, t, p in
                 zip(a["wins"], a["losses"], a["ties"], a["p"], strict=True)]
    wide = a.pivot(index="against", columns="ffe", values="cell")
    wide.columns = [f"@{c:g}" for c in wide.columns]
    return wide.loc[list(dict.fromkeys(a["against"]))].reset_index()
