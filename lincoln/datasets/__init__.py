"""Data sets and preprocessing: the bundled digits, MNIST-style IDX files, helpers."""

from .digits import load_digits
from .idx import read_idx, write_idx
from .mnist import load_fashion_mnist, load_mnist
from .preprocessing import Standardizer, one_hot, standardize, train_test_split
from .text import Vocabulary, load_text, sample, text_dataset

__all__ = [
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
    "read_idx",
    "write_idx",
    "one_hot",
    "standardize",
    "Standardizer",
    "train_test_split",
    "Vocabulary",
    "load_text",
    "sample",
    "text_dataset",
]
