"""Augmentation in training: ``fit(..., augment=Augment(...))`` changes the
training batches only, seeded; ``[data] shift`` and ``flip`` in experiment files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lincoln import Dense, Flatten, NeuralNetwork, SoftmaxCrossEntropy
from lincoln import config as cfg
from lincoln.augment import Augment
from lincoln.errors import ConfigError
from lincoln.optimizers import SGD
from lincoln.train import Trainer


def _images(digits: Any) -> tuple[np.ndarray, ...]:
    X_train, X_test, y_train, y_test = digits
    X_train = X_train[:120].reshape(-1, 1, 8, 8)
    return X_train, y_train[:120], X_test[:60].reshape(-1, 1, 8, 8), y_test[:60]


def _net() -> NeuralNetwork:
    return NeuralNetwork(
        [Flatten(), Dense(16, "tanh"), Dense(10, "linear")],
        SoftmaxCrossEntropy(),
        seed=0,
    )


class _Seen:
    """Records every batch the network is given: training and inference."""

    def __init__(self, net: NeuralNetwork) -> None:
        self.train: list[np.ndarray] = []
        self.infer: list[np.ndarray] = []
        forward = net.forward

        def recording(x: np.ndarray, inference: bool = False) -> np.ndarray:
            (self.infer if inference else self.train).append(np.array(x))
            return forward(x, inference)

        net.forward = recording  # type: ignore[method-assign]


def _fit(digits: Any, augment: Augment | None) -> tuple[NeuralNetwork, _Seen]:
    X_train, y_train, X_val, y_val = _images(digits)
    net = _net()
    trainer = Trainer(net, SGD(lr=0.05))
    seen = _Seen(net)
    trainer.fit(
        X_train, y_train, X_val, y_val, epochs=2, eval_every=1, batch_size=40,
        seed=3, verbose=False, progress=False, augment=augment,
    )  # fmt: skip
    trainer.evaluate(X_val, y_val)
    return net, seen


def test_augment_changes_training_batches_and_never_validation_data(
    digits: Any,
) -> None:
    plain_net, plain = _fit(digits, None)
    aug_net, aug = _fit(digits, Augment(shift=2, flip=True, seed=0))
    assert len(plain.train) == len(aug.train) == 6
    assert all(
        not np.array_equal(a, p) for a, p in zip(aug.train, plain.train, strict=True)
    )
    # the same shuffled rows, transformed: same shapes, pixels moved not invented
    assert [a.shape for a in aug.train] == [p.shape for p in plain.train]
    _, _, X_val, _ = _images(digits)
    # every evaluation (two in fit, one after) sees X_val itself; the one-row
    # batches are fit's shape checks of the data as given
    evaluated = [b for b in aug.infer + plain.infer if len(b) > 1]
    assert len(evaluated) == 6
    for batch in evaluated:
        np.testing.assert_array_equal(batch, X_val)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(aug_net.params(), plain_net.params(), strict=True)
    )


def test_same_augment_seed_gives_identical_parameters(digits: Any) -> None:
    first, _ = _fit(digits, Augment(shift=1, flip=True, seed=5))
    again, _ = _fit(digits, Augment(shift=1, flip=True, seed=5))
    other, _ = _fit(digits, Augment(shift=1, flip=True, seed=6))
    for a, b in zip(first.params(), again.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(first.params(), other.params(), strict=True)
    )


def test_fit_refuses_an_augment_that_is_not_callable(digits: Any) -> None:
    X_train, y_train, _, _ = _images(digits)
    with pytest.raises(ConfigError, match="augment"):
        Trainer(_net(), SGD()).fit(X_train, y_train, augment="flip")  # type: ignore[arg-type]


IMAGE_CONFIG = """
[data]
name = "digits"
shape = "{shape}"
{extra}

[[model.layers]]
type = "flatten"

[[model.layers]]
type = "dense"
neurons = 10

[model]
loss = "softmax_cross_entropy"

[optimizer]
type = "sgd"
lr = 0.1

