"""The book's per-epoch learning-rate decay, as part of every optimizer."""

from __future__ import annotations

__all__ = ["RateSchedule"]


class RateSchedule:
    """``lr`` decays once per epoch from ``initial_lr`` to ``final_lr``,
    ``"linear"``-ly or ``"exponential"``-ly (the book's ``decay_type``),
    reaching ``final_lr`` at the last epoch of a run; the trainer calls
    :meth:`setup_decay` when a fit begins and :meth:`decay_lr` after each epoch.
    The attributes are class-level defaults so that a book-style subclass whose
    ``__init__`` skips ``super().__init__()`` still works.
    """

    lr: float
    # The rate every fit starts from. The first fit takes it from self.lr, so
    # that a rate set after __init__ (as the book's RegularizedSGD does) counts.
    initial_lr = 0.0
    _rate_fixed = False
    final_lr = 0.0
    decay_type: str | None = None
    decay_per_epoch = 1.0
    max_epochs = 1
    decay_steps = 0

    def setup_decay(self, max_epochs: int) -> None:
        """Start the rate at ``initial_lr`` (the rate of the first fit) and its
        schedule for a run of ``max_epochs`` epochs."""
        self.max_epochs = int(max_epochs)
        self.decay_steps = 0
        if not self._rate_fixed:
            self.initial_lr, self._rate_fixed = self.lr, True
        self.lr = start = self.initial_lr
        steps = self.max_epochs - 1
        if not self.decay_type or steps < 1:
            self.decay_per_epoch = 0.0 if self.decay_type == "linear" else 1.0
        elif self.decay_type == "exponential":
            self.decay_per_epoch = (self.final_lr / start) ** (1.0 / steps)
        else:
            self.decay_per_epoch = (start - self.final_lr) / steps

    def _setup_decay(self) -> None:  # the book's name; it sets max_epochs first
        self.setup_decay(self.max_epochs)

    def decay_lr(self) -> None:
        """Move the learning rate one epoch along its schedule."""
        if not self.decay_type or self.max_epochs < 2:
            return
        # Computed from the step count, not accumulated, so the last epoch of
        # the schedule uses final_lr exactly rather than a rounded neighbour.
        self.decay_steps += 1
        if self.decay_steps >= self.max_epochs - 1:
            self.lr = self.final_lr
        elif self.decay_type == "exponential":
            self.lr = self.initial_lr * self.decay_per_epoch**self.decay_steps
        else:
            self.lr = self.initial_lr - self.decay_per_epoch * self.decay_steps

    _decay_lr = decay_lr  # the book's name
