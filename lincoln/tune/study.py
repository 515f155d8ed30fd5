"""The study: where trials are stored, how they are sampled, who runs them.

Without a storage URL the study is a SQLite file in the output folder
(``study.db``); running the same sweep again loads it and adds trials. With a
server's URL (``postgresql://...``, ``mysql+pymysql://...``) any number of
``lincoln tune`` processes, on any number of machines, share one study: each
asks the storage for its next trial, so their trials are disjoint.

Sampling is reproducible: trial ``n`` is sampled by a TPE sampler seeded with
``seed + n`` from the trials finished before it, so one process with a fixed
seed draws the same sequence of trials whether it runs them at once or over
several resumed runs.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import optuna
import sqlalchemy.exc
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from ..errors import ConfigError, LincolnError
from .pruning import make_pruner

__all__ = [
    "Sweep",
    "TrialSeededSampler",
    "open_study",
    "storage_url",
    "shown_url",
    "STUDY_FILE",
]

STUDY_FILE = "study.db"  # the default study, in the output folder


@dataclass(frozen=True)
class Sweep:
    """Everything a process needs to run trials of one sweep (picklable, so
    that ``--jobs`` can hand it to worker processes).

    Attributes:
        config, space: the experiment and search-space files.
        out: the output folder (trial files, the default SQLite study, reports).
        storage: the study's database URL.
        study_name: the study's name in the storage.
        metric: ``val_accuracy`` (maximized) or ``val_loss`` (minimized).
        seed: the sampler seed.
        pruner: ``median``, ``halving`` or ``none``, or an Optuna pruner.
        verbose: print a line per finished trial.
    """

    config: Path
    space: Path
    out: Path
    storage: str
    study_name: str
    metric: str
    seed: int = 0
    pruner: str | optuna.pruners.BasePruner = "median"
    verbose: bool = True

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "maximize" if self.metric == "val_accuracy" else "minimize"

    @property
    def trials_folder(self) -> Path:
        return self.out / "trials"


def storage_url(storage: str | None, out: Path) -> str:
    """The study's database URL: ``out/study.db`` when none is given.

    ``postgresql://`` (or ``postgres://``) is read with psycopg 3, the driver
    the ``tune`` extra installs (SQLAlchemy's default is psycopg2).
    """
    if storage is None:
        return f"sqlite:///{(out / STUDY_FILE).resolve()}"
    for scheme in ("postgresql://", "postgres://"):
        if storage.startswith(scheme):
            return "postgresql+psycopg://" + storage[len(scheme) :]
    return storage


class TrialSeededSampler(BaseSampler):
    """A TPE sampler seeded afresh for each trial with ``seed + trial.number``.

    One seeded sampler for a whole study would start again from its seed in a
    resumed run and repeat the first trials; seeding by trial number gives
    every trial its own, recorded seed.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._sampler = TPESampler(seed=seed)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._sampler = TPESampler(seed=self.seed + trial.number)
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Any,
    ) -> None:
        self._sampler.after_trial(study, trial, state, values)

    def __repr__(self) -> str:
        return f"TrialSeededSampler(seed={self.seed})"


def _sqlite_engine(url: str) -> dict[str, Any]:
    """Engine arguments for a SQLite study: writers wait for the lock (up to
    two minutes) instead of failing after 5 s, and the write-ahead log with
    ``synchronous=NORMAL`` makes a commit cost no disk flush (a crash of the
    process loses nothing; a power cut may lose the last trials)."""
    path = url.removeprefix("sqlite:///")
    Path(path).parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=120, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return {"creator": connect}


def shown_url(url: str) -> str:
    """``url`` with its password, if any, as ``***`` (for messages)."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def _storage(url: str) -> optuna.storages.RDBStorage:
    """The RDB storage at ``url``; processes starting at the same moment may
    race to create its tables, so a failed first connection is retried.

    Raises:
        LincolnError: the database cannot be reached or its driver is missing.
    """
    engine = _sqlite_engine(url) if url.startswith("sqlite:///") else {}
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
        except ImportError as exc:
            raise LincolnError(
                f"the study at {shown_url(url)} needs a database driver: {exc}"
            ) from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            time.sleep(0.2 * (attempt + 1))
    raise LincolnError(f"cannot open the study at {shown_url(url)}: {reason}")


def open_study(sweep: Sweep) -> optuna.Study:
    """Create the sweep's study, or load it if it exists.

    Raises:
        ConfigError: the stored study optimizes another metric.
    """
    pruner = sweep.pruner
    if isinstance(pruner, str):
        pruner = make_pruner(pruner)
    study = optuna.create_study(
        storage=_storage(sweep.storage),
        study_name=sweep.study_name,
        direction=sweep.direction,
        load_if_exists=True,
        sampler=TrialSeededSampler(sweep.seed),
        pruner=pruner,
    )
    expected = (
        StudyDirection.MAXIMIZE
        if sweep.direction == "maximize"
        else StudyDirection.MINIMIZE
    )
    stored = study.user_attrs.get("metric")
    if (stored or sweep.metric) != sweep.metric or study.direction != expected:
        what = stored or f"to {study.direction.name.lower()}"
        where = shown_url(sweep.storage)
        advice = f", or --metric {stored}" if stored else ""
        raise ConfigError(
            f"study {sweep.study_name!r} in {where} optimizes {what}, not "
            f"{sweep.metric}: give another --study name{advice}"
        )
    if stored is None:
        study.set_user_attr("metric", sweep.metric)
        study.set_user_attr("config", str(sweep.config))
    return study
