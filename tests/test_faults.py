"""Fault injection: each row of issue 14 ("run directories that never lie,
failures found before training, not after"), provoked and checked.

A full file system is an ``OSError(ENOSPC)`` raised from a write; ``kill -9``
during a save is the temporary file it leaves behind (named as lincoln names
them, by a process that is gone); concurrency is two real ``lincoln train``
processes writing one ``--out``.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lincoln
from lincoln import cli
from lincoln._files import remove_stale_temps
from lincoln.config import run as run_module
from lincoln.datasets import load_digits
from lincoln.errors import LincolnError
from lincoln.network import NeuralNetwork
from lincoln.train import History, Trainer
from lincoln.training import checkpoint as checkpoint_module

CONFIG = """\
[data]
name = "digits"
preprocess = "{preprocess}"
limit_train = 300

[model]
loss = "softmax_cross_entropy"
seed = 1

[[model.layers]]
type = "dense"
neurons = {neurons}
activation = "relu"

[[model.layers]]
type = "dense"
neurons = 10

[optimizer]
type = "sgd"
lr = 0.05

[trainer]
epochs = {epochs}
eval_every = 1
batch_size = 50
"""

RUN_FILES = {
    "config.toml",
    "history.json",
    "history.csv",
    "metrics.json",
    "model.npz",
    "preprocess.npz",
}


def write_config(
    path: Path, neurons: int = 16, preprocess: str = "standardize", epochs: int = 2
) -> Path:
    path.write_text(
        CONFIG.format(neurons=neurons, preprocess=preprocess, epochs=epochs)
    )
    return path


def train(*argv: str) -> int:
    return cli.main(["train", *argv, "--quiet", "--no-progress"])


def lincoln_process(*argv: str) -> subprocess.Popen[str]:
    """``lincoln ARGV`` as a separate process, as a user starts it."""
    code = "import sys; from lincoln.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "lincoln-" in p.name)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "small.toml")


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any data is loaded."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("data was loaded before --out was checked")

    monkeypatch.setattr(run_module, "load_data_and_scaler", refuse)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lincoln train: error: "), err
    return err


# -- --out that cannot be written: found before training ---------------------------


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_out_in_proc_fails_in_under_a_second_before_any_data(
    config: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.perf_counter()
    assert train(str(config), "--out", "/proc/foo") == 1
    assert time.perf_counter() - start < 1.0
    err = one_error_line(capsys)
    assert "--out /proc/foo: cannot write a run directory in /proc" in err
    assert not Path("/proc/foo").exists()


def test_out_in_a_read_only_folder_fails_before_any_data(
    tmp_path: Path,
    config: Path,
    no_data: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Permissions do not bind root (as CI runs): the folder refuses new entries
    # the way a read-only one does, with EACCES from mkdir.
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkdir = Path.mkdir

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        if self.parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert train(str(config), "--out", str(locked / "run")) == 1
    assert f"--out {locked / 'run'}: cannot write" in one_error_line(capsys)
    assert list(locked.iterdir()) == []


def test_out_below_a_file_or_being_a_file_fails_before_any_data(
    tmp_path: Path, config: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert train(str(config), "--out", str(a_file / "run")) == 1
    assert f"--out {a_file / 'run'}: cannot write" in one_error_line(capsys)
    assert train(str(config), "--out", str(a_file)) == 1
    assert "exists and is not a directory" in one_error_line(capsys)
    assert a_file.read_text() == "mine"


def test_an_existing_run_is_refused_before_training_and_replaced_with_force(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert train(str(config), "--out", str(out)) == 0
    (out / "mine.txt").write_text("added by hand")
    capsys.readouterr()
    other = write_config(tmp_path / "other.toml", neurons=7)
    assert train(str(other), "--out", str(out)) == 1
    assert "already holds a run; give --force" in one_error_line(capsys)
    assert (out / "mine.txt").is_file()  # untouched
    assert train(str(other), "--out", str(out), "--force") == 0
    assert f"run directory: {out} (replaced)" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert (out / "config.toml").read_text() == other.read_text()
    assert leftovers(tmp_path) == []


def test_a_folder_of_other_files_is_never_replaced(
    tmp_path: Path, config: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "cat.jpg").write_bytes(b"\xff\xd8")
    assert train(str(config), "--out", str(out), "--force") == 1
    assert "not a run directory" in one_error_line(capsys)
    assert (out / "cat.jpg").is_file()


def test_checkpoint_dir_that_is_a_file_fails_before_the_first_epoch(
    tmp_path: Path, digits: tuple[np.ndarray, ...]
) -> None:
    X_train, X_test, y_train, y_test = digits
    a_file = tmp_path / "ckpt"
    a_file.write_text("mine")
    net = NeuralNetwork(
        [lincoln.Dense(4), lincoln.Dense(10)], lincoln.SoftmaxCrossEntropy(), seed=1
    )
    trainer = Trainer(net, lincoln.SGD(0.1), checkpoint_dir=a_file)
    with pytest.raises(LincolnError, match=f"checkpoint_dir {a_file}: exists and is"):
        trainer.fit(X_train, y_train, X_test, y_test, epochs=1)
    assert trainer.history is not None and trainer.history.train_loss == []
    blocked = a_file / "sub"
    with pytest.raises(LincolnError, match=f"checkpoint_dir {blocked}: cannot be"):
        Trainer(net, lincoln.SGD(0.1), checkpoint_dir=blocked).fit(
            X_train, y_train, X_test, y_test, epochs=1
        )


def test_save_to_a_folder_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = NeuralNetwork([lincoln.Dense(3)], seed=1)
    monkeypatch.chdir(tmp_path)
    for target in (".", str(tmp_path), "..", tmp_path / "."):
        with pytest.raises(IsADirectoryError, match="it is a folder; give a file name"):
            net.save(target)
    assert list(tmp_path.iterdir()) == []


# -- a full disk while the run directory is written ----------------------------------


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_names_the_file_and_keeps_the_model(
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_write_text = Path.write_text

    def full_at_metrics(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == "metrics.json":
            raise _enospc()
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_at_metrics)
    out = tmp_path / "run"
    assert train(str(config), "--out", str(out)) == 1
    captured = capsys.readouterr()
    assert "test accuracy" in captured.out  # the figures are not lost
    err = captured.err
    assert err.count("\n") == 1
    kept = tmp_path / f"run.incomplete-{os.getpid()}"
    assert f"run directory {out} not written: metrics.json: No space left" in err
    assert f"config.toml, model.npz, preprocess.npz kept in {kept}" in err
    assert not out.exists()  # never a run directory that lies
    assert lincoln.load(kept / "model.npz").count_params() > 0
    assert leftovers(tmp_path) == []


def test_a_full_disk_at_the_model_leaves_the_previous_run(
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    assert train(str(config), "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(self: NeuralNetwork, path: object) -> None:
        raise _enospc()

    monkeypatch.setattr(NeuralNetwork, "save", full)
    capsys.readouterr()
    assert train(str(config), "--out", str(out), "--force") == 1
    err = one_error_line(capsys)
    assert "model.npz: No space left on device" in err and "kept" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_a_full_disk_in_atomic_write_names_the_file(tmp_path: Path) -> None:
    from lincoln._files import atomic_write

    target = tmp_path / "model.npz"
    with pytest.raises(OSError, match="No space left") as info:
        with atomic_write(target):
            raise _enospc()
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


# -- two runs into one --out at once -------------------------------------------------


def _run_of(out: Path, configs: dict[str, Path]) -> str:
    """Which of ``configs`` every file of the run directory ``out`` comes from."""
    assert {p.name for p in out.iterdir()} == RUN_FILES
    text = (out / "config.toml").read_text()
    (name,) = [n for n, c in configs.items() if c.read_text() == text]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"] == str(configs[name])
    net = lincoln.load(out / "model.npz")
    assert net.params()[0].shape[1] == {"a": 16, "b": 7}[name]
    scaler = lincoln.datasets.Standardizer.load(out / "preprocess.npz")
    assert scaler.mean is not None
    assert scaler.mean.ndim == {"a": 1, "b": 0}[name]  # per feature / scale
    history = json.loads((out / "history.json").read_text())
    assert len(history["train_loss"]) == {"a": 2, "b": 3}[name]
    return name


@pytest.mark.parametrize("force", [True, False])
def test_two_concurrent_runs_leave_one_complete_run(
    tmp_path: Path, force: bool
) -> None:
    configs = {
        "a": write_config(tmp_path / "a.toml", neurons=16, epochs=2),
        "b": write_config(tmp_path / "b.toml", neurons=7, preprocess="scale", epochs=3),
    }
    out = tmp_path / "same_dir"
    extra = ["--force"] if force else []
    for _ in range(2):
        procs = [
            lincoln_process("train", str(c), "--out", str(out), "--quiet", *extra)
            for c in configs.values()
        ]
        results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
        codes = sorted(code for code, _ in results)
        _run_of(out, configs)
        if force:
            assert codes == [0, 0], results
        else:  # one wins; the other says where its run went, or was refused
            assert codes in ([0, 1], [1, 1]), results
            for code, err in results:
                assert code == 0 or "--out" in err and err.count("\n") == 1
            for kept in tmp_path.glob("same_dir.new-*"):
                _run_of(kept, configs)
        assert leftovers(tmp_path) == []


# -- predict --raw-input -------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("digits_run")
    config = write_config(folder / "digits.toml", epochs=3)
    assert train(str(config), "--out", str(folder / "run")) == 0
    return folder / "run"


@pytest.mark.parametrize("prepared", ["scaled", "standardized"])
def test_predict_raw_input_refuses_prepared_samples(
    digits_run: Path,
    tmp_path: Path,
    prepared: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, _ = load_digits()  # values in [0, 1]: load_digits scales by default
    if prepared == "standardized":  # as the training data was prepared
        X = lincoln.datasets.Standardizer().fit(X).transform(X)
    samples = tmp_path / "samples.npy"
    np.save(samples, X[:20])
    argv = ["predict", str(digits_run), str(samples), "--raw-input"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "look already prepared" in err
    assert "training data's raw values were in [0, 16]" in err
    assert "leave out --raw-input" in err


def test_predict_raw_input_takes_raw_samples(
    digits_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    X, _ = load_digits(normalize=False)  # as the data set holds them: 0..16
    samples = tmp_path / "samples.npy"
    np.save(samples, X[:200])
    capsys.readouterr()
    assert cli.main(["predict", str(digits_run), str(samples), "--raw-input"]) == 0
    predicted = np.array(capsys.readouterr().out.split(), dtype=int)
    scaler = lincoln.datasets.Standardizer.load(digits_run / "preprocess.npz")
    assert scaler.raw is not None and (scaler.raw["min"], scaler.raw["max"]) == (0, 16)
    net = lincoln.load(digits_run / "model.npz")
    expected = net.predict(scaler.transform(X[:200])).argmax(axis=1)
    np.testing.assert_array_equal(predicted, expected)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "no_mean"])
def test_a_damaged_preprocess_npz_is_one_line(
    digits_run: Path,
    tmp_path: Path,
    damage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.npz").write_bytes((digits_run / "model.npz").read_bytes())
    good = (digits_run / "preprocess.npz").read_bytes()
    contents = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "garbage": bytes(range(256)) * 4,
    }
    if damage == "no_mean":
        np.savez(run / "preprocess.npz", std=np.ones(64))
    else:
        (run / "preprocess.npz").write_bytes(contents[damage])
    samples = tmp_path / "samples.npy"
    np.save(samples, load_digits(normalize=False)[0][:5])
    capsys.readouterr()
    assert cli.main(["predict", str(run), str(samples), "--raw-input"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{run / 'preprocess.npz'}: not a saved Standardizer" in err


# -- files lincoln reads -------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)), "# café, latin-1\n[data]\nname = 'digits'\n".encode("latin-1")],
    ids=["binary", "latin1"],
)
def test_a_non_utf8_config_is_one_line(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    assert train(str(path)) == 1
    err = one_error_line(capsys)
    assert f"{path}: not a UTF-8 text file (byte 0x" in err


def test_a_missing_data_path_is_never_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "nonexistent" / "typo"
    config = tmp_path / "mnist.toml"
    config.write_text(
        write_config(tmp_path / "x.toml")
        .read_text()
        .replace('name = "digits"', f'name = "mnist"\npath = "{typo}"')
    )
    assert train(str(config)) == 1
    assert "does not exist" in one_error_line(capsys)
    assert not (tmp_path / "nonexistent").exists()


# -- a checkpoint write that fails during fit ----------------------------------------


def test_a_failed_checkpoint_write_stops_training_with_the_best_parameters(
    tmp_path: Path,
    digits: tuple[np.ndarray, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X_train, X_test, y_train, y_test = digits
    real = checkpoint_module.save_checkpoint
    calls = {"n": 0}

    def full_at_epoch_4(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", full_at_epoch_4)
    net = NeuralNetwork(
        [lincoln.Dense(16), lincoln.Dense(10)], lincoln.SoftmaxCrossEntropy(), seed=1
    )
    trainer = Trainer(net, lincoln.SGD(1.0), checkpoint_dir=tmp_path / "ckpt")
    with pytest.warns(RuntimeWarning, match="cannot write checkpoint .*last.ckpt.npz"):
        history = trainer.fit(
            X_train, y_train, X_test, y_test, epochs=10, eval_every=1, verbose=False
        )
    assert history.stop_reason == "checkpoint_failed"
    assert history.stopped_epoch == 4 and len(history.train_loss) == 4
    assert history.held_epoch == history.best_epoch
    best = lincoln.load(tmp_path / "ckpt" / "best.npz")
    for kept, saved in zip(net.params(), best.params(), strict=True):
        np.testing.assert_array_equal(kept, saved)
    (callback,) = [c for c in trainer.callbacks if hasattr(c, "error")]
    assert isinstance(callback.error, OSError)


# -- temporary files of a killed save ------------------------------------------------


def test_a_killed_saves_temporary_files_are_removed_at_the_next_save(
    tmp_path: Path,
) -> None:
    dead, alive = dead_pid(), os.getppid()
    stale = [
        tmp_path / f".model.npz.lincoln-{dead}-0123abcd.tmp",
        tmp_path / f".model.npz.{dead}.89abcdef.tmp",  # lincoln 0.1's name
        tmp_path / f".run.lincoln-{dead}-0123abcd.tmpdir",
    ]
    keep = [
        tmp_path / f".model.npz.lincoln-{alive}-0123abcd.tmp",  # being written
        tmp_path / f".notes.{dead}.tmp",  # not lincoln's
        tmp_path / "model.npz.tmp",
    ]
    for path in stale[:2] + keep:
        path.write_bytes(b"x" * 100)
    stale[2].mkdir()
    (stale[2] / "model.npz").write_bytes(b"half")
    NeuralNetwork([lincoln.Dense(3)], seed=1).save(tmp_path / "model.npz")
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in keep)
    assert lincoln.load(tmp_path / "model.npz") is not None


def test_a_run_moved_away_by_a_killed_replace_is_put_back(tmp_path: Path) -> None:
    moved = tmp_path / f".run.lincoln-{dead_pid()}-0123abcd.old"
    moved.mkdir()
    (moved / "model.npz").write_bytes(b"the previous run")
    assert remove_stale_temps(tmp_path) == [moved]
    assert (tmp_path / "run" / "model.npz").read_bytes() == b"the previous run"


# -- Ctrl-C a second time, while the run directory is written ------------------------


@pytest.mark.parametrize("previous", [False, True])
def test_ctrl_c_during_the_write_leaves_no_half_directory(
    tmp_path: Path,
    config: Path,
    previous: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    if previous:
        assert train(str(config), "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()} if previous else None
    real_train_batch, real_to_json = NeuralNetwork.train_batch, History.to_json
    calls = {"n": 0}

    def first_ctrl_c(self, X, y, inference=False):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 8:  # in the second epoch
            raise KeyboardInterrupt
        return real_train_batch(self, X, y, inference)

    def second_ctrl_c(self: History, path: object) -> None:
        real_to_json(self, path)  # part of the directory is written ...
        raise KeyboardInterrupt  # ... when Ctrl-C comes again

    monkeypatch.setattr(NeuralNetwork, "train_batch", first_ctrl_c)
    monkeypatch.setattr(History, "to_json", second_ctrl_c)
    argv = [str(config), "--out", str(out)] + (["--force"] if previous else [])
    assert train(*argv) == 130
    assert "interrupted" in capsys.readouterr().err
    if previous:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    else:
        assert not out.exists()
    assert leftovers(tmp_path) == []


# -- plot --out ----------------------------------------------------------------------


def test_plot_out_without_png_writes_exactly_that_name(
    digits_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "name"
    assert cli.main(["plot", str(digits_run), "--out", str(out)]) == 0
    assert f"wrote {out} (a PNG image)" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["name"]
    svg = tmp_path / "curves.svg"
    assert cli.main(["plot", str(digits_run), "--out", str(svg)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {svg}"
    assert b"<svg" in svg.read_bytes()[:500]


# -- gradcheck: the absolute tolerance can be set ------------------------------------


def test_gradcheck_rtol_alone_cannot_pass_a_loose_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["gradcheck", "--rtol", "1e-12", "--atol", "1e-15", "--max-checks", "20"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "error ratio" in err and "(rtol 1e-12, atol 1e-15)" in err


def test_out_that_is_the_current_folder_is_refused(
    tmp_path: Path,
    config: Path,
    no_data: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for out in (".", str(work), str(tmp_path), "sub/.."):
        assert train(str(config), "--out", out, "--force") == 1
        assert "is the current folder or one holding it" in one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.toml", "work"]


def test_a_disk_full_before_the_run_directory_is_begun_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lincoln.io.rundir import PartialWriteError, write_run_dir_atomically

    real_mkdir = Path.mkdir

    def full(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name.endswith(".tmpdir"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", full)
    out = tmp_path / "run"
    files = [("model.npz", lambda p: p.write_bytes(b"x"))]
    with pytest.raises(PartialWriteError, match=f"{out} not written: cannot create"):
        write_run_dir_atomically(out, files)
    assert list(tmp_path.iterdir()) == []
