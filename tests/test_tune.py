"""lincoln.tune in one process: search spaces, the trial, pruning, seeds,
resuming, Ctrl-C, the reports, and the digits sweep against the default config."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from tune_helpers import (
    DIGITS_CONFIG,
    DIGITS_SPACE,
    ROOT,
    free_port,
    small_config,
    small_space,
)

from lincoln import cli
from lincoln.config import load_config, run_experiment
from lincoln.errors import ConfigError, LincolnError
from lincoln.network import NeuralNetwork
from lincoln.tune import dumps, load_space, parse_key, tune

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# -- search spaces ----------------------------------------------------------------


def test_a_space_names_keys_and_their_ranges(tmp_path: Path) -> None:
    space = load_space(
        small_space(
            tmp_path,
            '"optimizer.lr" = {low = 1e-4, high = 0.1, log = true}\n'
            '"model.layers[0].neurons" = [64, 128, 256]\n'
            '"trainer.batch_size" = {low = 16, high = 64, step = 16}\n'
            "trainer.patience = {choices = [1, 2]}\n",
        )
    )
    dists = {p.key: p.distribution for p in space.parameters}
    assert isinstance(dists["optimizer.lr"], optuna.distributions.FloatDistribution)
    assert dists["optimizer.lr"].log
    assert dists["model.layers[0].neurons"].choices == (64, 128, 256)  # type: ignore[attr-defined]
    assert isinstance(dists["trainer.batch_size"], optuna.distributions.IntDistribution)
    assert "trainer.patience" in dists  # an unquoted dotted key is the same key
    assert parse_key("model.layers[0].neurons") == ("model", "layers", 0, "neurons")
    config = space.apply(
        load_config(DIGITS_CONFIG).config, {"model.layers[0].neurons": 128}
    )
    assert config["model"]["layers"][0]["neurons"] == 128


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('"optimizer.lr" = {low = 0.1, high = 0.01}', "optimizer.lr", "low"),
        ('"optimizer.lr" = {low = 0.0, high = 0.1, log = true}', "optimizer.lr", "log"),
        ('"optimizer.lr" = {low = 0.01, hi = 0.1}', "optimizer.lr", "unknown key 'hi'"),
        ('"optimizer.lr" = []', "optimizer.lr", "at least one choice"),
        ('"optimizer.lr" = 0.1', "optimizer.lr", "list of choices or a range"),
        ('"optimiser.lr" = [0.1]', "optimiser.lr", "must start with a section"),
        ('"model.layers[x].neurons" = [8]', "model.layers[x].neurons", "not a key"),
        ('"model.layers[5].neurons" = [8]', "model.layers[5].neurons", "2 entries"),
        ('"model.layers[0].neurons" = [0, 8]', "model.layers[0].neurons", "value 0"),
        ('"trainer.epoch" = [3]', "trainer.epoch", "unknown key"),
        ('"optimizer.lr" = [0.001]', "optimizer.lr", "final_lr must not exceed lr"),
        ('"data.validation_split" = [1.5]', "data.validation_split", "1.5"),
        ("", "", "names no key"),
    ],
)
def test_a_bad_space_is_one_error_naming_the_file_and_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    space = small_space(tmp_path, text + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        tune(DIGITS_CONFIG, space, trials=1, out=tmp_path / "out", verbose=False)
    assert str(info.value).startswith(f"{space}: {key}")
    assert not (tmp_path / "out" / "study.db").exists()  # checked before any trial


def test_a_sweep_needs_a_validation_split(tmp_path: Path) -> None:
    config = load_config(DIGITS_CONFIG).config
    del config["data"]["validation_split"]
    path = tmp_path / "no_split.toml"
    path.write_text(dumps(config))
    with pytest.raises(ConfigError, match="data.validation_split.*never on the test"):
        tune(path, small_space(tmp_path), trials=1, out=tmp_path, verbose=False)


@pytest.mark.parametrize("name", sorted(p.name for p in ROOT.glob("configs/**/*.toml")))
def test_dumps_writes_what_tomllib_reads_back(name: str) -> None:
    path = next(ROOT.glob(f"configs/**/{name}"))
    data = tomllib.loads(path.read_text())
    assert tomllib.loads(dumps(data, "a comment\nover two lines")) == data


# -- trials: scored on validation, pruned where the pruner fires, seeded ----------


class PruneTrialsAtEpoch(optuna.pruners.BasePruner):
    """Prunes every trial but the first at its report for ``epoch``."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return trial.number > 0 and trial.last_step == self.epoch


