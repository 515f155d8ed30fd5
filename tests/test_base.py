"""Tests of lincoln.base: the Operation / ParamOperation contract users subclass."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lincoln.base import Operation, ParamOperation, check_finite
from lincoln.errors import DataError, ShapeError, check_shape, shape_error
from lincoln.gradcheck import check_operation


class Square(Operation):
    """The book's form: ``_output(self)`` reads ``self.input_``."""

    def _output(self) -> np.ndarray:
        return self.input_**2

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2 * self.input_ * output_grad


class Scale(ParamOperation):
    """An element-wise scale by a ``(1, n)`` parameter."""

    def _output(self) -> np.ndarray:
        return self.input_ * self.param

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.param

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.sum(output_grad * self.input_, axis=0, keepdims=True)


class Transposing(Operation):
    """Returns an input gradient of the wrong shape."""

    def _output(self) -> np.ndarray:
        return self.input_.sum(axis=1, keepdims=True)

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.ones_like(self.input_).T * output_grad.T


class FlatParamGrad(Scale):
    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.sum(output_grad * self.input_, axis=0)  # (n,), not (1, n)


def test_forward_caches_input_and_output(rng) -> None:
    x = rng.standard_normal((3, 2))
    op = Square()
    out = op.forward(x)
    assert op.input_ is x
    assert op.output is out
    np.testing.assert_array_equal(out, x**2)
    grad = op.backward(np.ones((3, 2)))
    assert op.input_grad is grad
    np.testing.assert_array_equal(grad, 2 * x)


def test_param_operation_stores_param_grad(rng) -> None:
    op = Scale(np.array([[1.0, 2.0]]))
    x = rng.standard_normal((4, 2))
    op.forward(x)
    op.backward(np.ones((4, 2)))
    np.testing.assert_allclose(op.param_grad, x.sum(axis=0, keepdims=True))
    assert check_operation(Scale(rng.standard_normal((1, 2))), x).passed


@pytest.mark.parametrize(
    ("make", "output_grad_shape", "message"),
    [
        pytest.param(
            Square,
            (2, 3),
            r"^Square: output_grad must have shape \(3, 2\), "
            r"received shape \(2, 3\)$",
            id="wrong-output-grad-shape",
        ),
        pytest.param(
            lambda: Scale(np.ones((1, 2))),
            (3, 1),
            r"Scale: output_grad must have shape \(3, 2\), received shape \(3, 1\)",
            id="param-operation-checks-output-grad-too",
        ),
        pytest.param(
            Transposing,
            (3, 1),
            r"Transposing: the input gradient from _input_grad "
            r"must have shape \(3, 2\), received shape \(2, 3\)",
            id="user-op-returning-a-wrong-input-grad-shape",
        ),
        pytest.param(
            lambda: FlatParamGrad(np.ones((1, 2))),
            (3, 2),
            r"FlatParamGrad: the parameter gradient from "
            r"_param_grad must have shape \(1, 2\), received shape \(2,\)",
            id="user-param-op-returning-a-wrong-param-grad-shape",
        ),
    ],
)
def test_backward_shape_errors(rng, make, output_grad_shape, message) -> None:
    op = make()
    op.forward(rng.standard_normal((3, 2)))
    with pytest.raises(ShapeError, match=message):
        op.backward(np.ones(output_grad_shape))


def test_shape_error_is_a_value_error(rng) -> None:
    op = Square()
    op.forward(rng.standard_normal((3, 2)))
    with pytest.raises(ValueError):
        op.backward(np.ones((3,)))


def test_shape_error_is_raised_under_python_O() -> None:
    """Named errors, not asserts: ``python -O`` strips asserts but not these checks."""
    code = textwrap.dedent("""
        import numpy as np
        from lincoln.activations import Sigmoid
        from lincoln.errors import ShapeError
        assert False, "asserts are stripped under -O"
        op = Sigmoid()
        op.forward(np.zeros((2, 3)))
        try:
            op.backward(np.zeros((3, 2)))
        except ShapeError as exc:
            print("raised:", exc)
        else:
            print("not raised")
    """)
    result = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "raised: Sigmoid: output_grad must have shape (2, 3), received shape (3, 2)"
    )


