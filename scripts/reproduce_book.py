"""Reproduce the chapter 4 series of *Deep Learning from Scratch* (Weidman).

Runs configs/book/ch4_*.toml, Saito's TwoLayerNet and the best MLP, and
prints a Markdown table of test accuracy and wall time next to the figures the
book published on MNIST. Every shipped config holds out
``[data] validation_split = 0.1`` of the training data: the kept model is
chosen on it and the test set is evaluated once, after training; the table
says which data chose each model, and its validation accuracy and epoch.
By default it runs on Fashion-MNIST (which Debian packages:
``apt-get install dataset-fashion-mnist``);
``--dataset mnist --data-path DIR`` runs the same series on MNIST.

    python scripts/reproduce_book.py                 # everything, ~3 minutes
    python scripts/reproduce_book.py --only ch4_6    # one config
    python scripts/reproduce_book.py --epochs 2      # a quick look
    python scripts/reproduce_book.py --select-on-test  # the test set chooses
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lincoln import config as cfg
from lincoln.train import History

ROOT = Path(__file__).resolve().parent.parent

# test accuracy the book reports on MNIST for each step of chapter 4
BOOK_MNIST = {
    "ch4_1_mse_sigmoid": 57.16,
    "ch4_2_softmax_ce": 92.61,
    "ch4_3_momentum": 94.10,
    "ch4_4_linear_decay": 94.76,
    "ch4_5_exponential_decay": 94.81,
    "ch4_6_glorot": 97.46,
}

RUNS = [ROOT / "configs" / "book" / f"{name}.toml" for name in BOOK_MNIST] + [
    ROOT / "configs" / "two_layer_net.toml",
    ROOT / "configs" / "fashion_mlp_best.toml",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument(
        "--dataset", choices=["fashion_mnist", "mnist"], default="fashion_mnist"
    )
    parser.add_argument("--data-path", help="folder with the data set's IDX files")
    parser.add_argument("--epochs", type=int, help="override every config's epochs")
    parser.add_argument("--only", help="run only configs whose name contains this")
    parser.add_argument(
        "--select-on-test",
        action="store_true",
        help="drop [data] validation_split: the test set chooses the model, as "
        "in the book and in lincoln before 0.2 (optimistic figures)",
    )
    args = parser.parse_args(argv)

    rows = []
    for path in RUNS:
        if args.only and args.only not in path.stem:
            continue
        exp = cfg.load_config(path)
        exp.config["data"]["name"] = args.dataset
        if args.data_path:
            exp.config["data"]["path"] = args.data_path
        if args.select_on_test:
            exp.config["data"].pop("validation_split", None)
        if args.epochs:
            exp.config.setdefault("trainer", {})["epochs"] = args.epochs
        print(f"running {path.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
        history, metrics, _ = cfg.run_experiment(exp, verbose=False, progress=False)
        rows.append((path.stem, metrics, history))

    label = "Fashion-MNIST" if args.dataset == "fashion_mnist" else "MNIST"
    print(
        f"| config | epochs | chosen on | held epoch | validation accuracy "
        f"| {label} test accuracy | wall time | book (MNIST) |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, metrics, history in rows:
        book = BOOK_MNIST.get(name)
        print(
            f"| {name} | {len(history.train_loss)} | {_chosen_on(metrics)} "
            f"| {metrics['held_epoch']} "
            f"| {_percent(_held_val_accuracy(history))} "
            f"| {_percent(metrics['test_accuracy'])} "
            f"| {metrics['train_seconds']:.1f} s | {f'{book:.2f}%' if book else '-'} |"
        )
    return 0


def _chosen_on(metrics: dict) -> str:
    """Which data chose the kept model, as ``lincoln train`` says it."""
    if metrics["selected_on"] == "validation_split":
        return f"{metrics['validation_split']:.0%} of training data"
    return "test set"


def _held_val_accuracy(history: History) -> float | None:
    """Validation accuracy of the epoch whose parameters the network holds."""
    held = history.held_epoch
    if held is None or held not in history.epochs or not history.val_accuracy:
        return None
    return history.val_accuracy[history.epochs.index(held)]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


if __name__ == "__main__":
    sys.exit(main())
