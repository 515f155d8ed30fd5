"""Tests of lincoln.datasets.mnist: search order, path=, downloads, checks, shapes.

Every test but the last runs on tiny IDX files written into tmp_path, with the
network replaced by a fake ``lincoln.datasets.download.download_file``; the last
loads the real Fashion-MNIST that the Debian package dataset-fashion-mnist installs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from lincoln.datasets import download, mnist
from lincoln.datasets.idx import read_idx, write_idx
from lincoln.datasets.mnist import FILE_NAMES, load_fashion_mnist, load_mnist
from lincoln.errors import ConfigError, DataError, DatasetNotFoundError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def _images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def _labels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, 10, n, dtype=np.uint8)


def make_set(folder: Path, n_train: int, n_test: int, *, gz: bool = True) -> Path:
    """Write a tiny four-file data set into ``folder``; train has ``n_train`` rows."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [
        _images(n_train, 1),
        _labels(n_train, 1),
        _images(n_test, 2),
        _labels(n_test, 2),
    ]
    for name, array in zip(FILE_NAMES, arrays, strict=True):
        write_idx(folder / (name if gz else name[:-3]), array)
    return folder


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


def _no_system_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point Fashion-MNIST's system folder at an empty place; return it."""
    fake = tmp_path / "usr-share-fashion-mnist"
    spec = dataclasses.replace(mnist._FASHION_MNIST, system_dirs=(fake,))
    monkeypatch.setattr(mnist, "_FASHION_MNIST", spec)
    return fake


# ----------------------------------------------------------------------- loading


def test_loads_explicit_folder_flat_and_normalized(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 6, 4)
    x_train, y_train, x_test, y_test = load_mnist(folder)
    assert x_train.shape == (6, 784) and x_test.shape == (4, 784)
    assert x_train.dtype == np.float32
    np.testing.assert_allclose(x_train, _images(6, 1).reshape(6, 784) / 255, rtol=1e-6)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert y_train.dtype == np.int64 and y_train.shape == (6,)
    np.testing.assert_array_equal(y_train, _labels(6, 1))
    np.testing.assert_array_equal(y_test, _labels(4, 2))


def test_images_unflattened_and_raw(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 5, 3)
    x_train, _, x_test, _ = load_mnist(
        folder, flatten=False, normalize=False, dtype=np.float64
    )
    assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28)
    assert x_train.dtype == np.float64
    np.testing.assert_array_equal(x_train[:, 0], _images(5, 1))
    x_uint8 = load_mnist(folder, normalize=False, dtype=np.uint8)[0]
    assert x_uint8.dtype == np.uint8 and x_uint8.max() > 1


def test_normalize_needs_a_floating_dtype(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 2, 2)
    with pytest.raises(ConfigError, match="floating"):
        load_mnist(folder, dtype=np.int32)


def test_uncompressed_file_names_are_accepted(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 3, 2, gz=False)
    assert not any(p.name.endswith(".gz") for p in folder.iterdir())
    x_train, y_train, _, _ = load_fashion_mnist(folder)
    assert x_train.shape == (3, 784)
    np.testing.assert_array_equal(y_train, _labels(3, 1))


# ------------------------------------------------------------------ search order


def test_search_order_path_then_lincoln_data_then_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    explicit = make_set(tmp_path / "explicit", 2, 1)
    data = tmp_path / "data"
    make_set(data / "mnist", 3, 1)
    make_set(data, 4, 1)
    make_set(tmp_path / "xdg" / "lincoln" / "mnist", 5, 1)
    make_set(tmp_path / "home" / ".cache" / "lincoln" / "mnist", 6, 1)
    monkeypatch.setenv("LINCOLN_DATA", str(data))

    assert len(load_mnist(explicit)[0]) == 2
    assert len(load_mnist()[0]) == 3  # $LINCOLN_DATA/mnist beats $LINCOLN_DATA
    for path in (data / "mnist").iterdir():
        path.unlink()
    assert len(load_mnist()[0]) == 4  # then $LINCOLN_DATA itself
    monkeypatch.delenv("LINCOLN_DATA")
    assert len(load_mnist()[0]) == 5  # then $XDG_CACHE_HOME/lincoln/mnist
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert len(load_mnist()[0]) == 6  # then ~/.cache/lincoln/mnist


