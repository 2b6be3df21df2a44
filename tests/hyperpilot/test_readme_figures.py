"""The README's hand-written figures against the committed references they come from.

The README's "At a glance" table and its 100-FFE paragraphs quote figures from
``runs/reference/full/headline100_lcbench``; a grid that grows (a seed joined) must update them,
and this test says which sentence went stale instead of letting it drift.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "paper" / "scripts"))

import tournament_summary as summary  # noqa: E402

HEADLINE100 = ROOT / "runs" / "reference" / "full" / "headline100_lcbench"
METHODS = ["gp-bo", "hyperpilot@transfer", "gp-bo:global", "hyperpilot@transfer:global",
           "hyperpilot@ensemble", "hyperpilot-nostop@ensemble", "hyperpilot-mcdropout",
           "gp-bo-nostop", "hyperband", "random", "optuna-tpe-hyperband", "optuna-tpe-median",
           "dehb", "smac-mf"]
BUDGETS = [10.0, 100.0 / 3.0, 100.0]


def _glance_row(question: str) -> str:
    """The at-a-glance table's row that starts with ``question``."""
    text = (ROOT / "README.md").read_text()
    rows = [r for r in text.splitlines() if r.startswith(f"| {question}")]
    assert len(rows) == 1, f"README has {len(rows)} at-a-glance rows starting {question!r}"
    return rows[0]


@dataclass(frozen=True)
class Headline100:
    """The figures the README quotes: pairs, (wins, losses, p) and (transfer, GP) mean ranks at
    each of ``BUDGETS``, and every method's mean rank at the last budget."""

    pairs: int
    counts: list[tuple[int, int, float]]
    ranks: list[tuple[float, float]]
    last: dict[str, float]


@pytest.fixture(scope="module")
def headline100() -> Headline100:
    """Pairs, paired counts and mean ranks of ``transfer`` against ``gp-bo`` at 10 / 33.3 /
    100 FFE, from the committed reference."""
    if not (HEADLINE100 / "meta.json").exists():
        pytest.fail(f"{HEADLINE100} is committed with the repository")
    from hyperpilot.bench import analysis
    from hyperpilot.bench.stats import paired_sign_test

    df = analysis.select(summary.load_sources([HEADLINE100]), METHODS, complete=True)
    at = summary.scored(df, BUDGETS)
    counts, ranks = [], []
    for b in BUDGETS:
        g = at[at["ffe"] == b]
        piv = g.pivot_table(index=["benchmark", "seed"], columns="method", values="score")
        t = paired_sign_test(piv["hyperpilot@transfer"].to_numpy(), piv["gp-bo"].to_numpy())
        counts.append((int(t["wins"]), int(t["losses"]), float(t["p"])))
        mean = g.groupby("method")["rank"].mean()
        ranks.append((float(mean["hyperpilot@transfer"]), float(mean["gp-bo"])))
    last = at[at["ffe"] == BUDGETS[-1]].groupby("method")["rank"].mean()
    pairs = at[["benchmark", "seed"]].drop_duplicates().shape[0]
    return Headline100(pairs, counts, ranks, {str(k): float(v) for k, v in last.items()})


def test_the_glance_row_on_the_default_network_quotes_the_reference(
        headline100: Headline100) -> None:
    """Pairs, wins / losses, p and mean ranks at each budget, as the reference gives them."""
    row = _glance_row("Does the default network beat the GP")
    dev = row[row.index("On the development tasks"):]
    assert f"({headline100.pairs} pairs so far)" in dev
    for (w, lo, p), (r_t, r_gp) in zip(headline100.counts, headline100.ranks, strict=True):
        assert f"{w} / {lo}, p = {p:.2g}" in dev, f"{w} / {lo} (p = {p:.2g}) not in {dev!r}"
        for r in (r_t, r_gp):
            assert f"{r:.2f}" in dev, f"mean rank {r:.2f} not in {dev!r}"


def test_the_glance_row_on_external_tuners_quotes_the_reference(
        headline100: Headline100) -> None:
    """The pair count and the 100-FFE mean ranks of SMAC3, Hyperband, DEHB and random search."""
    row = _glance_row("Against external tuners")
    assert f"same {headline100.pairs} pairs" in row
    last = headline100.last
    for name, method in [("facade", "smac-mf"), ("Hyperband", "hyperband"), ("DEHB", "dehb"),
                         ("random search", "random")]:
        assert f"{name} ({last[method]:.2f})" in row, f"{method}: {last[method]:.2f} not in row"
    tpe = sorted(last[m] for m in ("optuna-tpe-hyperband", "optuna-tpe-median"))
    assert f"Optuna TPE ({tpe[0]:.2f}-{tpe[1]:.2f})" in row
