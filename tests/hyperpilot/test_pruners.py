"""The pluggable Pruner interface: the curve rule, the median rule, a person, a language model;
every decision and its reason in the store and in ``show``."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hyperpilot as hp
from hyperpilot.pruners import (
    CurveRule,
    CurveView,
    HumanPruner,
    LLMPruner,
    MedianRule,
    Peer,
    ScriptedModel,
    answer,
    make_pruner,
    parse_reply,
)
from hyperpilot.pruners.digest import QUESTION, digest, fields
from hyperpilot.storage import Storage
from tests.hyperpilot.objectives import reporting_curve

SPACE = hp.SearchSpace({"x": hp.Float(0, 1)})
FID = hp.Fidelity(1, 27, 3)



def _study(tmp_path: Path, pruner: Any = None, method: str = "hyperband") -> hp.Study:
    return hp.Study(SPACE, FID, method, seed=3, storage=tmp_path / "s.sqlite", pruner=pruner)


def _view(curve: list[tuple[float, float]], peers: tuple[Peer, ...] = (),
          incumbent: float | None = 0.1, run: str = "trial 9") -> CurveView:
    return CurveView(run, tuple(curve), 27.0, "minimize", incumbent, peers, {"x": 0.5},
                     trial_id=9)


def test_the_curve_rule_decides_in_a_study_and_every_decision_is_stored(tmp_path: Path) -> None:
    s = _study(tmp_path, method="hyperband:stop")
    s.run(reporting_curve, budget=6)
    stopped = [r for r in s.results if r.status.value == "stopped"]
    assert stopped, "the rule should stop some hopeless runs"
    ds = s.storage.load_decisions(s.study_id)
    assert ds and {d["by"] for d in ds} == {"curve"}
    stops = {d["trial_id"]: d for d in ds if d["action"] == "stop"}
    assert set(stops) == {r.trial.trial_id for r in stopped}
    for r in stopped:
        assert stops[r.trial.trial_id]["budget"] == r.curve[-1][0]
        assert "P(final beats the incumbent" in stops[r.trial.trial_id]["reason"]


def test_the_median_rule(tmp_path: Path) -> None:
    peers = tuple(Peer(f"trial {i}", ((1.0, 1.0 + i), (3.0, 0.5 + i))) for i in range(3))
    rule = MedianRule(n_startup_trials=3)
    d = rule.decide(_view([(1.0, 5.0), (3.0, 4.0)], peers))
    assert d is not None and d.stop and "worse than the median 1.5" in d.reason
    d = rule.decide(_view([(1.0, 0.2), (3.0, 0.1)], peers))
    assert d is not None and not d.stop
    assert MedianRule(n_startup_trials=4).decide(_view([(1.0, 5.0)], peers)) is None
    s = _study(tmp_path, pruner=MedianRule(n_startup_trials=2))  # needs no incumbent
    s.run(reporting_curve, budget=5)
    ds = s.storage.load_decisions(s.study_id)
    assert {d["by"] for d in ds} == {"median"} and any(d["action"] == "stop" for d in ds)


def test_a_view_no_pruner_could_judge_is_refused() -> None:
    with pytest.raises(ValueError, match="increasing"):
        CurveRule().decide(_view([(3.0, 1.0), (1.0, 1.0)]))
    with pytest.raises(ValueError, match="at least one"):
        CurveRule().decide(_view([]))


def test_the_digest_answers_the_design_questions() -> None:
    peers = (Peer("trial 1", ((1.0, 3.0), (9.0, 0.5)), True), Peer("trial 2", ((1.0, 3.0), (9.0, 2.9))))
    text = digest(_view([(1.0, 3.0), (3.0, 2.95), (9.0, 2.0)], peers), 0.01, "stop")
    assert "Fastest learners among 2 finished runs: trial 1" in text
    assert "it started learning at budget 9" in text and QUESTION in text
    f = fields(text)
    assert f["prob_beats_incumbent"] == "0.01" and f["peers_better_here"] == "1/2"
    assert f["default_rule"] == "stop" and f["budget"] == "9"


def test_replies_are_parsed() -> None:
    assert parse_reply("STOP: it plateaued") == ("stop", "it plateaued")
    assert parse_reply("continue - still learning\nmore") == ("continue", "still learning")
    assert parse_reply("Promote.") == ("promote", "")
    assert parse_reply("I think we should stop") is None and parse_reply("") is None


class FakeModel:
    """A stand-in for a language model: records each prompt, answers from a script."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply, self.prompts = reply, []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


class _AlwaysStop(CurveRule):
    name = "always"

    def _decide(self, view: CurveView) -> Any:
        from hyperpilot.pruners import Decision

        return Decision("stop", "the default says stop", self.name, view.budget, 0.01)


