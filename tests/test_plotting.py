"""lincoln.plotting: learning curves to PNG, and a clear message without matplotlib."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest

from lincoln import LincolnError, cli
from lincoln.plotting import load_history, plot_history
from lincoln.train import History

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_history(accuracy: bool = True) -> History:
    history = History(
        epochs=[2, 4, 6],
        val_loss=[0.9, 0.5, 0.6],
        train_loss=[1.5, 1.0, 0.7, 0.5, 0.4, 0.35],
        lr=[0.1] * 6,
        epoch_time=[0.01] * 6,
        best_epoch=4,
        best_val_loss=0.5,
        stop_reason="early_stopping",
        stopped_epoch=6,
    )
    if accuracy:
        history.val_accuracy = [0.7, 0.85, 0.84]
    return history


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run directory as ``lincoln train --out`` writes it (history files only)."""
    run = tmp_path / "run"
    run.mkdir()
    make_history().to_json(run / "history.json")
    make_history().to_csv(run / "history.csv")
    return run


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import matplotlib...`` fail, as if it were not installed."""
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000  # axes, curves and text, not an empty canvas


def test_plot_history_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    fig = plot_history(make_history(), out)
    assert_png(out)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Loss", "Accuracy"]
    loss_ax = fig.axes[0]
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["train (mean per epoch)", "validation", "best (epoch 4)"]
    train, val = loss_ax.get_lines()[:2]
    assert list(train.get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(val.get_xdata()) == [2, 4, 6]


def test_regression_history_draws_loss_only(tmp_path: Path) -> None:
    fig = plot_history(make_history(accuracy=False), tmp_path / "loss.png")
    assert [ax.get_title() for ax in fig.axes] == ["Loss"]
    assert_png(tmp_path / "loss.png")


def test_plot_from_run_directory_and_from_json(run_dir: Path) -> None:
    fig = plot_history(run_dir, run_dir / "a.png")
    assert "run" in fig.get_suptitle() and "early_stopping" in fig.get_suptitle()
    plot_history(run_dir / "history.json", run_dir / "b.png")
    assert_png(run_dir / "a.png")
    assert_png(run_dir / "b.png")


def test_load_history_round_trips(run_dir: Path) -> None:
    assert load_history(run_dir) == make_history()


def test_load_history_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no history.json here"):
        load_history(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        load_history(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LincolnError, match="invalid JSON"):
        load_history(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"loss": 1}))
    with pytest.raises(LincolnError, match="no 'train_loss'"):
        load_history(tmp_path / "other.json")


def test_empty_history_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LincolnError, match="no epochs"):
        plot_history(History(), tmp_path / "x.png")


def test_missing_matplotlib_raises_import_error_with_the_fix(
    no_matplotlib: None, tmp_path: Path
) -> None:
    with pytest.raises(ImportError, match=r"pip install 'lincoln\[plot\]'"):
        plot_history(make_history(), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# -- the command --------------------------------------------------------------------


def test_cli_plot_writes_png_into_run_dir(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plot", str(run_dir)]) == 0
    assert_png(run_dir / "history.png")
    assert f"wrote {run_dir / 'history.png'}" in capsys.readouterr().out


def test_cli_plot_out_option(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    assert cli.main(["plot", str(run_dir), "--out", str(out)]) == 0
    assert_png(out)


def test_cli_plot_without_matplotlib_one_line_exit_1(
    run_dir: Path, no_matplotlib: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plot", str(run_dir)]) == 1
    captured = capsys.readouterr()
    assert (
        captured.err == "lincoln plot needs matplotlib: pip install 'lincoln[plot]'\n"
    )
    assert captured.out == ""
    assert not (run_dir / "history.png").exists()


def test_cli_plot_missing_run_dir_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plot", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lincoln plot: error:" in err and "nope" in err
