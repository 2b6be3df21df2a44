"""The paper as a reader sees it: generated abstract findings, and numbers a person can compare."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from hyperpilot.paper import findings
from hyperpilot.paper.latex import num
from hyperpilot.paper.reproduce import Paths, reproduce

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "runs" / "reference" / "full"

# a number standing alone in a cell: not part of a name (lcbench:3945, seed-10015, x1e5)
NUMBER = re.compile(r"(?<![\w.:\-])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")


def significant_digits(token: str) -> int:
    """Significant digits of a printed number (``0.00827`` -> 3, ``42`` -> 2, ``1.5e-5`` -> 2)."""
    mant = token.lstrip("-").split("e")[0]
    digits = mant.replace(".", "").lstrip("0")
    if "." not in mant:
        digits = digits.rstrip("0") or digits  # 1000 has one significant digit
    return len(digits)


def body_tables(main_tex: str) -> list[str]:
    """Names of the generated tables that ``main.tex`` puts in the body (before the appendix)."""
    body = main_tex.split(r"\appendix")[0]
    return re.findall(r"\\generatedtable\{([^}]+)\}", body)


def cells(table_tex: str) -> list[str]:
    """The data cells of a generated booktabs table (rows after ``\\midrule``)."""
    rows = table_tex.split(r"\midrule", 1)[-1].split(r"\bottomrule")[0]
    return [c.strip() for line in rows.splitlines() if "&" in line for c in line.split("&")]


def test_numbers_have_three_significant_digits() -> None:
    assert num(0.008268) == "0.00827"
    assert num(-0.0007483) == "-7.48e-4"
    assert num(5.524e-05) == "5.52e-5"
    assert num(42402) == "42.4k" and num(1_500_000) == "1.5M" and num(999_960.0) == "1M"
    assert num(458.1833) == "458" and num(-152.4967) == "-152" and num(3.0) == "3"
    assert num(120) == "120" and num(float("nan")) == "-" and num("lcbench:34539") == "lcbench:34539"
    assert significant_digits("0.00827") == 3 and significant_digits("1.5e-5") == 2
    assert significant_digits("1000") == 1 and significant_digits("-88.25") == 4


@pytest.fixture(scope="module")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables and findings of the committed full-scale results, built into a temporary paper."""
    assert (FULL / "headline" / "meta.json").exists(), "the full-scale reference is committed"
    tmp = tmp_path_factory.mktemp("paper")
    paths = Paths(ROOT, ROOT / "paper" / "experiments", tmp / "runs", ROOT / "runs" / "reference",
                  tmp / "paper")
    reproduce(paths, "full", run=False)
    return paths.paper / "tables"


def test_no_body_table_cell_has_more_than_three_significant_digits(full_build: Path) -> None:
    names = body_tables((ROOT / "paper" / "main.tex").read_text())
    assert "headline_rank" in names and "headline_final" not in names  # the big grid: appendix
    checked = 0
    for name in names:
        for cell in cells((full_build / f"{name}.tex").read_text()):
            for token in NUMBER.findall(cell):
                assert significant_digits(token) <= 3, f"{name}: {token!r} in {cell!r}"
                checked += 1
    assert checked > 50  # the check saw the tables' numbers


def test_the_incumbents_table_breaks_across_pages(full_build: Path) -> None:
    """A table of every bench experiment's incumbents outgrows a page: as a float it ran off the
    page's foot, so it is a longtable with its header repeated on every page."""
    t = (full_build / "incumbents.tex").read_text()
    assert "\\begin{longtable}" in t and "\\begin{table}" not in t
    head, _, rows = t.partition("\\endfoot")
    assert head.count("experiment & benchmark & method & score & config") == 2  # first, others
    assert rows.count("\\\\") > 40 and "headline100\\_lcbench" in rows


def test_generated_macro_names_are_letters_only(full_build: Path) -> None:
    """A digit ends a LaTeX control sequence (``\\headline100Seeds`` is ``\\headline`` then
    text): experiment names with digits must be spelled out in macro names."""
    names = []
    for t in ("results.tex", "findings.tex", "checklist.tex"):
        names += re.findall(r"\\newcommand\{\\([^}]*)\}", (full_build / t).read_text())
    assert len(names) > 20 and any("OneZeroZero" in n for n in names)
    assert [n for n in names if not n.isalpha()] == []


def _macros(tex: str) -> dict[str, str]:
    return dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}\n", tex))


