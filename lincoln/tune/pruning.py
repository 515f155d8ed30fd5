"""Pruning: a Trainer callback that reports each evaluation to an Optuna trial
and stops the training of a trial the pruner gives up on."""

from __future__ import annotations

import optuna

from ..training import Callback

__all__ = ["PruningCallback", "make_pruner", "PRUNERS"]

PRUNERS = ("median", "halving", "none")


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """The pruner called ``name``: ``"median"`` stops a trial whose evaluation is
    worse than the median of earlier trials' at the same epoch (after 5
    trials); ``"halving"`` is successive halving; ``"none"`` never prunes.

    Raises:
        ValueError: an unknown name.
    """
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}; choose one of: {', '.join(PRUNERS)}")


class PruningCallback(Callback):
    """Report each evaluation's ``monitor`` to ``trial`` (its step is the epoch)
    and stop training as soon as the study's pruner says the trial is hopeless.

    After ``fit``, ``pruned_epoch`` is the epoch of the evaluation at which the
    pruner fired (None if it never did); the caller then raises
    ``optuna.TrialPruned`` so that the study records the trial as pruned.

    Args:
        trial: the Optuna trial being trained.
        monitor: ``"val_accuracy"`` or ``"val_loss"``: the metric reported.
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_accuracy") -> None:
        self.trial = trial
        self.monitor = monitor
        self.pruned_epoch: int | None = None

    def on_evaluate(self, epoch: int, metrics: dict[str, float]) -> None:
        value = metrics[self.monitor]
        self.trial.report(value, step=epoch)
        if self.trial.should_prune():
            self.pruned_epoch = epoch
            self.trainer.stop(
                "callback",
                f"Trial {self.trial.number} pruned after epoch {epoch}: "
                f"{self.monitor} {value:.4g}",
            )

    def __repr__(self) -> str:
        return f"PruningCallback(trial={self.trial.number}, monitor={self.monitor!r})"
