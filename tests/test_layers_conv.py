"""Tests of the Conv2D, MaxPool2D, AvgPool2D, Flatten and BatchNorm layers:
configuration, shapes, errors, whole-network gradients, dropout, dtypes, and a
small CNN that learns the bundled digits."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.activations import ReLU, Tanh
from lincoln.conv import Conv2DOp, FlattenOp
from lincoln.datasets import load_digits, train_test_split
from lincoln.dropout import Dropout
from lincoln.errors import ConfigError, ShapeError
from lincoln.gradcheck import check_network
from lincoln.layers import (
    LAYERS,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    layer_from_config,
)
from lincoln.losses import MeanSquaredError, SoftmaxCrossEntropy
from lincoln.network import NeuralNetwork
from lincoln.optimizers import SGDMomentum
from lincoln.pooling import MaxPool2DOp
from lincoln.train import Trainer


def built(
    layer: Layer, shape: tuple[int, ...], dtype=np.float64, seed: int = 0
) -> Layer:
    layer.dtype, layer.seed = np.dtype(dtype), seed
    layer.forward(np.zeros(shape, dtype=dtype))
    return layer


# -- registry, config, repr ----------------------------------------------------------


EXAMPLES = [
    Conv2D(8, 3),
    Conv2D(
        4,
        5,
        activation="tanh",
        flatten=True,
        weight_init="glorot",
        dropout=0.8,
        stride=2,
        padding="valid",
    ),
    Conv2D(2, 3, activation={"type": "leaky_relu", "alpha": 0.2}, padding=1),
    MaxPool2D(),
    MaxPool2D(3, stride=1),
    AvgPool2D(2),
    Flatten(),
    BatchNorm(momentum=0.99, eps=1e-3),
]


@pytest.mark.parametrize("layer", EXAMPLES, ids=repr)
def test_config_round_trip(layer):
    name = {cls: key for key, cls in LAYERS.items()}[type(layer)]
    rebuilt = layer_from_config({"type": name, **layer.get_config()})
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)


def test_registered_names():
    assert {
        k: LAYERS[k]
        for k in ("conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm")
    } == {
        "conv2d": Conv2D,
        "maxpool2d": MaxPool2D,
        "avgpool2d": AvgPool2D,
        "flatten": Flatten,
        "batchnorm": BatchNorm,
    }


def test_reprs():
    assert repr(Conv2D(8, 3, activation=ReLU())) == (
        "Conv2D(out_channels=8, param_size=3, activation='relu', "
        "weight_init='standard', stride=1, padding='same')"
    )
    assert repr(MaxPool2D()) == "MaxPool2D(pool_size=2)"
    assert repr(AvgPool2D(3, stride=2)) == "AvgPool2D(pool_size=3, stride=2)"
    assert repr(Flatten()) == "Flatten()"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Conv2D(8, 0),
            "Conv2D: param_size must be a positive integer, received param_size=0",
        ),
        (
            lambda: Conv2D(0, 3),
            "Conv2D: out_channels must be a positive integer, received out_channels=0",
        ),
        (lambda: Conv2D(8.0, 3), "received out_channels=8.0"),
        (
            lambda: Conv2D(8, 3, stride=0),
            "Conv2D: stride must be a positive integer, received stride=0",
        ),
        (
            lambda: Conv2D(8, 3, padding="full"),
            "Conv2D: padding must be 'same', 'valid' or a non-negative integer, "
            "received padding='full'",
        ),
        (lambda: Conv2D(8, 3, padding=-2), "Conv2D: padding .* received padding=-2"),
        (
            lambda: Conv2D(8, 3, weight_init="xavier"),
            "Conv2D: unknown weight_init 'xavier'",
        ),
        (
            lambda: Conv2D(8, 3, dropout=0.0),
            r"Dropout: keep_prob \(the probability of keeping a unit",
        ),
        (lambda: Conv2D(8, 3, flatten="yes"), "Conv2D: flatten must be True or False"),
        (lambda: Conv2D(8, 3, activation="swish"), "unknown activation 'swish'"),
        (
            lambda: MaxPool2D(0),
            "MaxPool2DOp: pool_size must be a positive integer, received pool_size=0",
        ),
        (
            lambda: MaxPool2D(2, stride=-1),
            "MaxPool2DOp: stride must be a positive integer, received stride=-1",
        ),
        (
            lambda: AvgPool2D(True),
            "AvgPool2DOp: pool_size must be a positive integer, "
            "received pool_size=True",
        ),
        (
            lambda: layer_from_config({"type": "conv2d", "out_channels": 4}),
            "layer 'conv2d'",
        ),
    ],
)
def test_config_errors(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


# -- shapes ----------------------------------------------------------------------------


SHAPE_CASES = [
    (Conv2D(4, 3), (2, 3, 7, 9), (4, 7, 9)),
    (Conv2D(4, 3, stride=2), (2, 3, 7, 9), (4, 4, 5)),
    (Conv2D(4, 5, padding="valid"), (2, 1, 7, 9), (4, 3, 5)),
    (Conv2D(4, 3, padding=2, stride=2), (2, 1, 7, 9), (4, 5, 6)),
    (Conv2D(4, 3, flatten=True), (2, 1, 8, 8), (256,)),
    (MaxPool2D(), (2, 3, 7, 9), (3, 3, 4)),
    (MaxPool2D(3, stride=1), (2, 3, 7, 9), (3, 5, 7)),
    (AvgPool2D(2, stride=3), (2, 3, 7, 9), (3, 2, 3)),
    (Flatten(), (2, 3, 7, 9), (189,)),
    (BatchNorm(), (2, 3, 7, 9), (3, 7, 9)),
    (BatchNorm(), (2, 5), (5,)),
]


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    SHAPE_CASES,
    ids=[f"{c[0]!r}-{c[1]}" for c in SHAPE_CASES],
)
def test_output_shape_matches_forward(layer, input_shape, expected):
    assert layer.output_shape(input_shape[1:]) == expected
    out = built(layer, input_shape).output
    assert out.shape == (input_shape[0], *expected)
    if not isinstance(layer, Conv2D):  # widthless layers: neurons = outputs per sample
        assert layer.neurons == int(np.prod(expected))


@pytest.mark.parametrize("layer", [Conv2D(2, 3), MaxPool2D(), AvgPool2D()], ids=repr)
def test_non_image_input_is_a_shape_error(layer):
    name = type(layer).__name__
    with pytest.raises(
        ShapeError,
        match=rf"{name}: input must have shape \(batch, channels, height, width\)",
    ):
        built(layer, (2, 64))
    with pytest.raises(
        ShapeError,
        match=rf"{name}: input must have shape \(batch, channels, height, width\)",
    ):
        layer.output_shape((64,))


@pytest.mark.parametrize(
    "layer", [Conv2D(2, 3), MaxPool2D(), BatchNorm(), Flatten()], ids=repr
)
def test_changed_channels_after_build_is_a_shape_error(layer):
    built(layer, (2, 3, 6, 6))
    with pytest.raises(
        ShapeError,
        match=rf"{type(layer).__name__}: built for inputs of shape \(batch, 3, 6, 6\)",
    ):
        layer.forward(np.zeros((2, 4, 6, 6)))


def test_a_window_that_does_not_fit_is_a_shape_error():
    with pytest.raises(
        ShapeError,
        match="Conv2D: a 5x5 kernel with stride=1, padding='valid' does not fit",
    ):
        built(Conv2D(2, 5, padding="valid"), (1, 1, 4, 8))
    with pytest.raises(ShapeError, match="MaxPool2D: a 3x3 window does not fit"):
        built(MaxPool2D(3), (1, 1, 2, 8))


def test_conv2d_operations_and_parameters():
    layer = built(
        Conv2D(4, 3, activation=Tanh(), dropout=0.5, flatten=True), (2, 3, 5, 5)
    )
    assert [type(op) for op in layer.operations][:1] == [Conv2DOp]
    assert isinstance(layer.operations[2], Tanh)
    assert isinstance(layer.operations[3], Dropout)
    assert isinstance(layer.operations[4], FlattenOp)
    kernel, bias = layer.params
    assert kernel.shape == (3, 4, 3, 3)  # (in_channels, out_channels, k, k)
    assert bias.shape == (1, 4, 1, 1) and not bias.any()
    assert layer.neurons == layer.out_channels == 4


@pytest.mark.parametrize(
    ("weight_init", "expected"),
    [
        ("standard", 1.0),
        ("glorot", np.sqrt(2 / (16 * 9 + 32 * 9))),
        ("he", np.sqrt(2 / (16 * 9))),
    ],
)
def test_conv2d_weight_init_scale(weight_init, expected):
    kernel = built(Conv2D(32, 3, weight_init=weight_init), (1, 16, 3, 3)).params[0]
    assert abs(kernel.std() / expected - 1) < 0.05


def test_rebuild_draws_the_same_weights():
    layer = built(Conv2D(3, 3), (1, 2, 4, 4), seed=5)
    first = layer.params[0].copy()
    layer.first = True
    layer.forward(np.zeros((1, 2, 4, 4)))
    np.testing.assert_array_equal(layer.params[0], first)


# -- networks: gradients, dropout, dtypes --------------------------------------------


def _network_gradient_check(layers: list[Layer], X: np.ndarray, y: np.ndarray) -> None:
    """Every parameter of a float64 network against central differences of its
    loss (lincoln.gradcheck.check_network raises GradientCheckError otherwise)."""
    net = NeuralNetwork(layers, MeanSquaredError(), seed=3, dtype=np.float64)
    report = check_network(net, X, y)
    assert list(report.comparisons) == [name for name, _ in net.named_params()]
    assert len(report.comparisons) == 2 * sum(
        isinstance(layer, (Conv2D, Dense, BatchNorm)) for layer in layers
    )


def test_cnn_gradients(rng):
    # every parameter of conv -> batch norm -> pool -> conv (stride 2) -> dense
    layers = [
        Conv2D(3, 3, activation=Tanh(), weight_init="glorot"),
        BatchNorm(),
        MaxPool2D(2),
        Conv2D(2, 3, activation=Tanh(), stride=2, padding=1, flatten=True),
        Dense(2, "linear", weight_init="glorot"),
    ]
    _network_gradient_check(
        layers, rng.standard_normal((3, 2, 6, 7)), rng.standard_normal((3, 2))
    )


def test_avgpool_flatten_batchnorm_dense_gradients(rng):
    layers = [
        Conv2D(2, 1, padding="valid"),
        AvgPool2D(2, stride=1),
        Flatten(),
        BatchNorm(),
        Dense(2, "sigmoid"),
    ]
    _network_gradient_check(
        layers, rng.standard_normal((4, 2, 3, 4)), rng.standard_normal((4, 2))
    )


def test_conv2d_first_layer_skips_the_data_gradient(rng):
    net = NeuralNetwork(
        [Conv2D(2, 3), Flatten(), Dense(3, "linear")], MeanSquaredError(), seed=0
    )
    net.train_batch(rng.standard_normal((2, 1, 4, 4)), rng.standard_normal((2, 3)))
    assert net.layers[0].input_grad is None
    # further in, the gradient with respect to the layer's input is computed
    net = NeuralNetwork(
        [BatchNorm(), Conv2D(2, 3), Flatten(), Dense(3, "linear")],
        MeanSquaredError(),
        seed=0,
    )
    net.train_batch(rng.standard_normal((2, 1, 4, 4)), rng.standard_normal((2, 3)))
    assert net.layers[1].input_grad.shape == (2, 1, 4, 4)


def test_conv_dropout_is_deterministic_at_inference(rng):
    X = rng.standard_normal((6, 1, 8, 8))

    def net(dropout: float) -> NeuralNetwork:
        return NeuralNetwork(
            [
                Conv2D(4, 3, activation="relu", dropout=dropout, flatten=True),
                Dense(3, "linear"),
            ],
            SoftmaxCrossEntropy(),
            seed=7,
        )

    with_dropout = net(0.8)
    first = with_dropout.forward(X, inference=True).copy()
    np.testing.assert_array_equal(with_dropout.forward(X, inference=True), first)
    # inverted dropout: inference is the identity, so it matches no dropout at all
    np.testing.assert_array_equal(net(1.0).forward(X, inference=True), first)
    # while training, units are dropped (different masks on different calls)
    a = with_dropout.forward(X).copy()
    b = with_dropout.forward(X)
    assert not np.array_equal(a, first) and not np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cnn_keeps_its_dtype(dtype, rng):
    net = NeuralNetwork(
        [
            Conv2D(4, 3, activation="relu", dropout=0.9),
            BatchNorm(),
            MaxPool2D(),
            Conv2D(2, 3, stride=2),
            AvgPool2D(),
            Flatten(),
            Dense(3, "linear"),
        ],
        SoftmaxCrossEntropy(),
        seed=0,
        dtype=dtype,
    )
    X = rng.standard_normal((5, 2, 8, 8)).astype(dtype)
    net.train_batch(X, np.array([0, 1, 2, 0, 1]))
    for layer in net.layers:
        assert layer.output.dtype == dtype, layer
        assert all(g.dtype == dtype for g in layer.param_grads), layer
        assert all(b.dtype == dtype for b in layer.buffers().values()), layer
        for op in layer.operations:
            assert op.output.dtype == dtype, op
            if op.input_grad is not None:
                assert op.input_grad.dtype == dtype, op
    assert net.forward(X, inference=True).dtype == dtype


# -- learning ------------------------------------------------------------------------


def test_small_cnn_learns_the_digits():
    X, y = load_digits(flatten=False)
    assert X.shape[1:] == (1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_fraction=0.3, seed=0, stratify=True
    )
    net = NeuralNetwork(
        [
            Conv2D(8, 3, activation=ReLU(), weight_init="he"),
            MaxPool2D(),
            Flatten(),
            Dense(10, "linear", weight_init="glorot"),
        ],
        SoftmaxCrossEntropy(),
        seed=0,
    )
    trainer = Trainer(net, SGDMomentum(0.1, momentum=0.9))
    trainer.fit(
        X_train,
        y_train,
        X_test,
        y_test,
        epochs=10,
        eval_every=2,
        batch_size=32,
        verbose=False,
        progress=False,
    )
    accuracy = np.mean(net.predict(X_test).argmax(axis=1) == y_test)
    assert accuracy >= 0.9


# -- max pooling takes over a convolution's ReLU -----------------------------------


class PlainPool(Layer):
    """2x2 max pooling as a book-style layer: it never takes over an activation."""

    width_from_input = True

    def _setup_layer(self, input_):
        self.params, self.operations = [], [MaxPool2DOp(2)]

    def output_shape(self, input_shape):
        c, h, w = input_shape
        return (c, h // 2, w // 2)


def relu_cnn(pool, dtype, activation="relu"):
    layers = [Conv2D(4, 3, activation=activation, weight_init="he"), pool()]
    layers += [Conv2D(3, 3, activation=activation, weight_init="he"), pool()]
    return NeuralNetwork(
        layers + [Flatten(), Dense(3, "linear")], SoftmaxCrossEntropy(), 3, dtype
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxpool_applies_the_convolutions_relu_with_the_same_numbers(dtype):
    # small integers: many ties within windows and many windows with no
    # positive pixel, where the two orders could route gradients differently
    rng = np.random.default_rng(4)
    X = rng.integers(-2, 3, size=(6, 2, 11, 10)).astype(dtype)
    y = rng.integers(0, 3, size=6)
    moved, kept = relu_cnn(MaxPool2D, dtype), relu_cnn(PlainPool, dtype)
    losses = [net.train_batch(X, y) for net in (moved, kept)]
    ops = [[type(op).__name__ for op in layer.operations] for layer in moved.layers]
    assert ops[:2] == [["Conv2DOp", "BiasAdd2D"], ["MaxPool2DOp", "ReLU"]]
    assert isinstance(kept.layers[0].operations[-1], ReLU)
    assert losses[0] == losses[1]
    for a, b in zip(moved.param_grads(), kept.param_grads(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(moved.layers[1].output, kept.layers[1].output)
    np.testing.assert_array_equal(moved.predict(X), kept.predict(X))


@pytest.mark.parametrize(
    "before",
    [
        lambda: Conv2D(2, 3, activation="tanh"),
        lambda: Conv2D(2, 3, activation="leaky_relu"),
        lambda: Conv2D(2, 3, activation="relu", dropout=0.5),
        lambda: AvgPool2D(1),
    ],
)
def test_maxpool_leaves_other_layers_alone(before):
    net = NeuralNetwork([before(), MaxPool2D(), Flatten(), Dense(2)], seed=0)
    net.build((1, 6, 6))
    assert [type(op).__name__ for op in net.layers[1].operations] == ["MaxPool2DOp"]


def test_a_relu_moved_to_the_pool_is_still_checked_and_saved(tmp_path):
    import lincoln

    net = relu_cnn(MaxPool2D, np.float64)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((4, 2, 8, 8)), rng.integers(0, 3, 4)
    report = check_network(net, X, y)
    assert report.passed, report
    net.save(tmp_path / "m.npz")
    again = lincoln.load(tmp_path / "m.npz")
    assert again.layers[0].get_config()["activation"] == "relu"
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


def pooled_cnn(conv, pool, seed=0):
    return NeuralNetwork([conv, pool, Flatten(), Dense(2, "linear")], seed=seed)


def test_a_built_pool_does_not_take_a_relu(rng):
    X = rng.standard_normal((3, 1, 6, 6))
    pool = MaxPool2D()
    pool.forward(np.zeros((3, 2, 6, 6)))  # built on its own: operations fixed
    net = pooled_cnn(Conv2D(2, 3, activation="relu"), pool)
    net.predict(X)
    assert isinstance(net.layers[0].operations[-1], ReLU)
    assert net.layers[1].output.min() >= 0


def test_a_pool_used_again_gives_the_relu_back(rng):
    X = rng.standard_normal((3, 1, 6, 6))
    pool = MaxPool2D()
    first = pooled_cnn(Conv2D(2, 3, activation="relu"), pool)
    second = pooled_cnn(Conv2D(2, 3, activation="tanh"), pool)
    second.predict(X)
    assert [type(op) for op in pool.operations] == [MaxPool2DOp]
    assert pool.output.min() < 0  # tanh values, not ReLU'd
    first.predict(X)
    assert isinstance(first.layers[0].operations[-1], ReLU)
    assert first.layers[0].output.min() >= 0


@pytest.mark.parametrize("built_first", [False, True])
def test_a_convolution_used_again_without_pooling_keeps_its_relu(built_first, rng):
    X = rng.standard_normal((3, 1, 6, 6))
    conv = Conv2D(2, 3, activation="relu")
    first = pooled_cnn(conv, MaxPool2D())
    if built_first:
        before = first.predict(X)
    second = NeuralNetwork([conv, Flatten(), Dense(2, "linear")], seed=0)
    second.predict(X)
    assert isinstance(conv.operations[-1], ReLU)
    assert conv.output.min() >= 0
    if built_first:  # the first network still computes what it did
        np.testing.assert_array_equal(first.predict(X), before)


def test_a_built_pool_applying_a_relu_cannot_follow_another_layer(rng):
    X = rng.standard_normal((3, 1, 6, 6))
    pool = MaxPool2D()
    pooled_cnn(Conv2D(2, 3, activation="relu"), pool).predict(X)
    with pytest.raises(ConfigError, match="MaxPool2D: this layer was built"):
        pooled_cnn(Conv2D(2, 3, activation="tanh"), pool)
