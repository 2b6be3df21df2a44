"""A torch MLP on scikit-learn's bundled datasets as a multi-fidelity workload (fidelity = epochs).

Datasets (no downloads): ``diabetes`` (regression; value = 1 - R^2 on validation, 0 is perfect and
1 is as good as predicting the mean), ``digits`` and ``breast_cancer`` (classification; value =
1 - accuracy, or 1 - macro F1 with ``metric="f1"``). Splits are fixed by ``split_seed``: 60% train,
20% validation (the objective), 20% test (reported as ``test_value`` in
``context.extras["workload_info"]``, never optimized). Inputs are standardised on the training
split, and so is the regression target.

All randomness (initialisation, shuffling, dropout) comes from one ``torch.Generator`` seeded by
the trial's seed and saved in the checkpoint, so training to e epochs and resuming to E equals
training to E straight. Global RNG state is never touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hyperpilot.schedule import ScheduleError, config_at, refuse_unscheduled
from hyperpilot.space import Categorical, Config, Float, Int, SearchSpace
from hyperpilot.trial import Context, Fidelity
from hyperpilot.workloads.base import (
    CheckpointableObjective,
    InvalidConfig,
    ResumableObjective,
    Workload,
)

DATASETS = {"diabetes": "regression", "digits": "classification", "breast_cancer": "classification"}


def mlp_space() -> SearchSpace:
    """Learning rate, batch size, depth, width, dropout, optimizer (+ SGD momentum), activation, L2."""
    return SearchSpace({
        "learning_rate": Float(1e-4, 1e-1, log=True),
        "batch_size": Categorical([16, 32, 64, 128, 256]),
        "depth": Int(1, 4),
        "width": Int(16, 512, log=True),
        "dropout": Float(0.0, 0.5),
        "optimizer": Categorical(["adam", "sgd", "rmsprop"]),
        "momentum": Float(0.0, 0.99),
        "activation": Categorical(["relu", "leaky_relu", "silu"]),
        "weight_decay": Float(1e-6, 1e-1, log=True),
    }, conditions={"momentum": ("optimizer", ["sgd"])})


@dataclass(frozen=True)
class Data:
    """Standardised float32 splits; ``y`` is float (regression) or int64 class labels."""

    task: str
    x: dict[str, Any]  # split name -> n x d tensor
    y: dict[str, Any]  # split name -> n (float32 or int64) tensor
    n_out: int


def load_data(dataset: str, split_seed: int = 0) -> Data:
    """Load, split 60/20/20 with ``split_seed`` and standardise with training statistics."""
    import sklearn.datasets as skd
    import torch
    from sklearn.model_selection import train_test_split

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    x, y = getattr(skd, f"load_{dataset}")(return_X_y=True)
    task = DATASETS[dataset]
    strat = y if task == "classification" else None
    xtr, xrest, ytr, yrest = train_test_split(x, y, test_size=0.4, random_state=split_seed, stratify=strat)
    strat = yrest if task == "classification" else None
    xva, xte, yva, yte = train_test_split(xrest, yrest, test_size=0.5, random_state=split_seed,
                                          stratify=strat)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-8
    xs = {k: torch.tensor((v - mu) / sd, dtype=torch.float32)
          for k, v in (("train", xtr), ("val", xva), ("test", xte))}
    if task == "regression":
        ym, ys = ytr.mean(), ytr.std()
        ysd = {k: torch.tensor((v - ym) / ys, dtype=torch.float32)
               for k, v in (("train", ytr), ("val", yva), ("test", yte))}
        return Data(task, xs, ysd, 1)
    yl = {k: torch.tensor(v, dtype=torch.int64) for k, v in (("train", ytr), ("val", yva), ("test", yte))}
    return Data(task, xs, yl, int(y.max()) + 1)


def build_mlp(n_in: int, n_out: int, config: Config, g: Any) -> Any:
    """An MLP whose weights come from generator ``g`` (PyTorch's default init, without global RNG)."""
    import torch
    import torch.nn as nn

    class GenDropout(nn.Module):
        def __init__(self, p: float) -> None:
            super().__init__()
            self.p = p

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.training or self.p == 0.0:
                return x
            keep = (torch.rand(x.shape, generator=g) >= self.p).to(x.dtype)
            return x * keep / (1.0 - self.p)

    act = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU}[config["activation"]]
    layers: list[nn.Module] = []
    widths = [n_in] + [int(config["width"])] * int(config["depth"])
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [_linear(a, b, g), act(), GenDropout(float(config["dropout"]))]
    layers.append(_linear(widths[-1], n_out, g))
    return nn.Sequential(*layers)


def _linear(a: int, b: int, g: Any) -> Any:
    import torch.nn as nn

    lin = nn.utils.skip_init(nn.Linear, a, b)
    nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=g)
    bound = 1.0 / math.sqrt(a)
    nn.init.uniform_(lin.bias, -bound, bound, generator=g)
    return lin


