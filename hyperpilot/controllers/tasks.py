"""Training tasks whose hyperparameters a controller changes while they train.

Every task is built from data that ships with a package or is generated, since nothing can be
downloaded here:

- ``cnn:digits-lo`` / ``cnn:digits-hi``: scikit-learn's 8x8 digits, classes 0-4 / 5-9, a small CNN
  (conv 1->8->16, 3x3, ReLU, max-pool, dropout, linear). Stands in for the design's CIFAR-10
  (32x32 colour, 10 classes, 50k images): here 1 channel, 8x8, about 540 training images.
- ``mlp:<dataset>``: the tabular sets ``breast_cancer``, ``wine``, ``iris``, ``diabetes``
  (regression, standardised target), a 2-layer MLP of width 64 with dropout. Stands in for the
  design's Titanic (mixed categorical/numeric, missing values): these are all numeric and clean.
- ``bilstm:majority-v<V>-l<L>``: generated sequences of ``L`` tokens from a vocabulary of ``V``;
  the label is the most frequent token (ties to the smallest id). A 1-layer BiLSTM (embedding 16,
  hidden 32) reads it. Stands in for the design's IMDb sentiment (25k real reviews of hundreds of
  words): here 2,000 synthetic sequences of 12-20 tokens.

Splits are 60/20/20 (train / validation / test) with a fixed split seed. A ``TrainLoop`` runs
plain SGD with momentum 0.9 and takes a new learning rate, weight decay, batch size and dropout
between optimizer steps. All its randomness (initialisation, batches, dropout) comes from one
``torch.Generator`` seeded by the run's seed; global RNG state is never touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from hyperpilot.workloads.supervised import _linear

TRAIN_TASKS = ("cnn:digits-lo", "mlp:breast_cancer", "mlp:wine", "mlp:diabetes",
               "bilstm:majority-v4-l12")
TEST_TASKS = ("cnn:digits-hi", "mlp:iris", "bilstm:majority-v6-l20")


@dataclass(frozen=True)
class TaskData:
    """Float32 inputs (``n x ...``) and targets (int64 labels or float32 standardised values)."""

    name: str
    regression: bool
    x: dict[str, torch.Tensor]  # split -> inputs
    y: dict[str, torch.Tensor]  # split -> targets
    n_out: int


@dataclass(frozen=True)
class Interval:
    """What a ``TrainLoop`` saw over one interval of optimizer steps.

    ``train_loss`` is the mean minibatch loss and ``grad_norm`` the mean L2 norm of the full
    gradient (before weight decay) over the interval's steps; ``val_loss`` / ``val_acc`` are
    measured on the whole validation split after the last step (``val_acc`` is NaN for
    regression). Non-finite losses mean the run diverged.
    """

    step: int
    train_loss: float
    grad_norm: float
    val_loss: float
    val_acc: float


def _split(x: np.ndarray, y: np.ndarray, regression: bool, split_seed: int
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    from sklearn.model_selection import train_test_split

    strat = None if regression else y
    xtr, xr, ytr, yr = train_test_split(x, y, test_size=0.4, random_state=split_seed, stratify=strat)
    strat = None if regression else yr
    xva, xte, yva, yte = train_test_split(xr, yr, test_size=0.5, random_state=split_seed,
                                          stratify=strat)
    return {"train": xtr, "val": xva, "test": xte}, {"train": ytr, "val": yva, "test": yte}


def _majority(vocab: int, length: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, size=(n, length))
    counts = np.stack([(x == v).sum(1) for v in range(vocab)], 1)
    return x, counts.argmax(1)  # argmax breaks ties to the smallest id


def load_task(name: str, split_seed: int = 0) -> TaskData:
    """The data of task ``name`` (see the module docstring), standardised on the training split.

    Raises:
        ValueError: for an unknown task name.
    """
    import sklearn.datasets as skd

    kind, _, what = name.partition(":")
    if kind == "cnn" and what in ("digits-lo", "digits-hi"):
        x, y = skd.load_digits(return_X_y=True)
        keep = y < 5 if what == "digits-lo" else y >= 5
        x, y = x[keep] / 16.0, y[keep] - (0 if what == "digits-lo" else 5)
        xs, ys = _split(x, y, False, split_seed)
        tx = {k: torch.tensor(v, dtype=torch.float32).reshape(-1, 1, 8, 8) for k, v in xs.items()}
        return TaskData(name, False, tx, {k: torch.tensor(v) for k, v in ys.items()}, 5)
    if kind == "mlp" and what in ("breast_cancer", "wine", "iris", "diabetes"):
        x, y = getattr(skd, f"load_{what}")(return_X_y=True)
        reg = what == "diabetes"
        xs, ys = _split(x, y, reg, split_seed)
        mu, sd = xs["train"].mean(0), xs["train"].std(0) + 1e-8
        tx = {k: torch.tensor((v - mu) / sd, dtype=torch.float32) for k, v in xs.items()}
        if reg:
            ym, ysd = ys["train"].mean(), ys["train"].std()
            ty = {k: torch.tensor((v - ym) / ysd, dtype=torch.float32) for k, v in ys.items()}
            return TaskData(name, True, tx, ty, 1)
        return TaskData(name, False, tx, {k: torch.tensor(v) for k, v in ys.items()},
                        int(y.max()) + 1)
    if kind == "bilstm" and what.startswith("majority-v"):
        v, _, ln = what.removeprefix("majority-v").partition("-l")
        x, y = _majority(int(v), int(ln), 2000, seed=1000 + split_seed)
        xs, ys = _split(x, y, False, split_seed)
        return TaskData(name, False, {k: torch.tensor(a) for k, a in xs.items()},
                        {k: torch.tensor(a) for k, a in ys.items()}, int(v))
    raise ValueError(f"unknown task {name!r}; known: {', '.join(TRAIN_TASKS + TEST_TASKS)}")


class GenDropout(nn.Module):
    """Dropout whose masks come from generator ``g``; ``p`` may change between steps."""

    def __init__(self, p: float, g: torch.Generator) -> None:
        super().__init__()
        self.p, self.g = p, g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p <= 0.0:
            return x
        keep = (torch.rand(x.shape, generator=self.g) >= self.p).to(x.dtype)
        return x * keep / (1.0 - self.p)


class _CNN(nn.Module):
    def __init__(self, n_out: int, g: torch.Generator, drop: GenDropout) -> None:
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        for c in (self.c1, self.c2):
            nn.init.kaiming_uniform_(c.weight, a=math.sqrt(5), generator=g)
            assert c.bias is not None
            nn.init.uniform_(c.bias, -0.1, 0.1, generator=g)
        self.drop, self.out = drop, _linear(16 * 4 * 4, n_out, g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2)
        return self.out(self.drop(h.flatten(1)))  # type: ignore[no-any-return]


class _BiLSTM(nn.Module):
    def __init__(self, vocab: int, n_out: int, g: torch.Generator, drop: GenDropout) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True, bidirectional=True)
        for p in [self.emb.weight, *self.lstm.parameters()]:
            nn.init.uniform_(p, -0.18, 0.18, generator=g)  # about 1/sqrt(hidden)
        self.drop, self.out = drop, _linear(64, n_out, g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.emb(x))
        return self.out(self.drop(h.mean(1)))  # type: ignore[no-any-return]


def build_model(data: TaskData, g: torch.Generator, dropout: float) -> tuple[nn.Module, GenDropout]:
    """The task's network (weights from ``g``) and its dropout module (to change ``p`` later)."""
    drop = GenDropout(dropout, g)
    kind = data.name.partition(":")[0]
    if kind == "cnn":
        return _CNN(data.n_out, g, drop), drop
    if kind == "bilstm":
        return _BiLSTM(data.n_out, data.n_out, g, drop), drop
    n_in = data.x["train"].shape[1]
    net = nn.Sequential(_linear(n_in, 64, g), nn.ReLU(), drop, _linear(64, 64, g), nn.ReLU(), drop,
                        _linear(64, data.n_out, g))
    return net, drop


