"""The ``local`` option: late in a study a share of each batch in a box around the incumbent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from hyperpilot.methods import make_method, parse_method
from hyperpilot.methods.local import LocalShare, incumbent_row
from hyperpilot.study import Study
from hyperpilot.trial import Fidelity
from tests.hyperpilot.objectives import SPACE, branin_mf

FIDELITY = Fidelity(1, 9, 3)  # two rungs below the max, so configs reach it early

SMALL: dict[str, Any] = {"n_init": 4, "num_restarts": 1, "raw_samples": 32}


def test_slots_box_and_bad_fields() -> None:
    ls = LocalShare(after=10, share=0.25, side=0.2)
    assert [ls.slots(q, 9) for q in (1, 4)] == [0, 0]  # too few observations: all global
    assert [ls.slots(q, 10) for q in (1, 2, 4, 8)] == [0, 1, 1, 2]  # a batch of one stays global
    bounds = torch.tensor([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    box = ls.box(torch.tensor([0.05, 0.5, 1.0], dtype=torch.float64), bounds)
    assert torch.allclose(box, torch.tensor([[0.0, 0.4, 1.0], [0.15, 0.6, 1.0]],
                                            dtype=torch.float64))  # clipped; fixed column kept
    for bad in ({"share": 0.0}, {"share": 1.0}, {"side": 0.0}, {"after": -1}):
        with pytest.raises(ValueError, match="local needs"):
            LocalShare(**bad)


def test_incumbent_row_is_the_best_at_the_max_budget() -> None:
    X = torch.tensor([[0.1, 1.0], [0.2, 0.5], [0.3, 1.0]], dtype=torch.float64)
    Y = torch.tensor([[1.0], [9.0], [2.0]], dtype=torch.float64)  # the best row is not at max
    assert torch.equal(incumbent_row(X, Y, fid=True), X[2])
    assert torch.equal(incumbent_row(X, Y, fid=False), X[1])
    assert incumbent_row(X[1:2], Y[1:2], fid=True) is None


def _study(method: str, options: dict[str, Any], n: int) -> Study:
    s = Study(SPACE, FIDELITY, method, seed=3, method_options=options)
    while len(s.results) < n:
        for t in s.ask(4):
            s.tell(t, *branin_mf(t.config, t.budget, t.resume_budget, None))
    return s


def test_local_slots_lie_in_the_box_and_nothing_changes_before_after() -> None:
    opts = {**SMALL, "random_fraction": 0.0, "local": {"after": 8, "share": 0.5, "side": 0.2}}
    s = _study("hyperpilot@gp", opts, 28)
    local = [r for r in s.results if r.trial.info.get("local")]
    assert local, "no local proposal"
    assert all(r.trial.info["source"] == "model" for r in local)
    enc = {r.trial.config_id: SPACE.encode([r.trial.config])[0] for r in s.results}
    for r in local:  # within side / 2 of a config finished at the max budget before it was asked
        before = [q for q in s.results if q.trial.trial_id < r.trial.trial_id
                  and q.trial.budget >= FIDELITY.max]
        near = [np.abs(enc[r.trial.config_id] - enc[q.trial.config_id]).max() for q in before]
        assert min(near) <= 0.1 + 1e-9
    # with `after` never reached the study is the method's own, trial for trial
    late = _study("hyperpilot@gp", {**SMALL, "local": {"after": 10**6}}, 12)
    plain = _study("hyperpilot@gp", SMALL, 12)
    assert [r.trial.config for r in late.results] == [r.trial.config for r in plain.results]


def test_the_variant_name_and_the_pool_refusal() -> None:
    assert parse_method("hyperpilot:local").variant == "local"
    m = make_method("hyperpilot:local", SPACE, FIDELITY, seed=0)
    assert m.proposer.options()["local"] == {"after": 256, "share": 0.25, "side": 0.2}
    with pytest.raises(ValueError, match="local needs optimizer='lbfgs'"):
        make_method("hyperpilot:local+bg", SPACE, FIDELITY, seed=0)


def test_hyperpilot_is_local_by_default_only_where_the_study_has_related_tasks() -> None:
    related = {"related": {"tasks": ["lcbench:3945"], "points": 8, "data_dir": None}}
    none = {"related": {"tasks": [], "points": 8, "data_dir": None}}

    def local(name: str, **opts: Any) -> object:
        return make_method(name, SPACE, FIDELITY, seed=0, **opts).proposer.local

    assert local("hyperpilot", **related) == LocalShare()
    assert local("hyperpilot-nostop", **related) == LocalShare()
    assert local("hyperpilot", **none) is None and local("hyperpilot") is None
    assert local("hyperpilot:global", **related) is None  # the variant that turns it off
    assert local("hyperpilot:bg", **related) is None  # the pool optimizer cannot be boxed
    assert local("hyperpilot", local={"side": 0.1}, **related) == LocalShare(side=0.1)
    assert local("gp-bo") is None and local("gp-bo:local") == LocalShare()
    # the GP baseline searches as hyperpilot does: the same share where there are related tasks
    assert local("gp-bo", **related) == LocalShare() and local("gp-bo", **none) is None
    assert local("gp-bo:global", **related) is None
    assert make_method("gp-bo", SPACE, FIDELITY, seed=0, **related).proposer.related is None
    with pytest.raises(ValueError, match="related"):  # another surrogate is not silently stripped
        make_method("hyperpilot@ensemble", SPACE, FIDELITY, seed=0, **related)
    with pytest.raises(Exception, match="disagree"):
        parse_method("hyperpilot:local+global")
