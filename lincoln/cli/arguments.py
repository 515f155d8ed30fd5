"""Argument types shared by the commands' parsers: whole numbers and positive
numbers, refused with argparse's usage error (exit 2) naming what was typed."""

from __future__ import annotations

import argparse

__all__ = ["positive_int", "non_negative_int", "positive_float"]


def _int(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"must be a {what}, received {text!r}")
    return value


def positive_int(text: str) -> int:
    return _int(text, 1, "positive integer")


def non_negative_int(text: str) -> int:
    return _int(text, 0, "non-negative integer")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, received {text!r}")
    return value
