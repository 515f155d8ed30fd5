"""Sweeps shared by processes: two ``lincoln tune`` commands on one SQLite
study, ``--jobs``, and a real PostgreSQL server holding a shared study.

The PostgreSQL test starts its own server (Debian's ``postgresql`` package)
in a temporary folder on a free local port and stops it afterwards. Where the
server is missing or does not start, the test FAILS with the reason: it is
never skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import optuna
import pytest
from tune_helpers import (
    ROOT,
    PostgresUnavailable,
    finish,
    postgres_server,
    small_config,
    small_space,
    start_tune,
    tune_command,
)

from lincoln.tune import storage_url


def _trials_by_worker(storage: str, study: str) -> dict[str, list[int]]:
    trials = optuna.load_study(study_name=study, storage=storage).trials
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    by_worker: dict[str, list[int]] = {}
    for t in trials:
        by_worker.setdefault(t.user_attrs["worker"], []).append(t.number)
    return by_worker


def _two_commands_share_one_study(
    tmp_path: Path, storage: str, first_args: list[str], second_args: list[str]
) -> list[str]:
    """Start two ``lincoln tune`` commands of 4 trials each at once on the
    study at ``storage``; check their trials; return what they printed."""
    config, space = small_config(tmp_path), small_space(tmp_path)
    common = [str(config), "--space", str(space), "--trials", "4", "--pruner", "none"]
    commands = [
        start_tune(*common, "--out", str(tmp_path / "a"), *first_args),
        start_tune(*common, "--out", str(tmp_path / "b"), *second_args),
    ]
    printed = [finish(command) for command in commands]
    by_worker = _trials_by_worker(storage, "small")
    # each command ran its own 4 trials: disjoint, and they add up
    assert sorted(len(numbers) for numbers in by_worker.values()) == [4, 4]
    assert sorted(n for numbers in by_worker.values() for n in numbers) == list(
        range(8)
    )
    for text in printed:  # each printed its own trials
        assert sum(line.startswith("trial ") for line in text.splitlines()) == 4
    return printed


def test_two_commands_on_one_sqlite_study_run_disjoint_trials(tmp_path: Path) -> None:
    # the first keeps its study in a/study.db (the default); the second shares it
    (tmp_path / "a").mkdir()
    shared = storage_url(None, tmp_path / "a")
    _two_commands_share_one_study(tmp_path, shared, [], ["--storage", shared])


def test_jobs_run_trials_in_separate_processes(tmp_path: Path) -> None:
    config, space = small_config(tmp_path), small_space(tmp_path)
    out = tmp_path / "o"
    printed = finish(
        start_tune(
            str(config),
            "--space",
            str(space),
            "--trials",
            "5",
            "--jobs",
            "2",
            "--out",
            str(out),
            "--pruner",
            "none",
        )
    )
    by_worker = _trials_by_worker(storage_url(None, out), "small")
    assert sorted(len(n) for n in by_worker.values()) == [2, 3]
    assert "5 trials, 2 at a time" in printed
    assert "5 trials (5 complete)" in printed
    assert (out / "best.toml").is_file()


def test_a_postgresql_server_holds_a_study_two_commands_share(tmp_path: Path) -> None:
    try:
        with postgres_server() as url:
            shared = ["--storage", url]
            _two_commands_share_one_study(
                tmp_path, storage_url(url, tmp_path), shared, shared
            )
            study = optuna.load_study(
                study_name="small", storage=storage_url(url, tmp_path)
            )
            print(
                f"PostgreSQL study at {url}: {len(study.trials)} trials, best "
                f"{study.best_value:.4f}"
            )
    except PostgresUnavailable as exc:
        pytest.fail(f"the PostgreSQL test could not run: {exc}")


def test_ctrl_c_stops_every_process_and_keeps_the_finished_trials(
    tmp_path: Path,
) -> None:
    config, space, out = small_config(tmp_path), small_space(tmp_path), tmp_path / "o"
    command = tune_command(
        str(config),
        "--space",
        str(space),
        "--trials",
        "500",
        "--jobs",
        "2",
        "--out",
        str(out),
        "--pruner",
        "none",
    )
    # a session of its own: Ctrl-C in a terminal reaches its whole process group
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    assert process.stdout is not None
    finished = 0
    for line in process.stdout:
        finished += line.startswith("trial ")
        if finished == 4:
            break
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "lincoln tune: interrupted" in err
    trials = optuna.load_study(
        study_name="small", storage=storage_url(None, out)
    ).trials
    states = Counter(t.state.name for t in trials)
    assert set(states) <= {"COMPLETE", "FAIL"} and states["COMPLETE"] >= 4
    assert len(trials) < 500
    assert all(
        t.user_attrs.get("error") == "interrupted"
        for t in trials
        if t.state.name == "FAIL"
    )
    assert len((out / "trials.csv").read_text().splitlines()) == len(trials) + 1