def test_backward_before_forward_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"Square.backward called before forward"):
        Square().backward(np.ones((1, 1)))


def test_missing_hooks_name_the_subclass(rng) -> None:
    class Empty(Operation):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty must implement _output"):
        Empty().forward(np.ones((1, 1)))

    class NoParamGrad(ParamOperation):
        def _output(self) -> np.ndarray:
            return self.input_

        def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
            return output_grad

    op = NoParamGrad(np.ones((1, 1)))
    op.forward(np.ones((1, 1)))
    with pytest.raises(
        NotImplementedError, match=r"NoParamGrad must implement _param_grad"
    ):
        op.backward(np.ones((1, 1)))


def test_output_may_take_inference_as_in_the_published_library() -> None:
    class Halve(Operation):
        def _output(self, inference: bool) -> np.ndarray:
            self.seen = inference
            return self.input_ if inference else self.input_ / 2

        def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
            return output_grad / 2

    op = Halve()
    np.testing.assert_array_equal(op.forward(np.full((1, 2), 4.0)), [[2.0, 2.0]])
    assert op.seen is False
    np.testing.assert_array_equal(
        op.forward(np.full((1, 2), 4.0), inference=True), [[4.0, 4.0]]
    )
    assert op.seen is True and op.inference is True


def test_output_with_a_defaulted_inference_argument_sees_inference() -> None:
    """Regression: ``_output(self, inference=False)`` was called as ``_output()``."""

    class Op(Operation):
        def _output(self, inference: bool = False) -> np.ndarray:
            self.seen = inference
            return self.input_

        def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
            return output_grad

    op = Op()
    op.forward(np.ones((1, 1)), inference=True)
    assert op.seen is True


def test_the_param_is_kept_by_reference() -> None:
    W = np.ones((1, 2))
    op = Scale(W)
    assert op.param is W
    op.forward(np.ones((1, 2)))
    W *= 3
    np.testing.assert_array_equal(op.forward(np.ones((1, 2))), [[3.0, 3.0]])


def test_reprs() -> None:
    assert repr(Square()) == "Square()"
    assert repr(Scale(np.ones((1, 3)))) == "Scale(param shape=(1, 3))"


# -- the shared message builders and checks -------------------------------------------


def test_check_shape_and_operations_share_one_message(rng) -> None:
    op = Square()
    op.forward(rng.standard_normal((3, 2)))
    with pytest.raises(ShapeError) as from_op:
        op.backward(np.ones((2, 3)))
    with pytest.raises(ShapeError) as from_check:
        check_shape(op, "output_grad", (3, 2), np.ones((2, 3)))
    assert (
        str(from_op.value)
        == str(from_check.value)
        == ("Square: output_grad must have shape (3, 2), received shape (2, 3)")
    )
    check_shape(op, "output_grad", (3, 2), np.ones((3, 2)))  # fits: no error
    # a string names the owner as it is; what has no shape is named by its type
    assert str(shape_error("Dense", "output_grad", (5, 4), [1.0])) == (
        "Dense: output_grad must have shape (5, 4), received list"
    )


def test_check_finite_counts_and_locates_the_bad_values() -> None:
    x = np.zeros((4, 5), order="F")
    x[3, 0], x[0, 4] = np.nan, np.inf
    with pytest.raises(
        DataError,
        match=r"^fit: X_train contains 2 NaN or Inf values "
        r"\(first at index \(0, 4\)\)$",
    ):
        check_finite(x, "X_train", "fit")
    with pytest.raises(
        DataError, match=r"^predict: the inputs contain 2 NaN or Inf values$"
    ):
        check_finite(x, "the inputs", "predict", plural=True, locate=False)
    # finite values whose sum overflows, and integers, pass
    with np.errstate(over="ignore"):
        check_finite(np.full((3, 2), np.finfo(np.float64).max), "X", "fit")
    check_finite(np.arange(6).reshape(3, 2), "y", "fit")
