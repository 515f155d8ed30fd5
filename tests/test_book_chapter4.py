"""Chapter 4's notebook code, unchanged, on lincoln.

tests/book_code/chapter4_notebook.py holds the code cells of the book's chapter 4
notebook as published with the book (2019), chapter4_notebook_2024.py those of
its 2024 revision. Each runs here as Jupyter would run it: the set-up cells
(imports, ``mnist.load()``, one-hot encoding, scaling, ``calc_accuracy_model``)
once, then every model cell (a NeuralNetwork, a Trainer, ``trainer.fit(...)`` with
the book's arguments, ``calc_accuracy_model``) on its own, in a copy of that
namespace. ``mnist.load()`` reads small synthetic IDX files written for the test
(300 training and 100 test images of ten learnable classes) through $LINCOLN_DATA.

Every softmax cross-entropy model must print an accuracy far above chance (10%).
The chapter's first models, sigmoid outputs trained on mean squared error, are
there to show how slowly that learns; with 250 steps instead of the book's 50,000
they are judged by their validation loss going down, not by accuracy.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from book_code.notebook import Cell, accuracy_printed, read_cells, run_cells
from book_code.synthetic_mnist import write_synthetic_mnist

NOTEBOOKS = {
    "2019": "chapter4_notebook.py",
    "2024": "chapter4_notebook_2024.py",
}
CELLS = {version: read_cells(name) for version, name in NOTEBOOKS.items()}

# The book reaches 85-97% with these models on real MNIST; these classes are
# easier and every such cell reaches 80-100% here.
MIN_ACCURACY = 70.0


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each notebook's namespace after its set-up cells ran."""
    root = tmp_path_factory.mktemp("lincoln_data")
    write_synthetic_mnist(root / "mnist", n_train=300, n_test=100, seed=0)
    namespaces: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LINCOLN_DATA", str(root))
        for version, cells in CELLS.items():
            namespace: dict[str, Any] = {"__name__": "__main__"}
            setup = [cell for cell in cells if not cell.trains]
            run_cells(setup, namespace, NOTEBOOKS[version])
            namespaces[version] = namespace
    return namespaces


@pytest.mark.parametrize("version", sorted(NOTEBOOKS))
def test_the_setup_cells_load_and_prepare_the_data_as_the_book(setups, version) -> None:
    ns = setups[version]
    X_train, X_test = ns["X_train"], ns["X_test"]
    assert X_train.shape == (300, 784) and X_test.shape == (100, 784)
    # the book centres and scales by the training set's mean and std
    assert abs(float(np.mean(X_train))) < 1e-9
    assert np.isclose(np.std(X_train), 1.0)
    assert ns["y_train"].dtype == np.uint8 and ns["y_test"].shape == (100,)
    assert ns["train_labels"].shape == (300, 10)
    assert ns["test_labels"].shape == (100, 10)
    np.testing.assert_array_equal(ns["train_labels"].argmax(axis=1), ns["y_train"])
    np.testing.assert_array_equal(ns["test_labels"].sum(axis=1), np.ones(100))
    assert callable(ns["calc_accuracy_model"])


def _model_cells() -> list[Any]:
    return [
        pytest.param(version, cell, id=f"{version}-cell{cell.number}")
        for version, cells in CELLS.items()
        for cell in cells
        if cell.trains
    ]


def _validation_losses(printed: str) -> list[float]:
    return [
        float(x)
        for x in re.findall(r"Validation loss after \d+ epochs is ([-0-9.]+)", printed)
    ]


@pytest.mark.parametrize(("version", "cell"), _model_cells())
def test_each_model_cell_trains(
    setups, version: str, cell: Cell, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = dict(setups[version])
    run_cells([cell], namespace, NOTEBOOKS[version])
    printed = capsys.readouterr().out
    accuracy = accuracy_printed(printed)
    if "MeanSquaredError" in cell.source:
        losses = _validation_losses(printed)
        assert len(losses) >= 2 and losses[-1] < losses[0], printed
    else:
        assert accuracy > MIN_ACCURACY, printed
    # the notebook's own accuracy agrees with a direct count on the model it holds
    model = namespace["model"]
    predictions = np.argmax(model.forward(namespace["X_test"], inference=True), axis=1)
    direct = 100.0 * np.mean(predictions == namespace["y_test"])
    assert accuracy == pytest.approx(direct, abs=0.006)


def test_every_model_cell_of_both_notebooks_is_run() -> None:
    numbers = {v: [c.number for c in cells if c.trains] for v, cells in CELLS.items()}
    assert numbers == {
        "2019": [17, 19, 22, 24, 25, 27, 28, 30, 31, 33, 34, 36, 38, 39],
        "2024": [15, 17, 19, 21, 23, 24, 26],
    }