def _abstract() -> str:
    return (ROOT / "paper" / "main.tex").read_text().split(r"\begin{abstract}")[1].split(
        r"\end{abstract}")[0]


def test_abstract_findings_exist_and_match_the_headline_rank_table(full_build: Path) -> None:
    m = _macros((full_build / "findings.tex").read_text())
    abstract, body = _abstract(), (ROOT / "paper" / "main.tex").read_text().split(
        r"\end{abstract}")[1]
    for k in ("findScale", "findCurrent", "findCurrentGP", "findCurrentStopping", "findRL"):
        assert f"\\{k}{{}}" in abstract, f"the abstract does not state {k}"
        assert k in m and m[k] and "not in this build" not in m[k], k
    for k in ("findHeadline", "findGP", "findStopping"):  # the previous default's grid: the body
        assert f"\\{k}{{}}" in body and m[k] and "not in this build" not in m[k], k
    assert m["findScale"].startswith("All results are at the full scale")
    # the focus method's row of the rank table holds the abstract's numbers, interval included
    rows = {c.split("&")[0].strip().replace(r"\_", "_"): c
            for c in (full_build / "headline_rank.tex").read_text().splitlines() if "&" in c}
    focus = m["findFocus"].replace(r"\_", "_")
    row = rows[focus]
    for k in ("findFocusRankTen", "findFocusRankThirty", "findFocusRankFinal"):
        assert f"{m[k]} [" in row, (k, m[k], row)
    assert f"{m['findFocusRankFinal']} [" in m["findHeadline"]
    assert f"{m['findGPRankFinal']} [" in rows["gp-bo-nostop"].replace(r"\textbf{", "")
    assert re.search(r"saved \d+(\.\d+)?\\% of the training budget", m["findStopping"])


def test_the_abstract_headline_matches_the_joined_grid_table(full_build: Path) -> None:
    """The abstract's headline is the default on all 12 benchmarks at 100 FFE (the two
    headline100 experiments joined): its ranks, the GP's and their paired record are the cells
    of ``h100all_rank``, and the verdict follows them."""
    m = _macros((full_build / "findings.tex").read_text())
    table = (full_build / "h100all_rank.tex").read_text()
    assert "h100all_rank" in body_tables((ROOT / "paper" / "main.tex").read_text())
    rows = {c.split("&")[0].strip(): c.replace(r"\textbf{", "") for c in table.splitlines()
            if "&" in c}
    assert "On all 12 benchmarks at 100~FFE (100 (benchmark, seed) pairs" in m["findCurrent"]
    ours, gp = rows["transfer"], rows["gp-bo"]
    intervals = re.findall(r"\d[\d.]* \[[^]]+\]", m["findCurrent"])
    assert len(intervals) == 3 and all(i in ours for i in intervals)
    gp_intervals = re.findall(r"\d[\d.]* \[[^]]+\]", m["findCurrentGP"])
    assert len(gp_intervals) == 3 and all(i in gp for i in gp_intervals)
    assert f"{m['findCurrentRankFinal']} [" in ours.split("&")[3]
    assert f"{m['findCurrentGPRankFinal']} [" in gp.split("&")[3]
    assert f"{m['findCurrentWinsFinal']}/{m['findCurrentLossesFinal']}/" in ours.split("&")[-1]
    records = re.findall(r"(\d+)/(\d+)/\d+ \(p = ([\d.e-]+)\)", ours)
    said = re.findall(r"(\d+)/(\d+) \(p = ([\d.e-]+)\)", m["findCurrentGP"])
    assert said == records and len(records) == 3
    # first at every budget <=> every budget's best (bold) cell is in our row
    ours_raw = next(c for c in table.splitlines() if c.startswith("transfer &"))
    assert ("ranks first at every budget" in m["findCurrent"]) == (
        ours_raw.split("&")[1:4] == [c for c in ours_raw.split("&")[1:4] if r"\textbf{" in c])
    assert re.search(r"saved \d+(\.\d+)?\\% of the training budget that "
                     r"\\texttt\{hyperpilot@transfer\}", m["findCurrentStopping"])


@pytest.mark.parametrize(("macro", "table"), [("findTransfer", "transfer_rank"),
                                              ("findTransferLong", "h100_rank"),
                                              ("findSynthLong", "h100s_rank")])
