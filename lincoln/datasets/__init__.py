"""Data sets and preprocessing: the bundled digits, MNIST-style IDX files, helpers."""

from .digits import load_digits
from .preprocessing import Standardizer, one_hot, standardize, train_test_split

__all__ = ["load_digits", "one_hot", "standardize", "Standardizer", "train_test_split"]
