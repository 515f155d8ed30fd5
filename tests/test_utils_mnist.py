"""Tests of lincoln.utils.mnist, the book's ``mnist.load()`` and ``mnist.init()``.

Tiny IDX files are written into tmp_path and found the way
tests/test_datasets_mnist.py finds them: through $LINCOLN_DATA, the per-user cache
($XDG_CACHE_HOME) or an explicit path; the network is replaced by a fake.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from lincoln.datasets import download, write_idx
from lincoln.datasets import mnist as datasets_mnist
from lincoln.datasets.mnist import FILE_NAMES
from lincoln.errors import DataError, DatasetNotFoundError
from lincoln.utils import mnist


def _arrays(n_train: int, n_test: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]


def make_set(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True):
    """Write the four files into ``folder``; return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = _arrays(n_train, n_test)
    for name, array in zip(FILE_NAMES, arrays, strict=True):
        write_idx(folder / (name if gz else name[:-3]), array)
    return arrays


def _forbid_network(url: str, dest: Path) -> None:
    raise AssertionError(f"test tried to download {url}")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $LINCOLN_DATA, a fresh HOME and XDG cache, and no network."""
    monkeypatch.delenv("LINCOLN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(download, "download_file", _forbid_network)
    return tmp_path


def test_load_returns_the_books_four_raw_arrays(monkeypatch, tmp_path) -> None:
    images, labels, test_images, test_labels = make_set(tmp_path / "data" / "mnist")
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    X_train, y_train, X_test, y_test = mnist.load()
    # the book's mnist.pkl held flat uint8 rows and uint8 labels
    assert X_train.shape == (6, 784) and X_test.shape == (4, 784)
    assert y_train.shape == (6,) and y_test.shape == (4,)
    for array in (X_train, y_train, X_test, y_test):
        assert array.dtype == np.uint8
    np.testing.assert_array_equal(X_train, images.reshape(6, 784))
    np.testing.assert_array_equal(X_test, test_images.reshape(4, 784))
    np.testing.assert_array_equal(y_train, labels)
    np.testing.assert_array_equal(y_test, test_labels)


def test_load_reads_lincoln_data_itself_and_uncompressed_files(
    monkeypatch, tmp_path
) -> None:
    images = make_set(tmp_path / "flat", gz=False)[0]
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "flat"))
    np.testing.assert_array_equal(mnist.load()[0], images.reshape(6, -1))


def test_load_reads_the_per_user_cache(tmp_path) -> None:
    labels = make_set(tmp_path / "xdg" / "lincoln" / "mnist", 5, 3)[1]
    y_train = mnist.load()[1]
    np.testing.assert_array_equal(y_train, labels)


def test_load_takes_an_explicit_folder(tmp_path) -> None:
    test_labels = make_set(tmp_path / "mine", 2, 9)[3]
    np.testing.assert_array_equal(mnist.load(tmp_path / "mine")[3], test_labels)


def test_load_feeds_the_books_preprocessing(monkeypatch, tmp_path) -> None:
    make_set(tmp_path / "data" / "mnist")
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    X_train, y_train, X_test, y_test = mnist.load()
    X_train, X_test = X_train - np.mean(X_train), X_test - np.mean(X_train)
    X_train, X_test = X_train / np.std(X_train), X_test / np.std(X_train)
    assert abs(X_train.mean()) < 1e-9 and np.isclose(X_train.std(), 1.0)
    train_labels = np.zeros((len(y_train), 10))
    for i in range(len(y_train)):
        train_labels[i][y_train[i]] = 1
    np.testing.assert_array_equal(train_labels.argmax(axis=1), y_train)


def test_not_found_is_one_line_naming_every_folder_and_the_way_out(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("lincoln.utils.mnist.load(): ")
    assert "train-images-idx3-ubyte.gz" in message
    for folder in (
        tmp_path / "empty" / "mnist",
        tmp_path / "empty",
        tmp_path / "xdg" / "lincoln" / "mnist",
    ):
        assert str(folder) in message
    assert "$LINCOLN_DATA/mnist" in message
    assert "lincoln.utils.mnist.init()" in message
    assert isinstance(info.value, FileNotFoundError)  # what the book's open() raised


def test_not_found_in_an_explicit_folder_names_only_it(tmp_path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load(tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message
    assert f"{tmp_path / 'nowhere'} (path=)" in message
    assert "per-user cache" not in message


def test_a_partial_set_is_not_found_and_nothing_is_downloaded(tmp_path) -> None:
    folder = tmp_path / "xdg" / "lincoln" / "mnist"
    make_set(folder)
    (folder / FILE_NAMES[3]).unlink()
    with pytest.raises(DatasetNotFoundError, match="per-user cache"):
        mnist.load()  # _forbid_network would raise AssertionError on a download


def test_a_damaged_file_is_a_data_error(tmp_path) -> None:
    folder = tmp_path / "xdg" / "lincoln" / "mnist"
    make_set(folder)
    (folder / FILE_NAMES[0]).write_bytes(b"not an idx file")
    with pytest.raises(DataError):
        mnist.load()


def test_importing_does_not_touch_the_network() -> None:
    import importlib

    importlib.reload(mnist)  # _forbid_network raises if the import downloads


def test_init_downloads_into_the_cache_and_then_load_finds_it(
    monkeypatch, tmp_path
) -> None:
    source = tmp_path / "mirror"
    arrays = make_set(source)
    md5 = {
        name: (hashlib.md5((source / name).read_bytes()).hexdigest(),)
        for name in FILE_NAMES
    }
    spec = dataclasses.replace(
        datasets_mnist._MNIST, mirrors=("https://mirror.invalid/",), md5=md5
    )
    monkeypatch.setattr(datasets_mnist, "_MNIST", spec)
    fetched: list[str] = []

    def fake_download(url: str, dest: Path) -> None:
        fetched.append(url)
        shutil.copyfile(source / url.rsplit("/", 1)[1], dest)

    monkeypatch.setattr(download, "download_file", fake_download)
    with pytest.raises(DatasetNotFoundError):
        mnist.load()  # load itself never downloads
    assert fetched == []
    assert mnist.init() is None
    assert sorted(fetched) == sorted(f"https://mirror.invalid/{n}" for n in FILE_NAMES)
    assert all(
        (tmp_path / "xdg" / "lincoln" / "mnist" / n).is_file() for n in FILE_NAMES
    )
    np.testing.assert_array_equal(mnist.load()[1], arrays[1])