def _optimizer(params: Any, config: Config) -> Any:
    import torch

    lr, wd = float(config["learning_rate"]), float(config["weight_decay"])
    if config["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(config["momentum"]), weight_decay=wd)
    if config["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    return torch.optim.Adam(params, lr=lr, weight_decay=wd)


def score(data: Data, pred: Any, split: str, metric: str) -> float:
    """The value to minimize on ``split``: 1 - R^2, 1 - accuracy or 1 - macro F1."""
    y = data.y[split].numpy()
    p = pred.detach().numpy()
    if data.task == "regression":
        p = np.where(np.isfinite(p[:, 0]), p[:, 0], 0.0)  # a diverged net predicts the mean
        return float(np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))
    labels = np.nan_to_num(p).argmax(1)
    if metric == "f1":
        from sklearn.metrics import f1_score

        return 1.0 - float(f1_score(y, labels, average="macro"))
    return 1.0 - float(np.mean(labels == y))


SCHEDULABLE = ("learning_rate", "weight_decay", "momentum", "dropout", "batch_size")
"""Parameters a config may schedule (``hyperpilot.schedule``): set in the optimizer's parameter
groups, the dropout layers and the batch size at the start of each epoch."""


class MLPRun(CheckpointableObjective):
    """One config's MLP, optimizer and generator; one curve point per epoch.

    ``config`` may hold schedules of :data:`SCHEDULABLE` parameters (budget in epochs): the
    values in force at the start of each epoch are set before it is trained, so a restored run
    continues with the schedule exactly where an uninterrupted one would be.
    """

    def __init__(self, data: Data, config: Config, seed: int, metric: str) -> None:
        import torch

        super().__init__()
        try:
            refuse_unscheduled(config, SCHEDULABLE, "the MLP workload")
        except ScheduleError as e:
            raise InvalidConfig(str(e)) from None
        self.data, self.config, self.metric = data, config, metric
        start = config_at(config, 0.0)
        self.g = torch.Generator().manual_seed(seed)
        self.net = build_mlp(data.x["train"].shape[1], data.n_out, start, self.g)
        self.opt = _optimizer(self.net.parameters(), start)

    def _apply(self, cfg: Config) -> None:
        """Set the scheduled values of ``cfg`` in the optimizer and the dropout layers."""
        for group in self.opt.param_groups:
            group["lr"] = float(cfg["learning_rate"])
            group["weight_decay"] = float(cfg["weight_decay"])
            if "momentum" in cfg and "momentum" in group:
                group["momentum"] = float(cfg["momentum"])
        for m in self.net.modules():
            if type(m).__name__ == "GenDropout":
                m.p = float(cfg["dropout"])

    def _epoch(self) -> None:
        import torch
        import torch.nn.functional as F

        cfg = config_at(self.config, self.trained)
        self._apply(cfg)
        self.net.train()
        x, y = self.data.x["train"], self.data.y["train"]
        bs = int(cfg["batch_size"])
        perm = torch.randperm(len(x), generator=self.g)
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            out = self.net(x[idx])
            loss = F.mse_loss(out[:, 0], y[idx]) if self.data.task == "regression" else F.cross_entropy(out, y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()

    def eval_split(self, split: str) -> float:
        import torch

        self.net.eval()
        with torch.no_grad():
            return score(self.data, self.net(self.data.x[split]), split, self.metric)

    def train_to(self, budget: float, report: Callable[[float, float], bool]) -> bool:
        while self.trained < int(budget):
            self._epoch()
            self.trained += 1
            self.curve.append((self.trained, self.eval_split("val")))
            if report(*self.curve[-1]):
                return True
        return False

    def value(self) -> float:
        if not self.curve:
            raise ValueError("empty learning curve: the run was never evaluated")
        return self.curve[-1][1]

    def info(self) -> dict[str, Any]:
        return {"test_value": self.eval_split("test"), "metric": self.metric}

    def checkpoint(self, path: Path) -> None:
        import torch

        torch.save({"net": self.net.state_dict(), "opt": self.opt.state_dict(),
                    "gen": self.g.get_state(), "curve": self.curve, "trained": self.trained},
                   path / "mlp.pt")

    def restore(self, path: Path) -> None:
        import torch

        if not (path / "mlp.pt").exists():
            raise FileNotFoundError(path / "mlp.pt")
        d = torch.load(path / "mlp.pt", weights_only=False)  # our own file, written by checkpoint()
        self.net.load_state_dict(d["net"])
        self.opt.load_state_dict(d["opt"])
        self.g.set_state(d["gen"])
        self.curve, self.trained = list(d["curve"]), float(d["trained"])


def supervised_workload(dataset: str, min_epochs: int = 1, max_epochs: int = 27, eta: float = 3,
                        metric: str = "accuracy", split_seed: int = 0) -> Workload:
    """The MLP workload on ``dataset``; value = 1 - R^2 (diabetes) or 1 - ``metric`` on validation.

    Args:
        metric: ``"accuracy"`` or ``"f1"`` (macro) for the classification datasets.

    Raises:
        ValueError: for an unknown dataset or metric.
    """
    if metric not in ("accuracy", "f1"):
        raise ValueError(f"unknown metric {metric!r}; choose 'accuracy' or 'f1'")
    data = load_data(dataset, split_seed)
    space = mlp_space()

    def make(config: Config, context: Context) -> MLPRun:
        import torch

        torch.set_num_threads(1)
        return MLPRun(data, space.validate(config), context.seed, metric)

    what = "1 - R^2" if data.task == "regression" else f"1 - {metric}"
    return Workload(name=f"supervised:{dataset}", space=space,
                    fidelity=Fidelity(min=float(min_epochs), max=float(max_epochs), eta=float(eta)),
                    objective=ResumableObjective(make), direction="minimize",
                    info={"fidelity_unit": "epochs", "value": f"{what} on validation"})
