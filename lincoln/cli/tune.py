"""``lincoln tune``: a hyperparameter sweep on Optuna (the ``tune`` extra).

Its arguments are set up here and its handler is :func:`run`; the sweep
itself is :func:`lincoln.tune.tune`, imported only when the command runs,
since Optuna is optional.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LincolnError
from .arguments import non_negative_int, positive_int
from .files import config_path

__all__ = ["add_arguments", "run", "SIGNATURE", "SUMMARY", "DESCRIPTION", "EXAMPLES"]

SIGNATURE = "[CONFIG] --space SPACE.toml [--trials N]"
SUMMARY = "search hyperparameters with Optuna (tune extra)"
DESCRIPTION = (
    "Run N trials of the experiment file CONFIG, each with values drawn from the "
    "search space SPACE.toml, scored on the file's validation split (never on the "
    "test set); hopeless trials are pruned. The study lives in DIR/study.db, or in "
    "--storage (e.g. postgresql://user@host/db), which processes on many machines "
    "can share; running the same command again adds N trials to the study. Writes "
    "DIR/best.toml (ready for lincoln train), trials.csv, trials.json and "
    "search.png. Ctrl-C stops cleanly, keeping the finished trials. Needs the tune "
    "extra: pip install 'lincoln[tune]'."
)
EXAMPLES = (
    "lincoln tune configs/digits_mlp.toml --space configs/digits_space.toml "
    "--trials 20 --out sweeps/digits",
    "lincoln tune configs/digits_mlp.toml --space configs/digits_space.toml "
    "--trials 50 --jobs 2 --storage postgresql://lincoln@dbhost/sweeps",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``tune`` command's arguments."""
    p.add_argument(
        "config", nargs="?", help="experiment file (default: configs/digits_mlp.toml)"
    )
    p.add_argument("--space", required=True, metavar="SPACE.toml", help="search space")
    p.add_argument(
        "--trials",
        type=positive_int,
        default=20,
        metavar="N",
        help="trials this command runs (default: 20)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="reports, trial files and study.db (default: sweeps/CONFIG_NAME)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="a shared study database, e.g. postgresql://user@host:5432/db "
        "(default: sqlite in DIR/study.db)",
    )
    p.add_argument(
        "--study", metavar="NAME", help="study name (default: CONFIG's file name stem)"
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="K",
        help="trials run at once, each in its own process (default: 1)",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="sampler seed: trial n is sampled with SEED + n (default: 0)",
    )
    p.add_argument(
        "--pruner",
        choices=("median", "halving", "none"),
        default="median",
        help="stops hopeless trials at an evaluation (default: median)",
    )
    p.add_argument(
        "--metric",
        choices=("val_accuracy", "val_loss"),
        help="what a trial scores (default: val_accuracy for classifiers)",
    )
    p.add_argument("--quiet", action="store_true", help="no line per trial")


def run(args: argparse.Namespace) -> int:
    """``lincoln tune``: run the sweep, then say where the best trial is."""
    try:  # an optional extra: imported by the one command that needs it
        from ..tune import tune
    except ImportError as exc:
        raise LincolnError(str(exc)) from None
    config = config_path(args.config)
    out = Path(args.out) if args.out else Path("sweeps") / config.stem
    study = tune(
        config,
        args.space,
        args.trials,
        out=out,
        storage=args.storage,
        study_name=args.study,
        jobs=args.jobs,
        seed=args.seed,
        pruner=args.pruner,
        metric=args.metric,
        verbose=not args.quiet,
    )
    states = [t.state.name.lower() for t in study.get_trials(deepcopy=False)]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
    print(f"study {study.study_name!r}: {len(states)} trials ({counts})")
    if (out / "best.toml").is_file():
        best = study.best_trial
        metric = study.user_attrs.get("metric", "value")
        print(f"best: trial {best.number}, {metric} {best.value:.4f}")
        print(f"train it: lincoln train {out / 'best.toml'} --out runs/best")
    else:
        print("no trial finished: no best.toml")
    print(f"reports: {out / 'trials.csv'}, trials.json, search.png")
    return 0