def test_incomplete_folder_is_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    partial = make_set(tmp_path / "data" / "mnist", 2, 1)
    (partial / FILE_NAMES[3]).unlink()
    make_set(tmp_path / "data", 7, 1)
    assert len(load_mnist()[0]) == 7


# ------------------------------------------------------------- an explicit path=


def _usual_places_full(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Put a complete data set (of 7 training rows) everywhere but path=."""
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    for name in ("mnist", "fashion-mnist"):
        make_set(tmp_path / "data" / name, 7, 1)
        make_set(tmp_path / "xdg" / "lincoln" / name, 7, 1)
    make_set(tmp_path / "data", 7, 1)
    make_set(_no_system_dirs(monkeypatch, tmp_path), 7, 1)


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
@pytest.mark.parametrize("state", ["missing-folder", "empty-folder", "one-file-short"])
def test_explicit_path_without_the_files_never_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, loader: object, state: str
) -> None:
    _usual_places_full(monkeypatch, tmp_path)
    explicit = tmp_path / "explicit"
    if state == "empty-folder":
        explicit.mkdir()
    elif state == "one-file-short":
        (make_set(explicit, 2, 1) / FILE_NAMES[1]).unlink()
    with pytest.raises(DatasetNotFoundError, match=r"download=False") as info:
        loader(explicit, download=False)  # type: ignore[operator]
    message = str(info.value)
    assert f"  {explicit} (path=): " in message
    if state == "missing-folder":
        assert "no such folder" in message
        assert not explicit.exists()
    if state == "one-file-short":
        assert f"missing {FILE_NAMES[1]}" in message
    assert "only folder used" in message and "leave path= out" in message
    # the complete copies elsewhere were not used, nor even listed as searched
    for line in message.splitlines()[1:]:
        assert not line.startswith(f"  {tmp_path / 'data'}")
        assert not line.startswith(f"  {tmp_path / 'xdg'}")


def test_explicit_path_downloads_only_into_that_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _usual_places_full(monkeypatch, tmp_path)
    urls: list[str] = []
    written: list[Path] = []

    def offline(url: str, dest: Path) -> None:
        urls.append(url)
        written.append(dest.parent)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(download, "download_file", offline)
    explicit = tmp_path / "explicit"
    explicit.mkdir()  # an existing folder is downloaded into (a missing one is not)
    with pytest.raises(DatasetNotFoundError, match="no network") as info:
        load_mnist(explicit)
    assert f"  {explicit} (path=): 0 of 4 files" in str(info.value)
    assert f"into {explicit} failed" in str(info.value)
    assert urls and set(written) == {explicit}
    assert list(explicit.iterdir()) == []  # no leftovers


def test_a_missing_explicit_path_is_never_created(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _usual_places_full(monkeypatch, tmp_path)
    urls: list[str] = []
    monkeypatch.setattr(download, "download_file", lambda url, dest: urls.append(url))
    typo = tmp_path / "nonexistent" / "typo"
    with pytest.raises(DatasetNotFoundError, match="does not exist") as info:
        load_mnist(typo)
    assert f"  {typo} (path=): no such folder" in str(info.value)
    assert not (tmp_path / "nonexistent").exists() and urls == []


def test_nonexistent_path_ignores_the_installed_fashion_mnist() -> None:
    """An explicit path that does not exist is an error, even while
    /usr/share/datasets/fashion-mnist holds the data set (the Debian package)."""
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(path="/nonexistent", download=False)
    message = str(info.value)
    assert "  /nonexistent (path=): no such folder" in message
    assert "  /usr/share/datasets/fashion-mnist (" not in message
    assert isinstance(info.value, FileNotFoundError)


def test_fashion_uses_its_own_folder_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_system_dirs(monkeypatch, tmp_path)
    make_set(tmp_path / "data" / "mnist", 3, 1)
    make_set(tmp_path / "data" / "fashion-mnist", 8, 1)
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    assert len(load_fashion_mnist()[0]) == 8
    assert len(load_mnist()[0]) == 3


def test_fashion_cache_beats_system_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = _no_system_dirs(monkeypatch, tmp_path)
    make_set(system, 9, 1)
    assert len(load_fashion_mnist(download=False)[0]) == 9
    make_set(tmp_path / "xdg" / "lincoln" / "fashion-mnist", 4, 1)
    assert len(load_fashion_mnist(download=False)[0]) == 4


# ------------------------------------------------------------ not found, offline


def test_offline_error_lists_every_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = _no_system_dirs(monkeypatch, tmp_path)
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    partial = make_set(tmp_path / "data" / "fashion-mnist", 2, 1)
    (partial / FILE_NAMES[2]).unlink()
    urls: list[str] = []

    def offline(url: str, dest: Path) -> None:
        urls.append(url)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(download, "download_file", offline)
    cache = tmp_path / "xdg" / "lincoln" / "fashion-mnist"
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist()
    message = str(info.value)
    for folder in (
        tmp_path / "data" / "fashion-mnist",
        tmp_path / "data",
        tmp_path / "xdg" / "lincoln" / "fashion-mnist",
        system,
    ):
        assert f"  {folder} (" in message
    assert "3 of 4 files, missing t10k-images-idx3-ubyte.gz" in message
    assert "no network" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "LINCOLN_DATA" in message and "path=" in message
    assert urls and urls[0].startswith("http://fashion-mnist.s3-website")
    assert list(cache.iterdir()) == []  # the download folder holds no leftovers
    assert isinstance(info.value, FileNotFoundError)


def test_offline_mnist_tries_every_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    urls: list[str] = []

    def offline(url: str, dest: Path) -> None:
        urls.append(url)
        raise OSError("network unreachable")

    monkeypatch.setattr(download, "download_file", offline)
    with pytest.raises(DatasetNotFoundError, match="network unreachable") as info:
        load_mnist()
    assert urls == [mirror + FILE_NAMES[0] for mirror in mnist._MNIST.mirrors]
    assert "apt-get install dataset-fashion-mnist" in str(info.value)


def test_download_false_never_downloads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_system_dirs(monkeypatch, tmp_path)
    with pytest.raises(DatasetNotFoundError, match=r"download=False") as info:
        load_fashion_mnist(download=False)  # download_file is _forbid_network here
    assert str(tmp_path / "xdg" / "lincoln" / "fashion-mnist") in str(info.value)
    assert not (tmp_path / "xdg").exists()


# ---------------------------------------------------------------------- download


def _serve_from(source: Path, calls: list[str]):  # noqa: ANN202 - a test double
    """A fake download_file that copies files of ``source`` by the URL's file name."""

    def fake(url: str, dest: Path) -> None:
        calls.append(url)
        dest.write_bytes((source / url.rsplit("/", 1)[1]).read_bytes())

    return fake


def _accept(monkeypatch: pytest.MonkeyPatch, source: Path) -> None:
    """Make MNIST's checksum table accept the files in ``source``."""
    sums = {
        name: (hashlib.md5((source / name).read_bytes()).hexdigest(),)
        for name in FILE_NAMES
    }
    monkeypatch.setattr(mnist, "_MNIST", dataclasses.replace(mnist._MNIST, md5=sums))


def test_download_into_cache_then_reuse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = make_set(tmp_path / "server", 5, 2)
    _accept(monkeypatch, source)
    calls: list[str] = []
    monkeypatch.setattr(download, "download_file", _serve_from(source, calls))
    x_train, y_train, _, _ = load_mnist()
    assert x_train.shape == (5, 784)
    np.testing.assert_array_equal(y_train, _labels(5, 1))
    cache = tmp_path / "xdg" / "lincoln" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILE_NAMES)
    assert len(calls) == 4
    load_mnist()
    assert len(calls) == 4  # found in the cache the second time