def test_the_transfer_findings_match_their_rank_tables(full_build: Path, macro: str,
                                                       table: str) -> None:
    m = _macros((full_build / "findings.tex").read_text())
    where = _abstract() if macro == "findTransfer" else (ROOT / "paper" / "main.tex").read_text()
    assert f"\\{macro}{{}}" in where
    rows = {c.split("&")[0].strip(): c.replace(r"\textbf{", "")
            for c in (full_build / f"{table}.tex").read_text().splitlines() if "&" in c}
    ours = rows["transfer"]
    assert f"{m[f'{macro}RankFinal']} [" in ours
    # every interval in the sentence is a cell of the table: ours, the GP's and mtgp's
    intervals = re.findall(r"\d[\d.]* \[[^]]+\]", m[macro])
    cited = [rows["transfer"], rows["gp-bo"]]
    header = next(c for c in (full_build / f"{table}.tex").read_text().splitlines() if "&" in c)
    n_at = header.count("rank @")  # the table's budgets: 10 and 30 FFE, or 10, 33.3 and 100
    assert n_at == (2 if macro == "findTransfer" else 3)
    assert len(intervals) == n_at * len(cited)
    assert all(any(i in row for row in cited) for i in intervals)
    assert f"{m[f'{macro}WinsFinal']}/" in ours.split("&")[-1]
    if "mtgp" in rows:  # the multi-task GP's ranks: its own sentence, cells of its row
        mt = re.findall(r"\d[\d.]* \[[^]]+\]", m[f"{macro}MTGP"])
        assert len(mt) == n_at and all(i in rows["mtgp"] for i in mt)
    # the verdict follows the table: ahead in mean rank and in wins at every budget
    rank = {k: [float(x) for x in re.findall(r"(\d[\d.]*) \[", rows[k])] for k in ("transfer",
                                                                                  "gp-bo")}
    records = [(int(w), int(lo), float(p)) for w, lo, p in
               re.findall(r"(\d+)/(\d+)/\d+ \(p = ([\d.e-]+)\)", ours)]
    assert len(rank["transfer"]) == len(rank["gp-bo"]) == len(records) == n_at
    ahead = [a < b and w > lo for a, b, (w, lo, _) in
             zip(rank["transfer"], rank["gp-bo"], records, strict=True)]
    significant = [a and p < 0.05 for a, (*_, p) in zip(ahead, records, strict=True)]
    assert (" beats the GP" in m[macro]) == all(significant)
    assert (" leads the GP (" in m[macro]) == (all(ahead) and not all(significant))
    assert (" leads the GP at " in m[macro]) == (any(ahead) and not all(ahead))
    assert (" does not beat the GP" in m[macro]) == (not any(ahead))
    assert ("not significantly" in m[macro]) == (any(ahead) and not any(significant))


def test_the_lead_verdict_says_where_the_lead_is() -> None:
    at = [10.0, 100 / 3, 100.0]
    assert findings.lead_verdict(at, [], []) == "does not beat the GP"
    assert findings.lead_verdict(at, at, at) == "beats the GP"
    assert findings.lead_verdict(at, at, []) == "leads the GP (not significantly)"
    assert findings.lead_verdict(at, at, [10.0]) == "leads the GP (significantly at 10~FFE)"
    assert findings.lead_verdict(at, at[:2], []) == (
        "leads the GP at 10 and 33.3~FFE, not at 100~FFE (not significantly)")


@pytest.mark.parametrize(("scale", "start"), [
    ("smoke", "The results in this build are at the smoke scale"),
    ("full", "All results are at the full scale"),
    ("mixed", "The results in this build mix scales")])
def test_the_scale_sentence_has_one_wording_per_scale(scale: str, start: str) -> None:
    text = findings.scale_sentence(scale)
    assert text.startswith(start)
    assert ("needs the full scale" in text) == (scale == "smoke")


