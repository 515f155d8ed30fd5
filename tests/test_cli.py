"""The ``lincoln`` command: the main job, the run directory, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lincoln import cli

ROOT = Path(__file__).resolve().parent.parent


def test_default_config_reaches_95_percent_on_bundled_digits(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = cli.main(["train", "--out", str(out), "--quiet"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.95
    assert metrics["train_seconds"] < 60
    history = json.loads((out / "history.json").read_text())
    assert history["val_accuracy"] and len(history["train_loss"]) == metrics["epochs_run"]
    assert (out / "config.toml").read_text() == (ROOT / "configs" / "digits_mlp.toml").read_text()
    assert (out / "history.csv").read_text().startswith("epoch,train_loss")
    assert "test accuracy" in capsys.readouterr().out


def test_console_script_runs_and_reports(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "lincoln"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lincoln.cli"]
    result = subprocess.run(cmd + ["train", "--quiet"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert result.returncode == 0, result.stderr
    assert "digits_mlp.toml: test accuracy 0.9" in result.stdout


def test_bad_config_is_one_line_error_and_exit_1(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "configs" / "digits_mlp.toml").read_text().replace(
        'type = "sgd_momentum"', 'type = "sgdm"'))
    assert cli.main(["train", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.toml" in err and "optimizer.type" in err and "sgd_momentum" in err


def test_missing_config_file_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["train", str(tmp_path / "nope.toml")]) == 1
    assert "config file not found" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
