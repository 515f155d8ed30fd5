"""check_operation as a fixture for users' own operations: subclasses written
the way *Deep Learning from Scratch* prints them (``_output(self)``), the way
its published library wrote them (``_output(self, inference)``), and
ParamOperations of both kinds; right ones pass, wrong ones are caught."""

from __future__ import annotations

import numpy as np
import pytest

from lincoln.base import Operation, ParamOperation
from lincoln.errors import GradientCheckError
from lincoln.gradcheck import check_operation


class BookSquare(Operation):
    """x ** 2, written as the book prints an operation."""

    def __init__(self):
        super().__init__()

    def _output(self) -> np.ndarray:
        return self.input_ * self.input_

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2.0 * self.input_ * output_grad


class PublishedSquare(Operation):
    """x ** 2, written as the book's published library did (``inference``)."""

    def _output(self, inference: bool) -> np.ndarray:
        return self.input_ * self.input_

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return 2.0 * self.input_ * output_grad


class PublishedHalfSquare(PublishedSquare):
    """Forgets the factor 2."""

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return self.input_ * output_grad


class BookWeightMultiply(ParamOperation):
    """The book's WeightMultiply, as printed (its __init__ calls the base's)."""

    def __init__(self, W: np.ndarray):
        super().__init__(W)

    def _output(self) -> np.ndarray:
        return np.dot(self.input_, self.param)

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.dot(output_grad, np.transpose(self.param, (1, 0)))

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return np.dot(np.transpose(self.input_, (1, 0)), output_grad)


class PublishedScale(ParamOperation):
    """x * w (w of shape (1, features)), ``_output(self, inference)``; its
    parameter gradient forgets to sum over the batch."""

    def _output(self, inference: bool) -> np.ndarray:
        return self.input_ * self.param

    def _input_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return output_grad * self.param

    def _param_grad(self, output_grad: np.ndarray) -> np.ndarray:
        return (output_grad * self.input_)[:1]


@pytest.mark.parametrize("cls", [BookSquare, PublishedSquare])
def test_a_users_operation_passes_in_either_form(cls: type[Operation], rng) -> None:
    report = check_operation(cls(), rng.standard_normal((3, 4)))
    assert report.passed and list(report.comparisons) == ["input"]
    assert report.error_ratio < 0.1


def test_a_wrong_published_form_operation_is_caught(rng) -> None:
    with pytest.raises(GradientCheckError, match=r"PublishedHalfSquare.*input"):
        check_operation(PublishedHalfSquare(), rng.uniform(0.5, 2.0, (3, 4)))


def test_a_book_param_operation_passes_and_keeps_its_float32_param(rng) -> None:
    W = rng.standard_normal((4, 2)).astype(np.float32)
    op = BookWeightMultiply(W)
    report = check_operation(op, rng.standard_normal((3, 4)).astype(np.float32))
    assert report.passed and set(report.comparisons) == {"input", "param"}
    assert op.param is W and op.param.dtype == np.float32


def test_a_wrong_published_form_param_gradient_is_caught(rng) -> None:
    op = PublishedScale(rng.uniform(0.5, 2.0, (1, 4)))
    report = check_operation(op, rng.uniform(0.5, 2.0, (3, 4)), raise_exception=False)
    assert report.comparisons["input"].passed
    assert not report.comparisons["param"].passed
