"""A person steers a running study from the dashboard: the study's ``HumanPruner`` asks, the
answer posted with the token decides, and the decision and its reason are stored."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")

import hyperpilot as hp  # noqa: E402
from hyperpilot.pruners import CurveRule, CurveView, Decision, HumanPruner  # noqa: E402
from hyperpilot.storage import Storage  # noqa: E402

from .demo import FID, SPACE, curvy  # noqa: E402
from .server import base, request, running  # noqa: E402


class AlwaysStop(CurveRule):
    """A default rule that proposes to stop at every check."""

    name = "always"
    needs_incumbent = False

    def _decide(self, view: CurveView) -> Any:
        return Decision("stop", "the default rule says stop", self.name, view.budget, 0.01)


def test_a_person_answers_a_running_studys_requests_in_the_dashboard(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    hp.Study(SPACE, FID, "hyperband", seed=5, storage=path, name="hb").run(curvy, n_trials=1)
    errors: list[BaseException] = []

    def study() -> None:
        try:
            pruner = HumanPruner(path, "hb", timeout=60, default=AlwaysStop(), poll=0.05)
            hp.Study(SPACE, FID, "hyperband", seed=5, storage=path, name="hb",
                     pruner=pruner).run(curvy, n_trials=3)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            errors.append(e)

    answers = iter([("continue", "still learning"), ("stop", "flat, stop it")])
    given: dict[int, tuple[str, str]] = {}
    with running([path], allow_actions=True, refresh_s=0.1) as p:
        th = threading.Thread(target=study)
        th.start()
        end = time.monotonic() + 120
        while th.is_alive() and time.monotonic() < end:
            status, s = request(base(p) + "/api/state?study=0")
            assert status == 200
            for q in s["requests"]:
                action, why = next(answers, ("continue", "fine"))
                got = request(base(p) + "/api/answer", {"study": 0, "request_id": q["request_id"],
                                                        "action": action, "reason": why},
                              {"X-HyperPilot-Token": p.token or ""})
                assert got[0] == 200, got
                given[q["trial_id"]] = (action, why)
            time.sleep(0.05)
        th.join(timeout=5)
    assert not th.is_alive() and not errors, errors
    assert len(given) == 2, "two new trials, one check each: two requests"
    st = Storage(path, read_only=True)
    ds = [d for d in st.load_decisions(st.studies()[0]["study_id"]) if d["by"] == "human"]
    st.close()
    assert {d["trial_id"]: (d["action"], d["reason"]) for d in ds} == given
