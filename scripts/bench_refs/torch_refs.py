"""The workloads in PyTorch on the CPU (torch is never a dependency: import
this module only when it is installed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .workloads import CLIP, MOMENTUM, Workload, batch_slice

__all__ = ["run_torch", "torch_model", "set_torch_threads", "torch_version"]


class _CharLSTM(nn.Module):
    """W5: ``Embedding -> LSTM -> Linear`` over every step (``nn.LSTM``)."""

    def __init__(self, vocab: int, dim: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.lstm(self.embed(ids))[0])
        return logits.reshape(-1, logits.shape[-1])  # one row per character


def torch_model(w: Workload) -> nn.Module:
    """The network of ``w`` in PyTorch (its own initialization)."""
    if w.kind == "lstm":
        return _CharLSTM(*w.input_shape, w.hidden[0])
    if w.kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    if w.kind == "conv":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(8 * 28 * 28, 10),
        )
    act = nn.Sigmoid if w.activation == "sigmoid" else nn.ReLU
    mods: list[nn.Module] = []
    width = w.input_shape[0]
    for h in w.hidden:
        mods += [nn.Linear(width, h), act()]
        width = h
    mods.append(nn.Linear(width, 10))
    return nn.Sequential(*mods)


def run_torch(
    w: Workload, X: np.ndarray, y: np.ndarray, dtype: np.dtype, steps: int
) -> Callable[[], None]:
    torch.manual_seed(0)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    model = torch_model(w).to(tdtype)
    params = list(model.parameters())
    if w.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=w.lr)
    else:
        opt = torch.optim.SGD(params, lr=w.lr, momentum=MOMENTUM)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    def go() -> None:
        for i in range(steps):
            b = batch_slice(w, len(X), i)
            opt.zero_grad()
            loss = loss_fn(model(Xt[b]), yt[b].reshape(-1))
            loss.backward()
            if w.kind == "lstm":
                nn.utils.clip_grad_norm_(params, CLIP)
            opt.step()

    return go


def set_torch_threads(threads: int) -> None:
    """Let PyTorch's operations use ``threads`` threads."""
    torch.set_num_threads(threads)


def torch_version() -> str:
    return str(torch.__version__)
