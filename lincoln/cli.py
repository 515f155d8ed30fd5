"""The ``lincoln`` command.

``lincoln train [CONFIG] [--out DIR]`` trains the network an experiment file
describes and reports its test accuracy; with no CONFIG it runs
``configs/digits_mlp.toml`` on the bundled digits.

Exit codes: 0 success, 1 an error (one line on stderr), 2 bad usage,
130 interrupted by Ctrl-C (the run directory is still written).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import config as cfg
from .errors import LincolnError
from .train import History, Trainer

__all__ = ["main", "default_config_path", "run_experiment"]

DEFAULT_CONFIG = "digits_mlp.toml"
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def default_config_path() -> Path:
    """``configs/digits_mlp.toml``: in the working folder, else beside the package."""
    candidates = [
        Path.cwd() / "configs" / DEFAULT_CONFIG,
        Path(__file__).resolve().parent.parent / "configs" / DEFAULT_CONFIG,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LincolnError(
        "no CONFIG given and the default configs/digits_mlp.toml was not found in "
        + " or ".join(str(c.parent) for c in candidates)
    )


def run_experiment(
    config_path: str | Path, out: str | Path | None = None, *, verbose: bool = True,
    progress: bool | None = None,
) -> tuple[History, dict[str, Any]]:
    """Train what ``config_path`` describes; write the run directory if ``out``.

    Returns:
        The training history and the final metrics (test loss, accuracy, times).
    """
    exp = cfg.load_config(config_path)
    net = cfg.build_network(exp)
    optim = cfg.build_optimizer(exp)
    X_train, y_train, X_test, y_test = cfg.load_data(exp, dtype=net.dtype)
    trainer = Trainer(net, optim)
    options = cfg.fit_options(exp)
    start = time.perf_counter()
    try:
        history = trainer.fit(X_train, y_train, X_test, y_test, verbose=verbose,
                              progress=progress, **options)
    except TypeError as exc:  # an option fit() does not take
        raise LincolnError(f"{exp.path}: [trainer]: {exc}") from None
    train_time = time.perf_counter() - start
    final = trainer.evaluate(X_test, y_test)
    metrics: dict[str, Any] = {
        "config": str(exp.path),
        "test_loss": final["loss"],
        "test_accuracy": final.get("accuracy"),
        "epochs_run": len(history.train_loss),
        "best_epoch": history.best_epoch,
        "stop_reason": history.stop_reason,
        "train_seconds": round(train_time, 3),
        "train_samples": int(len(X_train)),
        "test_samples": int(len(X_test)),
    }
    if out is not None:
        write_run_dir(Path(out), exp, trainer, history, metrics)
    return history, metrics


def write_run_dir(out: Path, exp: cfg.Experiment, trainer: Trainer, history: History,
                  metrics: dict[str, Any]) -> None:
    """Write the config used, the history (JSON and CSV), metrics and the model."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exp.path, out / "config.toml")
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    save = getattr(trainer.net, "save", None)
    if callable(save):
        save(out / "model.npz")


def _cmd_train(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    history, metrics = run_experiment(path, args.out, verbose=not args.quiet,
                                      progress=False if args.no_progress else None)
    acc = metrics["test_accuracy"]
    summary = f"test loss {metrics['test_loss']:.4f}"
    if acc is not None:
        summary = f"test accuracy {acc:.4f}, " + summary
    print(f"{path.name}: {summary} after {metrics['epochs_run']} epochs "
          f"({metrics['train_seconds']:.1f} s)")
    if args.out:
        print(f"run directory: {args.out}")
    if history.interrupted:
        print("interrupted: the best parameters were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lincoln",
        description="Train and inspect lincoln networks from TOML experiment files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    train = sub.add_parser(
        "train",
        help="train the network a config file describes",
        description="Train the network CONFIG describes and report test accuracy.",
        epilog="example: lincoln train configs/digits_mlp.toml --out runs/digits",
    )
    train.add_argument("config", nargs="?", help="experiment file (default: "
                       "configs/digits_mlp.toml)")
    train.add_argument("--out", metavar="DIR", help="write config, history, metrics "
                       "and the model here")
    train.add_argument("--quiet", action="store_true", help="no per-evaluation lines")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=_cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return int(args.func(args))
    except LincolnError as exc:
        print(f"lincoln {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"lincoln {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
