"""LaTeX tables for the paper (booktabs), written as ``paper/tables/<name>.tex``."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

_ESCAPES = (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
            ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
            ("^", r"\textasciicircum{}"))


SIG_DIGITS = 3
"""Significant digits of every generated number: enough to compare, few enough to read."""


def num(x: object, digits: int = SIG_DIGITS) -> str:
    """A number as a reader compares it: ``digits`` significant digits, no trailing noise.

    Integers below 1000 (counts, seeds) are exact; other magnitudes of 1000 and more take a
    ``k``/``M`` suffix (``42402 -> 42.4k``); magnitudes below 0.001 use a short exponent
    (``5.524e-05 -> 5.52e-5``); NaN is ``-``. Anything that is not a number is ``str(x)``.
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        try:  # numpy scalars
            import numpy as np

            if isinstance(x, np.generic) and np.issubdtype(type(x), np.number):
                x = x.item()
            else:
                return str(x)
        except ImportError:  # pragma: no cover - numpy is a dependency
            return str(x)
    assert isinstance(x, (int, float))
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if isinstance(x, int) and abs(x) < 1000:
        return str(x)
    r = float(f"{x:.{digits}g}")  # rounded first, so 999960 becomes 1M, not 1000k
    a = abs(r)
    if a >= 1e6:
        return f"{r / 1e6:g}M"
    if a >= 1e3:
        return f"{r / 1e3:g}k"
    if a != 0 and a < 1e-3:
        mant, _, exp = f"{r:.{digits - 1}e}".partition("e")
        return f"{float(mant):g}e{int(exp)}"
    return f"{r:g}"


def listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: a list in running text."""
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def tex(s: object) -> str:
    """Escape LaTeX's special characters in ``str(s)`` (numbers via :func:`num`)."""
    out = num(s)
    for a, b in _ESCAPES:
        out = out.replace(a, b) if a != "\\" else out.replace(a, "\0")
    return out.replace("\0", r"\textbackslash{}")


def table(df: pd.DataFrame, caption: str, label: str, bold: list[tuple[int, int]] | None = None,
          resize: bool = False, small: bool = True) -> str:
    """A ``table`` float with a booktabs ``tabular``; ``bold`` holds (row, column) positions."""
    head, rows = _lines(df, bold)
    tab = [rf"\begin{{tabular}}{{{_align(df)}}}", r"\toprule", head, r"\midrule", *rows,
           r"\bottomrule", r"\end{tabular}"]
    if resize:
        # shrink to the line width when wider; never enlarge a narrow table
        tab = [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%", *tab, "}"]
    out = [r"\begin{table}[tbp]", r"\centering", *([r"\small"] if small else []), *tab,
           rf"\caption{{{caption}}}", rf"\label{{tab:{label}}}", r"\end{table}"]
    return "\n".join(out) + "\n"


def long_table(df: pd.DataFrame, caption: str, label: str, align: str | None = None,
               size: str = r"\scriptsize") -> str:
    r"""A ``longtable`` (package ``longtable``): a table too long for one page breaks across
    pages, its header repeated on each, where a ``table`` float would run off the page.

    Args:
        align: Column spec (default: ``r`` for numeric columns, else ``l``), e.g. with a
            ``p{0.45\linewidth}`` column for long text.
        size: Font size command applied to the whole table.
    """
    head, rows = _lines(df)
    out = ["{" + size, rf"\begin{{longtable}}{{{align or _align(df)}}}",
           rf"\caption{{{caption}}}\label{{tab:{label}}} \\",
           r"\toprule", head, r"\midrule", r"\endfirsthead",
           r"\toprule", head, r"\midrule", r"\endhead",
           r"\bottomrule", r"\endfoot",
           *rows, r"\end{longtable}", "}"]
    return "\n".join(out) + "\n"


def _align(df: pd.DataFrame) -> str:
    """``r`` for each numeric column, ``l`` for the others."""
    return "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in df.columns)


def _lines(df: pd.DataFrame, bold: list[tuple[int, int]] | None = None) -> tuple[str, list[str]]:
    """The header line and one line per row (``\\``-terminated); ``bold`` cells in bold."""
    bold_set = set(bold or [])
    head = " & ".join(tex(c) for c in df.columns) + r" \\"
    rows = [" & ".join(rf"\textbf{{{tex(v)}}}" if (i, j) in bold_set else tex(v)
                       for j, v in enumerate(row)) + r" \\"
            for i, row in enumerate(df.itertuples(index=False))]
    return head, rows


def write(text: str, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.tex"
    p.write_text(text)
    return p
