"""LaTeX tables for the paper (booktabs), written as ``paper/tables/<name>.tex``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyperpilot.bench.tables import fmt

_ESCAPES = (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
            ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
            ("^", r"\textasciicircum{}"))


def tex(s: object) -> str:
    """Escape LaTeX's special characters in ``str(s)`` (numbers via ``fmt``, 4 digits)."""
    out = fmt(s)
    for a, b in _ESCAPES:
        out = out.replace(a, b) if a != "\\" else out.replace(a, "\0")
    return out.replace("\0", r"\textbackslash{}")


def table(df: pd.DataFrame, caption: str, label: str, bold: list[tuple[int, int]] | None = None,
          resize: bool = False, small: bool = True) -> str:
    """A ``table`` float with a booktabs ``tabular``; ``bold`` holds (row, column) positions."""
    bold_set = set(bold or [])
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in df.columns)
    body = [" & ".join(tex(c) for c in df.columns) + r" \\", r"\midrule"]
    for i, row in enumerate(df.itertuples(index=False)):
        cells = [(rf"\textbf{{{tex(v)}}}" if (i, j) in bold_set else tex(v)) for j, v in enumerate(row)]
        body.append(" & ".join(cells) + r" \\")
    tab = [rf"\begin{{tabular}}{{{align}}}", r"\toprule", *body, r"\bottomrule", r"\end{tabular}"]
    if resize:
        # shrink to the line width when wider; never enlarge a narrow table
        tab = [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%", *tab, "}"]
    out = [r"\begin{table}[tbp]", r"\centering", *([r"\small"] if small else []), *tab,
           rf"\caption{{{caption}}}", rf"\label{{tab:{label}}}", r"\end{table}"]
    return "\n".join(out) + "\n"


def write(text: str, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.tex"
    p.write_text(text)
    return p
