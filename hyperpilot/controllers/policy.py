"""The ``reinforce-lrwd`` policy: an MLP 8 -> 32 -> 32 -> 9 over (lr factor, wd step) pairs.

Action ``a`` in 0..8 is the pair ``(LR_FACTORS[a // 3], WD_STEPS[a % 3])``: the learning rate is
multiplied by the factor and the weight decay moves by ``step * delta`` (then both are clipped
to the run's bounds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from hyperpilot.controllers.features import N_FEATURES

LR_FACTORS = (0.5, 1.0, 2.0)
WD_STEPS = (-1, 0, 1)
N_ACTIONS = len(LR_FACTORS) * len(WD_STEPS)


def action_pair(a: int) -> tuple[float, int]:
    """``(lr factor, wd step in {-1, 0, 1})`` of action ``a``."""
    if not 0 <= a < N_ACTIONS:
        raise ValueError(f"action {a} outside 0..{N_ACTIONS - 1}")
    return LR_FACTORS[a // len(WD_STEPS)], WD_STEPS[a % len(WD_STEPS)]


class Policy(nn.Module):
    """Logits over the 9 actions from the 8 features (tanh hidden units, width ``hidden``).

    The output layer starts at 1/100 of PyTorch's default scale, so a fresh policy is close to
    uniform. Weights come from ``torch.Generator(seed)``.
    """

    def __init__(self, seed: int = 0, hidden: int = 32) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.hidden = hidden
        self.meta: dict[str, Any] = {}
        self.net = nn.Sequential(nn.Linear(N_FEATURES, hidden), nn.Tanh(),
                                 nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, N_ACTIONS))
        with torch.no_grad():
            for i, m in enumerate(self.net):
                if isinstance(m, nn.Linear):
                    scale = 0.01 if i == len(self.net) - 1 else 1.0
                    bound = scale / m.in_features ** 0.5
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 2 * bound - bound)
                    m.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, ``... x 9``, from features ``... x 8``."""
        return self.net(x)  # type: ignore[no-any-return]

    def dist(self, x: torch.Tensor) -> torch.distributions.Categorical:
        """The action distribution at features ``x`` (``... x 8``)."""
        return torch.distributions.Categorical(logits=self.forward(x))

    def save(self, path: str | Path, meta: dict[str, Any] | None = None) -> None:
        """Write the weights, the width and ``meta`` (e.g. training settings) to ``path``."""
        torch.save({"state": self.state_dict(), "hidden": self.hidden, "meta": meta or {}},
                   Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """A policy with exactly the weights ``save`` wrote (``meta`` in ``policy.meta``)."""
        d = torch.load(Path(path), weights_only=True)
        p = cls(hidden=int(d["hidden"]))
        p.load_state_dict(d["state"])
        p.meta = dict(d["meta"])
        return p