[trainer]
epochs = 1
seed = 4
"""


def _write(tmp_path: Path, shape: str, extra: str) -> Path:
    path = tmp_path / "aug.toml"
    text = IMAGE_CONFIG.format(shape=shape, extra=extra)
    # [model] must come before its [[model.layers]] in TOML
    head, layers = text.split("[[model.layers]]", 1)
    model = '[model]\nloss = "softmax_cross_entropy"\n'
    layers = "[[model.layers]]" + layers.replace(model, "")
    path.write_text(head + model + "\n" + layers)
    return path


def test_config_shift_and_flip_become_a_seeded_augment(tmp_path: Path) -> None:
    exp = cfg.load_config(_write(tmp_path, "image", "shift = 2\nflip = true"))
    augment = cfg.fit_options(exp)["augment"]
    assert isinstance(augment, Augment)
    assert augment.get_config() == {"shift": 2, "flip": True, "seed": 4, "fill": 0}
    exp = cfg.load_config(_write(tmp_path, "image", ""))
    assert "augment" not in cfg.fit_options(exp)


def test_config_shift_brings_in_blank_pixels_as_prepared(tmp_path: Path) -> None:
    """Standardized images have a background of -mean/std, not 0: a shift must
    bring in that value, or training images get grey frames that no
    validation or test image has."""
    exp = cfg.load_config(_write(tmp_path, "image", 'shift = 1\npreprocess = "global"'))
    X_train, _, X_test, _, scaler = cfg.load_data_and_scaler(exp)
    blank = X_test[:, 0, 0, 0].min()  # the digits' corner pixel is a raw 0
    assert blank < -0.5
    augment = cfg.fit_options(exp, scaler)["augment"]
    assert augment.fill == pytest.approx(blank, abs=1e-6)
    out = augment(X_train[:50])
    assert out.min() >= blank - 1e-6  # no frame of any other value
    assert np.count_nonzero(np.isclose(out, blank)) > np.count_nonzero(
        np.isclose(X_train[:50], blank)
    )


def test_run_experiment_fills_shifts_with_the_prepared_blank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = cfg.load_config(_write(tmp_path, "image", 'shift = 1\npreprocess = "global"'))
    fills: list[float] = []
    call = Augment.__call__

    def spy(self: Augment, images: np.ndarray) -> np.ndarray:
        fills.append(self.fill)
        return call(self, images)

    monkeypatch.setattr(Augment, "__call__", spy)
    cfg.run_experiment(exp, verbose=False, progress=False)
    _, _, X_test, _ = cfg.load_data(exp)
    blank = float(X_test[:, 0, 0, 0].min())
    assert blank < -0.5 and fills
    assert fills == pytest.approx([blank] * len(fills), abs=1e-6)


@pytest.mark.parametrize(
    "extra, key", [("shift = 2", "shift"), ("flip = true", "flip")]
)
def test_config_augmentation_of_flat_data_is_refused(
    tmp_path: Path, extra: str, key: str
) -> None:
    path = _write(tmp_path, "flat", extra)
    with pytest.raises(ConfigError, match=rf"aug\.toml: data\.{key}: .*images"):
        cfg.load_config(path)


def test_config_bad_shift_names_file_and_key(tmp_path: Path) -> None:
    exp = cfg.load_config(_write(tmp_path, "image", "shift = -1"))
    with pytest.raises(ConfigError, match=r"aug\.toml: data\.shift: .*shift"):
        cfg.fit_options(exp)
    with pytest.raises(ConfigError, match=r"data\.flip"):
        cfg.load_config(_write(tmp_path, "image", 'flip = "yes"'))


def test_config_shift_as_large_as_the_images_is_refused_before_training(
    tmp_path: Path,
) -> None:
    # the digits are 8x8: a shift of 8 would blank whole images
    exp = cfg.load_config(_write(tmp_path, "image", "shift = 8"))
    with pytest.raises(
        ConfigError, match=r"^\S*aug\.toml: data\.shift: .*shift=8 for images of 8x8"
    ):
        cfg.fit_options(exp)
    assert cfg.fit_options(cfg.load_config(_write(tmp_path, "image", "shift = 7")))


@pytest.mark.parametrize("shift", [-1, 8])
def test_run_experiment_names_the_file_once_for_a_bad_shift(
    tmp_path: Path, shift: int
) -> None:
    exp = cfg.load_config(_write(tmp_path, "image", f"shift = {shift}"))
    with pytest.raises(ConfigError) as caught:
        cfg.run_experiment(exp, verbose=False, progress=False)
    message = str(caught.value)
    assert message.count("aug.toml") == 1 and "data.shift" in message