def test_a_pruned_trial_stops_at_the_evaluation_where_the_pruner_fired(
    tmp_path: Path,
) -> None:
    config = small_config(tmp_path, epochs=8, eval_every=2)
    study = tune(
        config,
        small_space(tmp_path),
        trials=3,
        out=tmp_path / "o",
        pruner=PruneTrialsAtEpoch(4),
        verbose=False,
    )
    first, *pruned = study.trials
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert sorted(first.intermediate_values) == [2, 4, 6, 8]
    for trial in pruned:
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert sorted(trial.intermediate_values) == [2, 4]  # nothing after epoch 4
        assert trial.user_attrs["pruned_epoch"] == 4
        assert trial.user_attrs["epochs_run"] == 4  # training stopped right there


def test_the_median_pruner_stops_trials_at_their_last_evaluation(
    tmp_path: Path,
) -> None:
    config = small_config(tmp_path, epochs=8, eval_every=2)
    space = small_space(
        tmp_path, '"optimizer.lr" = {low = 0.005, high = 2.0, log = true}\n'
    )
    study = tune(config, space, trials=14, out=tmp_path / "o", verbose=False)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "no trial was pruned"
    for trial in pruned:
        epoch = trial.user_attrs["pruned_epoch"]
        assert trial.last_step == epoch == trial.user_attrs["epochs_run"] < 8
        # the rule that fired: this trial's best report so far is worse than the
        # median of the finished (not pruned) earlier trials' at the same epoch
        finished = [
            t.intermediate_values[epoch]
            for t in study.trials[: trial.number]
            if t.state == optuna.trial.TrialState.COMPLETE
        ]
        assert len(finished) >= 5  # the median pruner's startup trials
        assert max(trial.intermediate_values.values()) < np.median(finished)


def test_a_trial_is_scored_on_validation_and_best_toml_reproduces_it(
    tmp_path: Path,
) -> None:
    study = tune(
        small_config(tmp_path),
        small_space(tmp_path),
        trials=3,
        out=tmp_path / "o",
        pruner="none",
        verbose=False,
    )
    best = study.best_trial
    _, metrics, _ = run_experiment(tmp_path / "o" / "best.toml", verbose=False)
    assert metrics["best_val_accuracy"] == best.value  # the same, to the last digit
    experiment = best.user_attrs["experiment"]
    assert best.params["optimizer.lr"] == experiment["optimizer"]["lr"]
    assert (
        best.params["model.layers[0].neurons"]
        == (experiment["model"]["layers"][0]["neurons"])
    )
    assert (tmp_path / "o" / "trials" / f"trial_{best.number:04d}.toml").is_file()


def test_the_test_set_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = NeuralNetwork.forward

    def forward(self, X, inference=False):  # type: ignore[no-untyped-def]
        seen.append(len(X))
        return real(self, X, inference)

    monkeypatch.setattr(NeuralNetwork, "forward", forward)
    tune(
        small_config(tmp_path),
        small_space(tmp_path),
        trials=1,
        out=tmp_path,
        verbose=False,
    )
    # 1,347 training digits: 1,212 trained on in batches of 32, 135 validated
    assert max(seen) == 135 and 450 not in seen


