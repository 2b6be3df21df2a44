"""The report's opening summary: who wins, at which budget, and how sure we are.

At each reported budget the leader is the method with the lowest mean rank over benchmarks and
seeds (``analysis.final_table``); how sure is the paired sign test of the leader against the
runner-up over the benchmark-seed pairs both ran (``analysis.paired``), said in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hyperpilot.bench import analysis


@dataclass(frozen=True)
class Lead:
    """The leader at one budget and its paired comparison with the runner-up."""

    ffe: float
    leader: str
    leader_rank: float
    runner_up: str | None
    runner_rank: float
    n_methods: int
    wins: int
    losses: int
    ties: int
    p: float
    scored: int  # cells with a full-budget result by ``ffe``

    def certainty(self) -> str:
        """The sign test's p-value in words."""
        if self.runner_up is None:
            return "the only method"
        if self.p < 0.01:
            return "a clear lead"
        if self.p < 0.05:
            return "a likely lead (p < 0.05, not < 0.01)"
        return "not distinguishable from chance with these seeds"

    def sentence(self) -> str:
        if not self.scored:
            return f"At {self.ffe:g} FFE no method has a full-budget result yet."
        if self.runner_up is not None and self.leader_rank == self.runner_rank:
            return (f"At {self.ffe:g} FFE no method leads: {self.leader} and {self.runner_up} "
                    f"tie at mean rank {self.leader_rank:.2f}.")
        head = (f"At {self.ffe:g} FFE, {self.leader} ranks first (mean rank "
                f"{self.leader_rank:.2f} of {self.n_methods} methods")
        if self.runner_up is None:
            return head + ")."
        n = self.wins + self.losses + self.ties
        return (head + f"; {self.runner_up} next at {self.runner_rank:.2f}). On the same {n} "
                f"benchmark-seed pairs {self.leader} has the lower regret in {self.wins}, "
                f"{self.runner_up} in {self.losses}, {self.ties} tied: sign test p = "
                f"{self.p:.2g}, {self.certainty()}.")


def leads(df: pd.DataFrame, final: pd.DataFrame, budgets: list[float]) -> list[Lead]:
    """The leader at each budget of ``budgets``.

    Args:
        df: the trials (or compact incumbents) with a ``score`` column, as the report reads them.
        final: ``analysis.final_table(df, budgets)``.
    """
    out = []
    for b in budgets:
        at = final[final["ffe"] == b]
        ranks = at.groupby("method")["mean_rank"].mean().sort_values(kind="stable")
        if ranks.empty:
            continue
        leader = str(ranks.index[0])
        second = str(ranks.index[1]) if len(ranks) > 1 else None
        w = lo = t = 0
        p = 1.0
        if second is not None:
            row = analysis.paired(df, [b], leader, [second]).iloc[0]
            w, lo, t, p = int(row["wins"]), int(row["losses"]), int(row["ties"]), float(row["p"])
        out.append(Lead(b, leader, float(ranks.iloc[0]), second,
                        float(ranks.iloc[1]) if second else float("nan"), len(ranks), w, lo, t, p,
                        int(at["n_scored"].sum())))
    return out


def best_by_benchmark(final: pd.DataFrame, ffe: float) -> dict[str, str]:
    """Per benchmark, the method with the lowest mean rank at ``ffe`` (ties: the first name)."""
    f = final[final["ffe"] == ffe].sort_values(["benchmark", "mean_rank", "method"])
    return {str(b): str(g["method"].iloc[0]) for b, g in f.groupby("benchmark", sort=False)}


def summary_lines(df: pd.DataFrame, final: pd.DataFrame, budgets: list[float]) -> list[str]:
    """Sentences for the top of ``summary.md`` and ``report.html`` (Markdown, no HTML)."""
    found = leads(df, final, budgets)
    lines = [x.sentence() for x in found]
    if found:
        per = best_by_benchmark(final, found[-1].ffe)
        lines.append(f"Best by mean rank on each benchmark at {found[-1].ffe:g} FFE: "
                     + ", ".join(f"{b}: {m}" for b, m in per.items()) + ".")
    seeds = df.groupby("benchmark")["seed"].nunique()
    if len(seeds) and seeds.max() < 5:
        lines.append(f"Only {seeds.max()} seed(s) per benchmark: read every ranking here as "
                     "tentative.")
    return lines
