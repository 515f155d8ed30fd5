"""Hyperparameter sweeps on Optuna: ``lincoln tune`` and :func:`tune`.

A sweep varies keys of an experiment file over a search space (a small TOML
file, :mod:`.space`), trains each trial and scores it on the file's
validation split, never on the test set (:mod:`.trial`); a Trainer callback
reports each evaluation so that the pruner stops hopeless trials early
(:mod:`.pruning`). The study lives in a database: a SQLite file in the output
folder by default, or a PostgreSQL (or MySQL) server shared by processes on
many machines (:mod:`.study`). :mod:`.sweep` runs the trials, in this process
or several; :mod:`.report` writes ``best.toml``, ``trials.csv``,
``trials.json`` and ``search.png``.

Needs the optional ``tune`` extra: ``pip install 'lincoln[tune]'`` (Optuna,
and psycopg for PostgreSQL). lincoln's core never imports this package.

Example:
    >>> from lincoln.tune import tune                                # doctest: +SKIP
    >>> study = tune("configs/digits_mlp.toml", "configs/digits_space.toml",
    ...              trials=20, out="sweeps/digits")                 # doctest: +SKIP
    >>> study.best_value, study.best_params                          # doctest: +SKIP
"""

from __future__ import annotations

try:
    import optuna  # noqa: F401
except ImportError:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "lincoln tune needs Optuna: pip install 'lincoln[tune]'"
    ) from None

from .pruning import PRUNERS, PruningCallback, make_pruner
from .report import REPORTS, plot_search, trial_rows, write_best, write_reports
from .space import Parameter, SearchSpace, load_space, parse_key, set_value
from .study import STUDY_FILE, Sweep, TrialSeededSampler, open_study, storage_url
from .sweep import TrialPrinter, prepare_sweep, run_trials, tune
from .tomlfile import dumps
from .trial import (
    METRICS,
    Objective,
    check_experiment,
    check_space,
    default_metric,
    write_experiment,
)

__all__ = [
    "tune",
    "prepare_sweep",
    "run_trials",
    "TrialPrinter",
    "Sweep",
    "open_study",
    "storage_url",
    "TrialSeededSampler",
    "STUDY_FILE",
    "SearchSpace",
    "Parameter",
    "load_space",
    "parse_key",
    "set_value",
    "Objective",
    "METRICS",
    "check_experiment",
    "check_space",
    "default_metric",
    "write_experiment",
    "PruningCallback",
    "make_pruner",
    "PRUNERS",
    "trial_rows",
    "write_reports",
    "write_best",
    "plot_search",
    "REPORTS",
    "dumps",
]