def test_same_seed_same_trials_whether_run_at_once_or_resumed(tmp_path: Path) -> None:
    config, space = small_config(tmp_path), small_space(tmp_path)

    def run(out: str, *counts: int, seed: int = 3) -> list[tuple]:
        for n in counts:
            study = tune(config, space, n, out=tmp_path / out, seed=seed, verbose=False)
        return [(t.params, t.value, t.user_attrs["seed"]) for t in study.trials]

    at_once = run("a", 12)
    assert run("b", 5, 7) == at_once  # a resumed study continues the sequence
    assert [seed for _, _, seed in at_once] == list(range(3, 15))
    assert run("c", 12, seed=4) != at_once


def test_ctrl_c_keeps_the_finished_trials_and_the_same_command_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, space, out = small_config(tmp_path), small_space(tmp_path), tmp_path / "o"
    args = [
        "tune",
        str(config),
        "--space",
        str(space),
        "--trials",
        "6",
        "--out",
        str(out),
        "--pruner",
        "none",
    ]
    real, calls = NeuralNetwork.train_batch, {"n": 0}

    def train_batch(self, X, y, inference=False):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 38 * 6 * 3 + 100:  # in the 4th trial (38 batches an epoch)
            raise KeyboardInterrupt
        return real(self, X, y, inference)

    monkeypatch.setattr(NeuralNetwork, "train_batch", train_batch)
    assert cli.main(args) == 130
    assert "interrupted" in capsys.readouterr().err
    rows = list(csv.DictReader(open(out / "trials.csv")))
    assert [r["state"] for r in rows] == ["complete"] * 3 + ["fail"]
    assert rows[3]["error"] == "interrupted"
    assert (out / "best.toml").is_file()

    monkeypatch.setattr(NeuralNetwork, "train_batch", real)
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "continuing study 'small'" in printed and "(4 trials so far)" in printed
    states = [
        t["state"] for t in json.loads((out / "trials.json").read_text())["trials"]
    ]
    assert states == ["complete"] * 3 + ["fail"] + ["complete"] * 6


def test_the_command_writes_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    code = cli.main(
        [
            "tune",
            str(small_config(tmp_path)),
            "--space",
            str(small_space(tmp_path)),
            "--trials",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "trial 0: val_accuracy" in printed and "best: trial" in printed
    for name in ("best.toml", "trials.csv", "trials.json", "search.png", "study.db"):
        assert (out / name).is_file(), name
    load_config(out / "best.toml")  # a valid experiment file
    assert cli.main(["tune", "--space", "missing.toml"]) == 1
    assert "missing.toml: search-space file not found" in capsys.readouterr().err


def test_the_study_keeps_its_metric(tmp_path: Path) -> None:
    config, space = small_config(tmp_path), small_space(tmp_path)
    tune(config, space, 1, out=tmp_path, verbose=False)
    with pytest.raises(ConfigError, match="optimizes val_accuracy, not val_loss"):
        tune(config, space, 1, out=tmp_path, metric="val_loss", verbose=False)


# -- the digits sweep ---------------------------------------------------------------


def test_twenty_trials_on_digits_match_or_beat_the_default_config(
    tmp_path: Path,
) -> None:
    _, default, _ = run_experiment(DIGITS_CONFIG, verbose=False)
    study = tune(DIGITS_CONFIG, DIGITS_SPACE, trials=20, out=tmp_path, verbose=False)
    assert len(study.trials) == 20
    baseline = default["best_val_accuracy"]
    print(f"digits: sweep {study.best_value:.4f}, default {baseline:.4f}")
    assert study.best_value >= baseline


def test_an_unreachable_database_is_one_line_without_its_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://lincoln:secret@127.0.0.1:{free_port()}/sweeps"
    with pytest.raises(
        LincolnError, match=r"cannot open the study at .*lincoln:\*\*\*@"
    ):
        tune(
            small_config(tmp_path),
            small_space(tmp_path),
            1,
            out=tmp_path,
            storage=url,
            verbose=False,
        )
