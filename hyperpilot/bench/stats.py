"""Statistics for the report, from scipy (no hand-rolled resampling loops).

All functions take "smaller is better" scores (regret, or incumbent loss where no optimum is known).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% (``scipy.stats.trim_mean(x, 0.25)``)."""
    return np.asarray(stats.trim_mean(np.asarray(x, dtype=float), 0.25, axis=axis))


def bootstrap_ci(x: np.ndarray, rng: np.random.Generator, statistic: str = "iqm",
                 level: float = 0.95, n_resamples: int = 2000) -> tuple[float, float]:
    """Percentile bootstrap CI of ``statistic`` (``"iqm"``, ``"mean"`` or ``"median"``) of a
    1-d sample, via ``scipy.stats.bootstrap``; ``(x, x)`` for a constant or 1-element sample."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan, np.nan)
    if x.size == 1 or np.ptp(x) == 0:
        return (float(x[0]), float(x[0]))
    fn = {"iqm": iqm, "mean": np.mean, "median": np.median}[statistic]
    res = stats.bootstrap((x,), fn, n_resamples=n_resamples, confidence_level=level,
                          method="percentile", vectorized=True, rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def rank_methods(scores: pd.DataFrame, by: list[str], method: str = "method",
                 score: str = "score") -> pd.Series:
    """Rank of each row's method among the methods in the same ``by`` group (1 = best).

    Ties share the average rank; a missing score (no incumbent yet) ranks as worst
    (``scipy.stats.rankdata`` on the scores with NaN as +inf).
    """
    filled = scores[score].astype(float).fillna(np.inf)
    return filled.groupby([scores[b] for b in by]).transform(
        lambda s: pd.Series(stats.rankdata(s.to_numpy(), method="average"), index=s.index))


def pair_outcomes(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Per pair, 1.0 where ``a``'s score is lower, 0.0 where higher and 0.5 on a tie.

    Args:
        a, b: Scores of the two methods, aligned pair by pair (smaller is better). A missing
            score (NaN: no incumbent yet) is worst, as in ``rank_methods``; scores equal to
            ``rtol`` (relative) tie, and so do two missing ones.

    Returns:
        ``n`` floats; their mean is ``a``'s share of the pairs (ties count half).
    """
    a = np.nan_to_num(np.asarray(a, dtype=float), nan=np.inf)
    b = np.nan_to_num(np.asarray(b, dtype=float), nan=np.inf)
    tie = np.isclose(a, b, rtol=rtol, atol=0.0)
    return np.where(tie, 0.5, (a < b).astype(float))


def paired_sign_test(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> dict[str, float]:
    """Paired comparison of two methods' scores on the same (benchmark, seed) pairs.

    Args:
        a, b: As in ``pair_outcomes``.

    Returns:
        ``wins`` (``a < b``), ``losses``, ``ties`` and the two-sided sign-test ``p`` over the
        decided pairs (``scipy.stats.binomtest`` with probability 1/2; 1.0 with none decided).
    """
    out = pair_outcomes(a, b, rtol)
    wins, losses = int((out == 1.0).sum()), int((out == 0.0).sum())
    n = wins + losses
    p = stats.binomtest(wins, n, 0.5).pvalue if n else 1.0
    return {"wins": wins, "losses": losses, "ties": int((out == 0.5).sum()), "p": float(p)}


def first_ffe_reaching(ffe: np.ndarray, score: np.ndarray, target: float) -> float:
    """The first FFE at which ``score <= target`` (``inf`` if never); arrays in time order."""
    hit = np.flatnonzero(np.asarray(score, dtype=float) <= target + 1e-12)
    return float(np.asarray(ffe)[hit[0]]) if hit.size else float("inf")


def speedup_to_target(trials: pd.DataFrame, baseline: str = "random",
                      score: str = "score") -> pd.DataFrame:
    """FFE each method needs to reach the baseline's median final score, and the speed-up.

    Args:
        trials: rows with ``method, benchmark, seed, ffe, <score>`` in each cell's time order.
        baseline: the reference method (random search).

    Returns:
        One row per (benchmark, method): ``target`` (the baseline's median over seeds of its final
        score), ``ffe_to_target`` (the lower median over seeds of the first FFE reaching it; inf
        when at least half the seeds never do), ``speedup`` = baseline's ffe_to_target / the
        method's (> 1 is faster; 0 when the method never gets there, NaN when neither does), and
        ``reached`` (fraction of seeds that got there).
    """
    out = []
    for bench, g in trials.groupby("benchmark", sort=False):
        base = g[g["method"] == baseline]
        if base.empty:
            continue
        target = float(np.median(base.groupby("seed")[score].last().astype(float)))
        per = {}
        for m, gm in g.groupby("method", sort=False):
            hits = [first_ffe_reaching(c["ffe"].to_numpy(), c[score].to_numpy(), target)
                    for _, c in gm.groupby("seed")]
            med = float(np.quantile(hits, 0.5, method="inverted_cdf"))  # lower median
            per[m] = (med, float(np.mean(np.isfinite(hits))))
        base_f = per[baseline][0]
        for m, (f, reached) in per.items():
            ratio = base_f / f if np.isfinite(f) else (np.nan if not np.isfinite(base_f) else 0.0)
            out.append({"benchmark": bench, "method": m, "target": target, "ffe_to_target": f,
                        "speedup": ratio, "reached": reached})
    return pd.DataFrame(out, columns=["benchmark", "method", "target", "ffe_to_target",
                                      "speedup", "reached"])