class TrainLoop:
    """SGD (momentum 0.9) on one task; hyperparameters may change between intervals.

    Args:
        data: the task.
        seed: seeds the run's ``torch.Generator`` (init, batches, dropout).
        lr, weight_decay, batch_size, dropout: the starting hyperparameters.
    """

    def __init__(self, data: TaskData, seed: int, lr: float, weight_decay: float,
                 batch_size: int = 32, dropout: float = 0.1) -> None:
        self.data, self.step, self.batch_size = data, 0, batch_size
        self.g = torch.Generator().manual_seed(seed)
        self.net, self.drop = build_model(data, self.g, dropout)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=0.9,
                                   weight_decay=weight_decay)
        self._perm, self._pos = torch.randperm(len(data.y["train"]), generator=self.g), 0

    def set_hparams(self, lr: float, weight_decay: float, batch_size: int | None = None,
                    dropout: float | None = None) -> None:
        """New values from the next optimizer step on (``None`` keeps the current one)."""
        for pg in self.opt.param_groups:
            pg["lr"], pg["weight_decay"] = lr, weight_decay
        if batch_size is not None:
            self.batch_size = batch_size
        if dropout is not None:
            self.drop.p = dropout

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.data.regression:
            return F.mse_loss(out[:, 0], y)
        return F.cross_entropy(out, y)

    def _batch(self) -> torch.Tensor:
        n = len(self._perm)
        if self._pos + self.batch_size > n:
            self._perm, self._pos = torch.randperm(n, generator=self.g), 0
        idx = self._perm[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def run(self, n_steps: int) -> Interval:
        """``n_steps`` optimizer steps, then a validation pass."""
        self.net.train()
        losses, norms = [], []
        x, y = self.data.x["train"], self.data.y["train"]
        for _ in range(n_steps):
            idx = self._batch()
            loss = self._loss(self.net(x[idx]), y[idx])
            self.opt.zero_grad()
            loss.backward()
            sq = sum((p.grad ** 2).sum() for p in self.net.parameters() if p.grad is not None)
            norms.append(float(torch.sqrt(torch.as_tensor(sq))))
            losses.append(float(loss.detach()))
            self.opt.step()
            self.step += 1
        vl, va = self.evaluate("val")
        return Interval(self.step, float(np.mean(losses)), float(np.mean(norms)), vl, va)

    def evaluate(self, split: str) -> tuple[float, float]:
        """Loss and accuracy (NaN for regression) on ``split``; ``inf`` loss if diverged."""
        self.net.eval()
        with torch.no_grad():
            out = self.net(self.data.x[split])
            loss = float(self._loss(out, self.data.y[split]))
            acc = (float("nan") if self.data.regression else
                   float((torch.nan_to_num(out).argmax(1) == self.data.y[split]).float().mean()))
        return (loss if math.isfinite(loss) else math.inf), acc
