"""lincoln.sklearn: scikit-learn's own estimator checks, clone and parameters,
partial_fit, a grid search over a pipeline on the bundled digits."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from lincoln import load_digits, train_test_split  # noqa: E402
from lincoln.errors import ConfigError  # noqa: E402
from lincoln.sklearn import (  # noqa: E402
    LincolnClassifier,
    LincolnRegressor,
    expected_failed_checks,
)

HIDDEN = [{"type": "dense", "neurons": 16, "activation": "relu", "weight_init": "he"}]
SMALL: dict[str, Any] = {
    "layers": HIDDEN,
    "optimizer": {"type": "adam", "lr": 0.01},
    "epochs": 30,
    "random_state": 0,
}


@parametrize_with_checks(
    [LincolnClassifier(**SMALL), LincolnRegressor(**SMALL)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


@pytest.fixture(scope="module")
def digits_split() -> tuple[np.ndarray, ...]:
    X, y = load_digits()
    return train_test_split(X, y, test_fraction=0.3, seed=0, stratify=True)


def test_parameters_are_kept_as_given_and_clone_builds_afresh(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    X_train, _, y_train, _ = digits_split
    clf = LincolnClassifier(**SMALL, batch_size=64)
    params = clf.get_params()
    assert params["layers"] is HIDDEN and params["batch_size"] == 64
    clf.fit(X_train[:200], y_train[:200])
    assert clf.layers == HIDDEN  # fit neither changes nor keeps the specs it used
    twin = clone(clf)
    assert not hasattr(twin, "network_")
    assert twin.get_params()["optimizer"] == {"type": "adam", "lr": 0.01}
    twin.set_params(epochs=5, layers=[{"type": "dense", "neurons": 4}])
    assert twin.fit(X_train[:200], y_train[:200]) is twin
    assert twin.network_.layers[0].neurons == 4 and twin.n_iter_ == 5


def test_classifier_fits_the_digits(digits_split: tuple[np.ndarray, ...]) -> None:
    X_train, X_test, y_train, y_test = digits_split
    clf = LincolnClassifier(**{**SMALL, "epochs": 10}).fit(X_train, y_train)
    assert clf.n_features_in_ == 64
    assert list(clf.classes_) == list(range(10))
    assert clf.score(X_test, y_test) > 0.9
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X_test)).all()


def test_string_labels_and_a_convolutional_network(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    X_train, X_test, y_train, y_test = digits_split
    names = np.array(["zero", "one", "two", "three", "four"] + ["many"] * 5)
    clf = LincolnClassifier(
        layers=[
            {
                "type": "conv2d",
                "out_channels": 4,
                "param_size": 3,
                "activation": "relu",
                "weight_init": "he",
            },
            {"type": "maxpool2d"},
            {"type": "flatten"},
        ],
        input_shape=(1, 8, 8),
        optimizer={"type": "adam", "lr": 0.01},
        epochs=5,
        random_state=0,
    ).fit(X_train, names[y_train])
    assert clf.network_.input_shape == (1, 8, 8)
    assert set(clf.classes_) == set(names)
    assert clf.score(X_test, names[y_test]) > 0.8


def test_early_stopping_holds_out_a_validation_share(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    X_train, _, y_train, _ = digits_split
    clf = LincolnClassifier(
        **{**SMALL, "epochs": 200},
        early_stopping=True,
        validation_fraction=0.2,
        patience=2,
    ).fit(X_train, y_train)
    history = clf.history_
    assert history.stop_reason == "early_stopping"
    assert clf.n_iter_ == len(history.train_loss) < 200
    assert len(history.val_loss) == clf.n_iter_


def test_partial_fit_continues_one_epoch_per_call(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    X_train, X_test, y_train, y_test = digits_split
    clf = LincolnClassifier(**SMALL)
    with pytest.raises(ValueError, match="pass classes="):
        clf.partial_fit(X_train, y_train)
    clf.partial_fit(X_train[:500], y_train[:500], classes=np.arange(10))
    weights = clf.network_.params()[0]
    first = weights.copy()
    starts = list(range(500, len(X_train), 500)) + [0, 500, 1000] * 2
    for start in starts:
        clf.partial_fit(X_train[start : start + 500], y_train[start : start + 500])
    assert clf.network_.params()[0] is weights  # the same network, trained on
    assert not np.array_equal(first, weights)
    assert clf.n_iter_ == 9
    assert clf.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="labels not in classes"):
        clf.partial_fit(X_train[:5], y_train[:5] + 10)
    with pytest.raises(ValueError, match="differs from the first call"):
        clf.partial_fit(X_train[:5], y_train[:5], classes=np.arange(3))


def test_regressor_single_and_multiple_targets(rng: np.random.Generator) -> None:
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5, 0.0], np.tanh(X[:, 0])])
    reg = LincolnRegressor(**{**SMALL, "epochs": 60}).fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.score(X, Y) > 0.9
    reg.fit(X, Y[:, 0])
    assert reg.predict(X).shape == (300,) and reg.score(X, Y[:, 0]) > 0.9


def test_grid_search_over_a_pipeline_on_the_digits(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(StandardScaler(), LincolnClassifier(epochs=8, random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "lincolnclassifier__layers": [
                [{"type": "dense", "neurons": 8, "activation": "tanh"}],
                [{"type": "dense", "neurons": 32, "activation": "relu"}],
            ],
            "lincolnclassifier__optimizer": [
                {"type": "adam", "lr": 0.01},
                {"type": "sgd_momentum", "lr": 0.05, "momentum": 0.9},
            ],
        },
        cv=3,
    ).fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.9
    assert grid.score(X_test, y_test) > 0.9


@pytest.mark.parametrize(
    "params,match",
    [
        ({"layers": {"type": "dense", "neurons": 8}}, "layers must be a list"),
        ({"layers": [{"type": "dense2", "neurons": 8}]}, "unknown layer type"),
        ({"optimizer": "adamw"}, "unknown optimizer"),
        ({"input_shape": (1, 7, 7)}, r"input_shape=\(1, 7, 7\) holds 49 values"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"dtype": "float16"}, "dtype must be float32 or float64"),
    ],
)
def test_bad_parameters_are_reported_by_fit(params: dict[str, Any], match: str) -> None:
    X, y = load_digits()
    clf = LincolnClassifier(**params)  # scikit-learn's rule: __init__ never checks
    with pytest.raises(ConfigError, match=match):
        clf.fit(X[:50], y[:50])
    assert not hasattr(clf, "network_")  # a failed fit leaves it unfitted


def test_the_trained_network_exports_to_onnx(
    digits_split: tuple[np.ndarray, ...],
) -> None:
    from lincoln.onnx import to_onnx

    X_train, X_test, y_train, _ = digits_split
    clf = LincolnClassifier(**{**SMALL, "epochs": 3}).fit(X_train, y_train)
    model = to_onnx(clf.network_, softmax=True)
    sess = ort.InferenceSession(model.SerializeToString())
    proba = sess.run(None, {"input": X_test})[0]
    np.testing.assert_allclose(proba, clf.predict_proba(X_test), atol=1e-6)


def test_without_sklearn_the_import_error_says_what_to_install() -> None:
    import subprocess
    import sys

    code = "import sys; sys.modules['sklearn'] = None; import lincoln.sklearn"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: lincoln.sklearn needs scikit-learn: "
        "pip install 'lincoln[sklearn]'"
    )
