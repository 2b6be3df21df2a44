"""A batch of heteroscedastic MLPs evaluated in one pass, plus the Gaussian NLL that trains them.

All ``E`` members share one set of stacked weights (``E x in x out``), so an ensemble trains and
predicts with a handful of batched matmuls instead of a Python loop over members. MC dropout uses
the same network with ``E = 1`` and per-sample dropout masks.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

MIN_VAR = 1e-6  # variance floor in standardised output units


class MemberMLP(nn.Module):
    """``E`` independent MLPs ``[-1, 1]^d -> (mean, variance)`` with stacked weights.

    Args:
        d: Input dimension.
        width: Hidden units per layer.
        depth: Number of hidden layers (>= 1).
        n_members: Number of members ``E``.
        generator: Seeded generator for the weight initialisation.
        dtype: Parameter dtype.
    """

    def __init__(
        self,
        d: int,
        width: int,
        depth: int,
        n_members: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ) -> None:
        super().__init__()
        sizes = [d] + [width] * depth + [2]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear default range
            w = torch.rand(n_members, fan_in, fan_out, generator=generator, dtype=dtype) * 2 - 1
            b = torch.rand(n_members, 1, fan_out, generator=generator, dtype=dtype) * 2 - 1
            self.weights.append(nn.Parameter(w * bound))
            self.biases.append(nn.Parameter(b * bound))

    @property
    def n_hidden_layers(self) -> int:
        return len(self.weights) - 1

    def forward(self, x: Tensor, masks: list[Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """Evaluate every member.

        Args:
            x: ``batch x n x d`` inputs in ``[-1, 1]^d`` (any number of batch dims, or ``n x d``).
            masks: Optional per-hidden-layer multiplicative masks, each broadcastable to
                ``batch x E' x n x width`` (already scaled by ``1 / (1 - p)``).

        Returns:
            Mean and variance, each ``batch x E' x n`` in standardised units, where ``E'`` is ``E``
            broadcast against the mask's member dimension.
        """
        h = x.unsqueeze(-3)
        for i in range(self.n_hidden_layers):
            h = torch.relu(torch.matmul(h, self.weights[i]) + self.biases[i])
            if masks is not None:
                h = h * masks[i]
        out = torch.matmul(h, self.weights[-1]) + self.biases[-1]
        mean = out[..., 0]
        var = nn.functional.softplus(out[..., 1]) + MIN_VAR
        return mean, var

    def shift_output(self, scale: float, shift: float) -> None:
        """Re-express the mean head for new output standardisation: ``mean' = mean*scale + shift``.

        Used by warm starts, where the output mean and std change as data arrive.
        """
        with torch.no_grad():
            self.weights[-1][..., 0].mul_(scale)
            self.biases[-1][..., 0].mul_(scale).add_(shift)


def gaussian_nll(mean: Tensor, var: Tensor, y: Tensor, yvar: Tensor | None) -> Tensor:
    """Per-point heteroscedastic Gaussian negative log likelihood (without the log 2 pi constant).

    Args:
        mean: ``E x n`` predicted means (standardised units).
        var: ``E x n`` predicted variances.
        y: ``n`` targets.
        yvar: Optional ``n`` known observation-noise variances, added to ``var``.

    Returns:
        ``E x n`` losses.
    """
    total = var if yvar is None else var + yvar
    return 0.5 * (torch.log(total) + (y - mean).pow(2) / total)