def test_download_goes_into_explicit_path_and_only_missing_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = make_set(tmp_path / "server", 5, 2)
    _accept(monkeypatch, source)
    explicit = make_set(tmp_path / "explicit", 5, 2)
    (explicit / FILE_NAMES[2]).unlink()
    monkeypatch.setenv("LINCOLN_DATA", str(tmp_path / "data"))
    make_set(tmp_path / "data" / "mnist", 7, 3)  # complete, but not path=
    calls: list[str] = []
    monkeypatch.setattr(download, "download_file", _serve_from(source, calls))
    assert load_mnist(explicit)[2].shape == (2, 784)
    assert calls == [mnist._MNIST.mirrors[0] + FILE_NAMES[2]]
    assert (explicit / FILE_NAMES[2]).is_file()
    assert not (tmp_path / "xdg").exists()


def test_falls_back_to_second_mirror(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = make_set(tmp_path / "server", 3, 2)
    _accept(monkeypatch, source)
    calls: list[str] = []
    serve = _serve_from(source, calls)

    def first_mirror_down(url: str, dest: Path) -> None:
        if url.startswith(mnist._MNIST.mirrors[0]):
            dest.write_bytes(b"partial junk")  # a half-written temp file
            raise urllib.error.URLError("timed out")
        serve(url, dest)

    monkeypatch.setattr(download, "download_file", first_mirror_down)
    assert len(load_mnist()[0]) == 3
    assert all(url.startswith(mnist._MNIST.mirrors[1]) for url in calls)
    cache = tmp_path / "xdg" / "lincoln" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILE_NAMES)


