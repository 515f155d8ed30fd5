"""Learning curves of a training run, drawn with matplotlib.

:func:`plot_history` draws the training loss of every epoch and the validation
loss of every evaluation (and, for classifiers, the validation accuracy) from a
:class:`~lincoln.train.History`, a run directory written by
``lincoln train --out DIR`` or its ``history.json``, and writes a PNG.

matplotlib is optional (``pip install 'lincoln[plot]'``): it is imported only
when a plot is drawn, and only its Agg canvas is used, so plotting works on a
server without a display and never changes the pyplot backend of a notebook.

Example:
    >>> from lincoln.plotting import plot_history                  # doctest: +SKIP
    >>> plot_history(trainer.history, "curves.png")                 # doctest: +SKIP
    >>> plot_history("runs/digits", "runs/digits/history.png")      # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._files import atomic_write
from .errors import LincolnError
from .train import History

__all__ = ["plot_history", "load_history", "image_format", "MATPLOTLIB_MISSING"]

MATPLOTLIB_MISSING = "needs matplotlib: pip install 'lincoln[plot]'"


def _matplotlib() -> tuple[Any, Any]:
    """``(Figure, FigureCanvasAgg)``, imported on first use.

    Raises:
        ImportError: matplotlib is not installed; the message says how to get it.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"plot_history {MATPLOTLIB_MISSING}") from None
    return Figure, FigureCanvasAgg


def load_history(source: str | Path) -> History:
    """Read a :class:`History` from a run directory or a ``history.json`` file.

    Raises:
        FileNotFoundError: no such directory or file, or no history.json in it.
        LincolnError: the file is not a history written by lincoln.
    """
    path = Path(source)
    if path.is_dir():
        path = path / "history.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path.parent}: no history.json here; a run directory is written by "
                f"'lincoln train CONFIG --out DIR'"
            )
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such run directory or history file")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LincolnError(
            f"{path}: not a history file (invalid JSON: {exc})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("train_loss"), list):
        raise LincolnError(f"{path}: not a history file (no 'train_loss' list)")
    return History.from_dict(data)


def plot_history(
    history: History | str | Path,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    dpi: int = 100,
) -> Any:
    """Draw loss (and accuracy) curves; write them to ``path`` if given.

    The left panel shows the mean training loss of every epoch and the
    validation loss of every evaluation, with the best epoch (the one whose
    parameters the network kept) marked; the right panel, drawn when the
    history has validation accuracy, shows it.

    Args:
        history: a History, or a run directory / history.json to read it from.
        path: where to write the image, at exactly this name (atomically); its
            suffix picks the format (``.png``, ``.pdf``, ``.svg``, ...), and a
            name without an image suffix gets PNG (see :func:`image_format`).
        title: the figure's title (default: the run directory's name, if any).
        dpi: resolution of the written image.

    Returns:
        The matplotlib ``Figure`` (it displays itself in a notebook).

    Raises:
        ImportError: matplotlib is not installed.
        LincolnError: the history has no epochs to draw.
        FileNotFoundError: ``history`` names a missing directory or file.
    """
    if not isinstance(history, History):
        source = Path(history)
        history = load_history(source)
        if title is None:
            title = (source if source.is_dir() else source.parent).resolve().name
    if not history.train_loss and not history.val_loss:
        raise LincolnError("plot_history: the history has no epochs to draw")

    Figure, FigureCanvasAgg = _matplotlib()
    has_accuracy = bool(history.val_accuracy)
    fig = Figure(figsize=(10.0 if has_accuracy else 6.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to the figure: rendering goes through Agg
    axes = fig.subplots(1, 2 if has_accuracy else 1, squeeze=False)[0]
    _draw_loss(axes[0], history)
    if has_accuracy:
        _draw_accuracy(axes[1], history)
    for ax in axes:
        _finish_axes(ax, history)

    note = (
        ""
        if history.stop_reason == "completed"
        else f" (stopped: {history.stop_reason})"
    )
    if title or note:
        fig.suptitle(f"{title or ''}{note}".strip())
    if path is not None:
        with atomic_write(path) as fh:
            fig.savefig(fh, format=image_format(path), dpi=dpi)
    return fig


def image_format(path: str | Path) -> str:
    """The format :func:`plot_history` writes ``path`` in: its suffix if that
    is an image format matplotlib writes, else ``"png"``."""
    suffix = Path(path).suffix[1:].lower()
    return suffix if suffix in _IMAGE_FORMATS else "png"


# what matplotlib's Agg canvas writes (FigureCanvasAgg.get_supported_filetypes())
_IMAGE_FORMATS = frozenset(
    "eps jpeg jpg pdf pgf png ps raw rgba svg svgz tif tiff webp".split()
)


def _draw_loss(ax: Any, history: History) -> None:
    """Training loss per epoch and validation loss per evaluation."""
    if history.train_loss:
        epochs = range(1, len(history.train_loss) + 1)
        ax.plot(epochs, history.train_loss, label="train (mean per epoch)")
    if history.val_loss:
        ax.plot(history.epochs, history.val_loss, marker="o", label="validation")
    ax.set_title("Loss")
    ax.set_ylabel("loss")


def _draw_accuracy(ax: Any, history: History) -> None:
    """Validation accuracy per evaluation."""
    ax.plot(
        history.epochs[: len(history.val_accuracy)],
        history.val_accuracy,
        marker="o",
        color="tab:green",
        label="validation",
    )
    ax.set_title("Accuracy")
    ax.set_ylabel("accuracy")


def _finish_axes(ax: Any, history: History) -> None:
    """The best epoch marked, whole-epoch ticks, a grid and a legend."""
    if history.best_epoch is not None:
        ax.axvline(
            history.best_epoch,
            color="gray",
            linestyle=":",
            label=f"best (epoch {history.best_epoch})",
        )
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, alpha=0.3)
    ax.legend()
