"""Running a sweep: trials in this process, or in ``jobs`` worker processes
that share the study's storage; Ctrl-C (or SIGTERM) stops it cleanly.

On Ctrl-C the trial being trained is recorded as failed ("interrupted"), the
finished trials stay in the study, the reports are written from them, and
:func:`tune` re-raises ``KeyboardInterrupt``; running the sweep again
continues the study.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..config import load_config
from ..errors import ConfigError, LincolnError, check_positive_int
from .pruning import PRUNERS
from .report import write_reports
from .space import load_space
from .study import Sweep, open_study, shown_url, storage_url
from .trial import METRICS, Objective, check_space, default_metric

__all__ = ["tune", "prepare_sweep", "run_trials", "TrialPrinter", "EXIT_INTERRUPTED"]

EXIT_INTERRUPTED = 130
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def prepare_sweep(
    config: str | Path,
    space: str | Path,
    *,
    out: str | Path = "sweeps",
    storage: str | None = None,
    study_name: str | None = None,
    seed: int = 0,
    pruner: str | optuna.pruners.BasePruner = "median",
    metric: str | None = None,
    verbose: bool = True,
) -> Sweep:
    """Read and check the files of a sweep; see :func:`tune` for the arguments.

    Raises:
        ConfigError: a bad experiment or search-space file (naming the file
            and key), an unknown metric or pruner, a negative seed.
    """
    exp, space_file, out = load_config(config), load_space(space), Path(out)
    metric = metric or default_metric(exp)
    if metric not in METRICS:
        raise ConfigError(
            f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}"
        )
    if isinstance(pruner, str) and pruner not in PRUNERS:
        raise ConfigError(
            f"unknown pruner {pruner!r}; choose one of: {', '.join(PRUNERS)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, received {seed!r}")
    check_space(space_file, exp, metric)
    return Sweep(
        config=exp.path,
        space=space_file.path,
        out=out,
        storage=storage_url(storage, out),
        study_name=study_name or exp.name,
        metric=metric,
        seed=seed,
        pruner=pruner,
        verbose=verbose,
    )


def tune(
    config: str | Path,
    space: str | Path,
    trials: int = 20,
    *,
    out: str | Path = "sweeps",
    storage: str | None = None,
    study_name: str | None = None,
    jobs: int = 1,
    seed: int = 0,
    pruner: str | optuna.pruners.BasePruner = "median",
    metric: str | None = None,
    verbose: bool = True,
) -> optuna.Study:
    """Run ``trials`` trials of a sweep over ``space`` starting from ``config``.

    Args:
        config: the experiment file (it must set ``[data] validation_split``:
            trials are scored on that held-out share of the training data).
        space: the search-space file (see :mod:`lincoln.tune.space`).
        trials: trials this call runs (added to those already in the study).
        out: folder for the reports, the trials' experiment files and,
            without ``storage``, the SQLite study ``study.db``.
        storage: a database URL (``postgresql://user@host/db``) shared by every
            process of the sweep; None for ``out/study.db``.
        study_name: the study's name (default: the config file's stem).
        jobs: trials run at once, each worker in its own process.
        seed: the sampler seed; trial ``n`` is sampled with ``seed + n``.
        pruner: ``"median"``, ``"halving"``, ``"none"`` or an Optuna pruner.
        metric: ``"val_accuracy"`` (maximized; the default for classifiers) or
            ``"val_loss"`` (minimized).
        verbose: print a line per finished trial.

    Returns:
        The Optuna study (``study.best_trial``, ``study.trials_dataframe()``).

    Raises:
        ConfigError: a bad file or argument, before any trial runs.
        KeyboardInterrupt: Ctrl-C or SIGTERM, after the reports are written.

    Example:
        >>> study = tune("configs/digits_mlp.toml", "configs/digits_space.toml",
        ...              trials=20, out="sweeps/digits")       # doctest: +SKIP
    """
    trials = check_positive_int("tune", "trials", trials)
    jobs = check_positive_int("tune", "jobs", jobs)
    sweep = prepare_sweep(
        config,
        space,
        out=out,
        storage=storage,
        study_name=study_name,
        seed=seed,
        pruner=pruner,
        metric=metric,
        verbose=verbose,
    )
    with _optuna_quiet(), _sigterm_as_interrupt():
        study = open_study(sweep)
        if verbose:
            print(_start_line(sweep, study, trials, jobs), flush=True)
        try:
            if jobs == 1:
                run_trials(sweep, trials, study)
            else:
                _run_processes(sweep, trials, jobs)
        except KeyboardInterrupt:
            write_reports(study, sweep)
            raise
        write_reports(study, sweep)
    return study


def _start_line(sweep: Sweep, study: optuna.Study, trials: int, jobs: int) -> str:
    done = len(study.get_trials(deepcopy=False))
    where = f"{sweep.study_name!r} in {shown_url(sweep.storage)}"
    what = (
        f"continuing study {where} ({done} trials so far)" if done else f"study {where}"
    )
    at_once = f", {jobs} at a time" if jobs > 1 else ""
    return f"{what}: {trials} trials{at_once}, {sweep.direction} {sweep.metric}"


def run_trials(sweep: Sweep, trials: int, study: optuna.Study | None = None) -> None:
    """Run ``trials`` trials of ``sweep`` in this process."""
    study = study if study is not None else open_study(sweep)
    objective = Objective(
        load_config(sweep.config),
        load_space(sweep.space),
        sweep.metric,
        sweep.trials_folder,
        sweep.seed,
    )
    interrupts = _Interrupts()
    callbacks: list[Any] = [TrialPrinter(sweep.metric)] if sweep.verbose else []
    with interrupts.handling():
        study.optimize(
            interrupts.wrap(objective),
            n_trials=trials,
            callbacks=[*callbacks, interrupts.after_trial],
        )


class _Interrupts:
    """Ctrl-C (or SIGTERM) in a trial stops it at once, and Optuna records it
    as failed; one that arrives while Optuna talks to the storage between
    trials is held until that is done, so that no trial is left "running"."""

    def __init__(self) -> None:
        self.in_trial = False
        self.pending = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.in_trial:
            raise KeyboardInterrupt
        self.pending = True

    @contextmanager
    def handling(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = [signal.signal(s, self._handler) for s in _STOP_SIGNALS]
        try:
            yield
        finally:
            for number, handler in zip(_STOP_SIGNALS, previous, strict=True):
                signal.signal(number, handler)

    def wrap(self, objective: Objective) -> Any:
        def interruptible(trial: optuna.Trial) -> float:
            self.in_trial = True
            try:
                if self.pending:  # came while Optuna created this trial
                    trial.set_user_attr("error", "interrupted")
                    raise KeyboardInterrupt
                return objective(trial)
            finally:
                self.in_trial = False

        return interruptible

    def after_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.pending:  # the trial is stored: now stop
            raise KeyboardInterrupt


class TrialPrinter:
    """An Optuna callback printing one line per finished trial."""

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        attrs = trial.user_attrs
        if trial.state == TrialState.COMPLETE:
            outcome = f"{self.metric} {trial.value:.4f}"
        elif trial.state == TrialState.PRUNED:
            outcome = f"pruned after epoch {attrs.get('pruned_epoch')}"
        else:
            outcome = f"failed: {attrs.get('error', 'see above')}"
        drawn = " ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        try:
            best = study.best_trial
            so_far = f" (best: trial {best.number}, {best.value:.4f})"
        except ValueError:  # no finished trial yet
            so_far = ""
        print(f"trial {trial.number}: {outcome}  {drawn}{so_far}", flush=True)

    def __repr__(self) -> str:
        return f"TrialPrinter(metric={self.metric!r})"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _worker(sweep: Sweep, trials: int) -> None:
    """A worker process's trials (the target of ``--jobs``)."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        run_trials(sweep, trials)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except (LincolnError, OSError) as exc:
        print(f"lincoln tune: error: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)


def _run_processes(sweep: Sweep, trials: int, jobs: int) -> None:
    """Share ``trials`` among ``jobs`` worker processes and wait for them."""
    shares = [trials // jobs + (i < trials % jobs) for i in range(jobs)]
    context = multiprocessing.get_context("spawn")  # no forked database handles
    workers = [
        context.Process(target=_worker, args=(sweep, n), name=f"lincoln-tune-{i}")
        for i, n in enumerate(shares)
        if n
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        _stop_workers(workers)
        raise
    codes = [w.exitcode for w in workers]
    if EXIT_INTERRUPTED in codes:
        raise KeyboardInterrupt
    failed = sum(code != 0 for code in codes)
    if failed:
        raise LincolnError(
            f"{failed} of {len(workers)} trial processes failed (see above); the "
            "finished trials are kept"
        )


def _stop_workers(workers: list[Any]) -> None:
    """Ctrl-C in a terminal reaches the workers too; one sent to this process
    alone is passed on to each worker still running (by its process id)."""
    for worker in workers:
        worker.join(timeout=2)
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGINT)
    for worker in workers:
        worker.join(timeout=60)
        if worker.is_alive():
            worker.terminate()
            worker.join()


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (e.g. from a job scheduler) stops the sweep as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _optuna_quiet() -> Iterator[None]:
    """Optuna's own log lines off (each trial gets one line of ours)."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)