def test_checksum_mismatch_is_rejected_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = make_set(tmp_path / "server", 3, 2)  # valid IDX, wrong MD5
    calls: list[str] = []
    monkeypatch.setattr(download, "download_file", _serve_from(source, calls))
    with pytest.raises(DataError, match="checksum") as info:
        load_mnist()
    message = str(info.value)
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in message  # the expected MD5
    received = hashlib.md5((source / FILE_NAMES[0]).read_bytes()).hexdigest()
    assert received in message
    assert len(calls) == len(mnist._MNIST.mirrors)  # every mirror was tried
    cache = tmp_path / "xdg" / "lincoln" / "mnist"
    assert list(cache.iterdir()) == []


# ------------------------------------------------------------------- bad files


def test_image_and_label_counts_must_match(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 5, 2)
    write_idx(folder / FILE_NAMES[1], _labels(4, 1))
    with pytest.raises(DataError, match=r"5 images but .* 4 labels"):
        load_mnist(folder)


def test_labels_out_of_range(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 3, 2)
    write_idx(folder / FILE_NAMES[3], np.array([1, 10], dtype=np.uint8))
    with pytest.raises(DataError, match=r"labels must be 0\.\.9, received 10"):
        load_mnist(folder)


def test_images_of_wrong_shape(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 3, 2)
    write_idx(folder / FILE_NAMES[0], np.zeros((3, 27, 28), dtype=np.uint8))
    with pytest.raises(DataError, match=r"shape \(3, 27, 28\)"):
        load_mnist(folder)


def test_truncated_file_in_data_set(tmp_path: Path) -> None:
    folder = make_set(tmp_path / "data", 3, 2, gz=False)
    raw = folder / FILE_NAMES[0][:-3]
    raw.write_bytes(raw.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as info:
        load_mnist(folder)
    assert str(raw) in str(info.value)


# --------------------------------------------------------- the real data set


def test_real_fashion_mnist_from_debian_package() -> None:
    assert DEBIAN_DIR.is_dir(), (
        f"{DEBIAN_DIR} is missing: apt-get install dataset-fashion-mnist"
    )
    # The Debian copies carry checksums the loader knows (see mnist._FASHION_MNIST).
    for name in FILE_NAMES:
        digest = hashlib.md5((DEBIAN_DIR / name).read_bytes()).hexdigest()
        assert digest in mnist._FASHION_MNIST.md5[name]

    x_train, y_train, x_test, y_test = load_fashion_mnist(download=False)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert y_train.min() == 0 and y_train.max() == 9
    # Fashion-MNIST is balanced, and its first training labels are well known.
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    np.testing.assert_array_equal(y_train[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    raw = read_idx(DEBIAN_DIR / "t10k-images-idx3-ubyte.gz")
    assert raw.shape == (10000, 28, 28) and raw.dtype == np.uint8
    np.testing.assert_allclose(x_test[0], raw[0].reshape(784) / 255, rtol=1e-6)