def test_the_rl_sentence_adds_the_tuned_value_where_a_preset_has_one(tmp_path: Path) -> None:
    rows = [{"env": "Acrobot-v1", "method": m, "test_mean": v, "test_ci_low": v - 5,
             "test_ci_high": v + 5} for m, v in (("hyperpilot:race", -80.25), ("random", -85.5))]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    found = findings.rl_findings(tmp_path)
    text = found["findRLDetail"]
    assert "on Acrobot-v1, \\texttt{hyperpilot:race} -80.2 [-85.2, -75.2]; random search -85.5" in text
    assert "tuned on" not in text
    assert found["findRL"] == (
        "On RL, the best HyperPilot variant's mean test return (95\\% interval) is at least random "
        "search's on every task: on Acrobot-v1, \\texttt{hyperpilot:race} -80.2 [-85.2, -75.2] "
        "against -85.5 [-90.5, -80.5].")
    rows += [{"env": "CartPole-v1", "method": m, "test_mean": v, "test_ci_low": v - 20,
              "test_ci_high": v + 10, "test_auc_mean": a, "test_auc_ci_low": a - 15,
              "test_auc_ci_high": a + 15}
             for m, v, a in (("hyperpilot:race", 441.0, 439.0), ("random", 487.0, 414.0))]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    found = findings.rl_findings(tmp_path)
    text = found["findRLDetail"]
    cartpole = text.split("on CartPole-v1")[1]
    assert "\\texttt{hyperpilot:race} 441 [421, 451]; random search 487 [467, 497]" in cartpole
    assert ("mean return during training: \\texttt{hyperpilot:race} 439 [424, 454]; random "
            "search 414 [399, 429])") in cartpole
    assert "during training" not in text.split("on CartPole-v1")[0]
    # behind on CartPole (441 < 487); the intervals [421, 451] and [467, 497] do not overlap
    assert found["findRL"].startswith("On RL, the best HyperPilot variant's mean test return (95\\% "
                                      "interval) is below random search's on 1 of 2 tasks: on")


def test_the_joined_grid_needs_both_parts_at_one_budget(tmp_path: Path) -> None:
    """Without one of its two experiments a build has no joined grid (the abstract says so);
    with parts at different budgets the FFE points would not compare, so it refuses."""
    import shutil

    from hyperpilot.paper import current
    from hyperpilot.paper.checklist import Source
    from hyperpilot.paper.experiments import load_experiments

    exps = {e.name: e for e in load_experiments(ROOT / "paper" / "experiments", "full",
                                                list(current.PARTS))}
    lc, syn = (Source(exps[n], FULL / n, "reference") for n in current.PARTS)
    assert current.join([lc]) is None and current.write([lc], tmp_path) == {}
    j = current.join([syn, lc])
    assert j is not None and j.methods[:2] == ["gp-bo", "hyperpilot@transfer"]
    assert j.inc.groupby(["benchmark", "seed"]).ngroups >= 100  # 90 LCBench + 10 synthetic
    other = tmp_path / "synth"
    shutil.copytree(FULL / current.PARTS[1], other)
    cfg = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**cfg, "budget": 30}))
    with pytest.raises(ValueError, match="different budgets"):
        current.join([lc, Source(exps[current.PARTS[1]], other, "reference")])


def test_the_rl_scope_names_the_tasks_in_the_build_and_those_missing() -> None:
    """The limitations' clause follows the summary: its tasks and their kinds, the most tuning
    seeds any method has, and which task of the full grid the build lacks."""
    rows = [{"env": e, "method": m, "tuning_seeds_tested": n}
            for e, n in (("Acrobot-v1", 2), ("CartPole-v1", 3)) for m in ("hyperpilot", "random")]
    text = findings.rl_scope(pd.DataFrame(rows))
    assert text == ("\\texttt{rl\\_tuning} covers 2 tasks (Acrobot-v1 and CartPole-v1; "
                    "classic-control) with one algorithm and at most 3 tuning seeds per method "
                    "(the table's second column), too few to rank tuners in general; "
                    "LunarLander-v3 is not in this build")
    rows += [{"env": "LunarLander-v3", "method": "random", "tuning_seeds_tested": 1}]
    text = findings.rl_scope(pd.DataFrame(rows))
    assert "covers 3 tasks (Acrobot-v1, CartPole-v1 and LunarLander-v3; classic-control and Box2D)" in text
    assert "not in this build" not in text


def test_the_rl_verdict_names_a_task_with_fewer_tuning_seeds(tmp_path: Path) -> None:
    rows = [{"env": e, "method": m, "test_mean": v, "test_ci_low": v - 5, "test_ci_high": v + 5,
             "tuning_seeds_tested": n}
            for e, n in (("Acrobot-v1", 3), ("LunarLander-v3", 1))
            for m, v in (("hyperpilot:race", 100.0), ("random", 50.0))]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    text = findings.rl_findings(tmp_path)["findRL"]
    assert "on LunarLander-v3 (1 tuning seed), \\texttt{hyperpilot:race}" in text
    assert "on Acrobot-v1, \\texttt{hyperpilot:race}" in text
