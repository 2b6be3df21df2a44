"""The policy's action table and an exact save/load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hyperpilot.controllers.policy import N_ACTIONS, Policy, action_pair


def test_action_table() -> None:
    assert N_ACTIONS == 9
    assert [action_pair(a) for a in range(9)] == [
        (0.5, -1), (0.5, 0), (0.5, 1), (1.0, -1), (1.0, 0), (1.0, 1), (2.0, -1), (2.0, 0), (2.0, 1)]
    with pytest.raises(ValueError):
        action_pair(9)


def test_architecture_8_32_32_9() -> None:
    p = Policy(seed=3)
    shapes = [tuple(m.weight.shape) for m in p.net if isinstance(m, torch.nn.Linear)]
    assert shapes == [(32, 8), (32, 32), (9, 32)]
    assert p(torch.zeros(5, 8)).shape == (5, 9)
    assert float(p.dist(torch.zeros(8)).entropy().detach()) > 0.99 * float(torch.log(torch.tensor(9.0)))


def test_save_load_round_trip_is_exact(tmp_path: Path) -> None:
    p = Policy(seed=1)
    opt = torch.optim.SGD(p.parameters(), lr=0.3)  # move away from the initialisation
    for _ in range(3):
        opt.zero_grad()
        p(torch.randn(16, 8, generator=torch.Generator().manual_seed(0))).pow(2).sum().backward()
        opt.step()
    p.save(tmp_path / "p.pt", meta={"episodes": 7})
    q = Policy.load(tmp_path / "p.pt")
    for (n1, a), (n2, b) in zip(p.state_dict().items(), q.state_dict().items(), strict=True):
        assert n1 == n2 and torch.equal(a, b)
    x = torch.rand(64, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    assert torch.equal(p(x), q(x))
    assert q.meta == {"episodes": 7}
    q.save(tmp_path / "q.pt", meta=q.meta)
    assert torch.equal(Policy.load(tmp_path / "q.pt")(x), p(x))


def test_seeded_initialisation_is_reproducible() -> None:
    x = torch.ones(8)
    assert torch.equal(Policy(seed=4)(x), Policy(seed=4)(x))
    assert not torch.equal(Policy(seed=4)(x), Policy(seed=5)(x))
