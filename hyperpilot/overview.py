"""What a person reads about a study: the one wording for budgets, failures and values.

``hyperpilot run`` (its closing summary), ``hyperpilot show``, ``bench run`` and ``bench report``
all print budgets through :func:`budget_text` and failure reasons through :func:`short_reason`,
so the same study reads the same everywhere.

**Budget overshoot.** A study asks for new trials while the budget committed so far (finished
trials plus running ones) is below the limit; a trial asked just before the limit runs to its
end. The budget used can therefore pass the limit by at most one batch of trials (one trial per
worker when asynchronous): ``--budget 2`` on Hyperband can end at 2.67 FFE. Nothing is cut
short, so every trial's value stays comparable; the overshoot is reported, never hidden.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hyperpilot.selection import Incumbent, IncumbentRule
from hyperpilot.trial import Result, Status, spent

OVERSHOOT_NOTE = "trials asked before the limit was reached ran to their end"
"""Why a budget can be passed; printed after every overshoot (see the module docstring)."""


def budget_text(used: float, limit: float | None) -> str:
    """``"2.67 of 2 FFE (+0.67 past the limit: ...)"``, or ``"1.95 of 2 FFE"``, or ``"1.95 FFE"``.

    Args:
        used: full-fidelity equivalents spent (``Study.budget_used``, or a cell's last ``ffe``).
        limit: the budget the study or bench was given (None when it ran to a trial count).
    """
    if limit is None:
        return f"{used:.2f} FFE"
    over = used - limit
    if over <= 1e-9:
        return f"{used:.2f} of {limit:g} FFE"
    return f"{used:.2f} of {limit:g} FFE (+{over:.2f} past the limit: {OVERSHOOT_NOTE})"


def budget_range_text(used: Sequence[float], limit: float) -> str:
    """The budget line of a bench: ``"FFE used per cell 2.00-2.67 of 2 FFE (+0.67 past ...)"``."""
    lo, hi = min(used), max(used)
    head = f"FFE used per cell {lo:.2f}" + (f"-{hi:.2f}" if hi - lo > 5e-3 else "")
    return head + budget_text(hi, limit)[len(f"{hi:.2f}"):]


def short_reason(reason: str | None, limit: int = 200) -> str:
    """One line for a failure: the exception type and the end of its message.

    ``reason`` is what the study stored: ``"ValueError: message\\n<traceback>"`` from a worker,
    a bare traceback, or a plain sentence. The traceback is dropped (the type and message are
    its last line); a long message keeps its type and its end, where the useful part usually is.
    """
    text = (reason or "").strip()
    if not text:
        return "no reason recorded"
    head, sep, tail = text.partition("Traceback (most recent call last):")
    if not head.strip() and sep:  # a bare traceback: its last line is "Type: message"
        lines = [x for x in tail.strip().splitlines() if x.strip()]
        head = lines[-1] if lines else "Traceback"
    one = " ".join(head.split())
    if len(one) <= limit:
        return one
    m = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)?): ", one)
    kind = m.group(1) + ": " if m else ""
    tail = one[len(one) - (limit - len(kind) - 3):]
    if " " in tail and not one[len(one) - len(tail) - 1].isspace():
        tail = tail.split(" ", 1)[1]  # start at a word
    return kind + "..." + tail


def failure_counts(results: Sequence[Result], top: int = 3) -> list[tuple[str, int]]:
    """The ``top`` most frequent failure reasons (``short_reason``) with their counts."""
    c = Counter(short_reason(r.reason) for r in results if r.status == Status.FAILED)
    return c.most_common(top)


def value_view(problem: dict[str, Any] | None) -> tuple[float, str]:
    """``(sign, label)`` to show a study's values as its user knows them.

    SB3 workloads store the negated mean return (studies minimize); people read returns, and
    ``test-incumbent`` prints them, so they are shown with sign -1 as ``"return"``.
    """
    if problem and problem.get("workload") == "sb3":
        return -1.0, "return"
    return 1.0, "value"


def study_lines(results: Sequence[Result], direction: str, used: float, limit: float | None,
                problem: dict[str, Any] | None = None, optimum: float | None = None,
                rule: IncumbentRule | None = None,
                best: Incumbent | None = None) -> list[tuple[str, str]]:
    """``(label, text)`` rows: trials, configs, budget, fallbacks, failures, incumbent.

    Args:
        results: the finished trials, in the order they were told.
        direction: the study's direction (``"minimize"`` or ``"maximize"``).
        used: full-fidelity equivalents spent; ``limit``: the study's budget, if it had one.
        problem: the stored problem spec (picks how values are shown, ``value_view``).
        optimum: the objective's optimum, for the regret line.
        rule: the incumbent rule (``Study.method.incumbent_rule``; None: the best single run).
        best: the incumbent chosen under ``rule`` (``Study.incumbent()``, or
            ``selection.choose``: the ``"model"`` rule needs the study's space), None if none.
    """
    n_fail = sum(r.status == Status.FAILED for r in results)
    n_stop = sum(r.status == Status.STOPPED for r in results)
    rows = [("trials", f"{len(results)} ({n_fail} failed, {n_stop} stopped early)"),
            ("configs", str(len({r.trial.config_id for r in results}))),
            ("budget used", budget_text(used, limit)),
            ("model fallbacks", str(sum(bool(r.trial.info.get("fallback")) for r in results)))]
    for reason, n in failure_counts(results):
        rows.append(("failure", f"{n} x {reason}"))
    extra = [r for r in results if r.trial.seed_index > 0]
    if extra:
        share = sum(spent(r) for r in extra) / max(sum(spent(r) for r in results), 1e-300)
        rows.append(("extra seeds", f"{len(extra)} race runs, {share:.1%} of the budget used"))
    rule = rule or IncumbentRule()
    sign, label = value_view(problem)
    rows.append(("incumbent rule", rule.describe()))
    if best is None:
        rows.append((f"best {label}", "- (no complete trial yet)"))
        return rows
    if rule.statistic == "best-run":
        rows.append((f"best {label}", f"{sign * best.value:.6g} at budget {best.budget:g} "
                                       f"(trial {best.trial_id})"))
    else:
        seeds = ", ".join(f"{sign * v:.4g}" for v in best.values)
        rows.append((f"best {label}", f"{sign * best.value:.6g} at budget {best.budget:g}: mean "
                                       f"of {best.n_seeds} seed(s), sd {best.std:.4g} ({seeds})"))
    if optimum is not None:
        rows.append(("regret", f"{best.value - optimum:.6g} (optimum {optimum:.6g})"))
    rows.append(("best config", json.dumps(best.config, default=str)))
    return rows


def format_rows(rows: Sequence[tuple[str, str]], indent: str = "  ") -> str:
    """Aligned ``label  text`` lines."""
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{indent}{k:<{w}}  {v}" for k, v in rows)