def test_an_llm_pruner_with_a_fake_model(tmp_path: Path) -> None:
    model = FakeModel("CONTINUE: the curve still falls steeply")
    p = LLMPruner(model, default=_AlwaysStop())
    d = p.decide(_view([(1.0, 2.0), (3.0, 1.0)]))
    assert d is not None and d.action == "continue" and d.by == "llm"
    assert d.reason == "the curve still falls steeply" and "Should this run stop now?" in model.prompts[0]
    for bad in (FakeModel(RuntimeError("offline")), FakeModel("maybe?")):
        p = LLMPruner(bad, default=_AlwaysStop())
        d = p.decide(_view([(1.0, 2.0), (3.0, 1.0)]))
        assert d is not None and d.stop and d.by == "always (llm fallback)" and p.failures == 1
    # in a study: every question reaches the model, every answer reaches the store
    model = FakeModel("STOP: a fake model's verdict")
    s = _study(tmp_path, pruner=LLMPruner(model, ask="every"), method="hyperband:stop")
    s.run(reporting_curve, budget=5)
    ds = s.storage.load_decisions(s.study_id)
    assert model.prompts and any(d["by"] == "llm" and d["reason"] == "a fake model's verdict"
                                 for d in ds)


def test_the_scripted_reference_model() -> None:
    m = ScriptedModel()
    peers = tuple(Peer(f"trial {i}", ((1.0, 0.1), (9.0, 0.05))) for i in range(3))
    stop = m(digest(_view([(1.0, 3.0), (9.0, 2.0)], peers), 0.01, "stop"))
    assert stop.startswith("STOP:") and "3 of 3" in stop
    assert m(digest(_view([(1.0, 3.0), (9.0, 2.0)], peers), 0.3, "stop")).startswith("CONTINUE:")
    assert m(digest(_view([(1.0, 3.0), (9.0, 2.0)], ()), 0.01, "stop")).startswith("CONTINUE:")
    assert isinstance(make_pruner("llm-scripted"), LLMPruner)


def test_a_person_answers_and_a_silence_times_out(tmp_path: Path) -> None:
    s = _study(tmp_path)
    store = tmp_path / "s.sqlite"
    p = HumanPruner(store, timeout=20, default=_AlwaysStop(), poll=0.05)

    def person() -> None:
        st = Storage(store, read_only=True)
        for _ in range(200):
            open_ = st.requests(open_only=True)
            if open_:
                assert "Should this run stop now?" in open_[0]["digest"]
                assert answer(store, open_[0]["request_id"], "promote", "looks promising")
                return
            time.sleep(0.05)

    t = threading.Thread(target=person)
    t.start()
    d = p.decide(_view([(1.0, 2.0), (3.0, 1.0)]))
    t.join()
    assert d is not None and (d.action, d.by, d.reason) == ("promote", "human", "looks promising")
    assert p.decide(_view([(1.0, 2.0), (3.0, 1.0), (9.0, 0.9)])) is None  # promoted: never asked
    quick = HumanPruner(store, timeout=0.1, default=_AlwaysStop(), poll=0.05)
    d = quick.decide(_view([(1.0, 2.0)], run="trial 4"))
    assert d is not None and d.stop and d.by == "always (human timeout)"
    reqs = Storage(store, read_only=True).requests(s.study_id)
    assert [r["answer"] for r in reqs] == ["promote", "timeout"]
    assert not answer(store, reqs[0]["request_id"], "stop")  # already answered
    assert not answer(store, 999, "stop")  # a forged id
    with pytest.raises(ValueError, match="one of"):
        answer(store, reqs[0]["request_id"], "delete")


def test_show_lists_decisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hyperpilot.cli import main

    s = _study(tmp_path, method="hyperband:stop")
    s.run(reporting_curve, budget=6)
    s.storage.close()
    assert main(["show", str(tmp_path / "s.sqlite"), "--trials", "0"]) == 0
    out = capsys.readouterr().out
    assert "decisions: curve continue" in out and "stop by curve: P(final beats" in out


def test_make_pruner_refuses_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="unknown pruner"):
        make_pruner("oracle")
    with pytest.raises(ValueError, match="storage"):
        make_pruner("human")


def test_a_rule_on_a_study_trained_model_names_each_parametric_answer() -> None:
    """``"gain"`` and ``"bnn"`` rules say when the parametric model answered (no study model
    yet, or too few curves in it); the parametric rule never does."""
    import numpy as np

    from fidelity import GainCurveModel
    from hyperpilot.pruners import CurveView
    from hyperpilot.pruners.curve import FALLBACK_NOTE, CurveRule
    from hyperpilot.stopping import StopRule

    t = np.arange(1.0, 11.0)
    curve = tuple((float(b), 0.1) for b in t[:5])
    finished = [(t, a + 0.1 * (1 - 1 / t)) for a in np.linspace(0, 1, 30)]

    def reason(rule: StopRule, model: object) -> str:
        view = CurveView("r", curve, 10.0, "maximize", 0.9, model=model)
        d = CurveRule(rule).decide(view)
        assert d is not None
        return d.reason

    gain = StopRule(model="gain", min_fraction=0.0, growth=1.0)
    assert reason(gain, None).endswith(FALLBACK_NOTE)  # warm-up: no study model yet
    assert reason(gain, GainCurveModel().fit(finished[:3])).endswith(FALLBACK_NOTE)
    assert not reason(gain, GainCurveModel().fit(finished)).endswith(FALLBACK_NOTE)
    assert not reason(StopRule(min_fraction=0.0, growth=1.0), None).endswith(FALLBACK_NOTE)
