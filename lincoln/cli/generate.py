"""``lincoln generate``: text from a trained character language model.

Its arguments are set up here and its handler is :func:`run`; the sampling is
:func:`lincoln.datasets.text.sample`, with the vocabulary saved in the model
(the Embedding layer of a ``[data] name = "text"`` run carries it).
"""

from __future__ import annotations

import argparse

from ..datasets.text import sample, vocab_of
from .arguments import positive_int
from .files import load_model

__all__ = ["add_arguments", "run", "SIGNATURE", "SUMMARY", "DESCRIPTION", "EXAMPLES"]

SIGNATURE = "RUN_DIR_OR_MODEL [--prompt TEXT] [--length N] [--temperature T]"
SUMMARY = "sample text from a character language model"
DESCRIPTION = (
    "Print the prompt followed by N characters drawn one at a time from a "
    'character language model (a run of a config with [data] name = "text", or '
    "its model.npz), which holds its vocabulary. A temperature below 1 is more "
    "conservative, above 1 more varied; the same --seed gives the same text."
)
EXAMPLES = (
    "lincoln generate runs/charlm --prompt KING --length 300 --temperature 0.8 "
    "--seed 1",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``generate`` command's arguments."""
    p.add_argument("model", metavar="RUN_DIR_OR_MODEL", help="run directory or .npz")
    p.add_argument(
        "--prompt", default="", help="text to start from (default: a line break)"
    )
    p.add_argument(
        "--length",
        type=positive_int,
        default=300,
        metavar="N",
        help="characters to generate (default: 300)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="> 0; divides the logits before the softmax (default: 1.0)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seeds the draws (default: random)"
    )


def run(args: argparse.Namespace) -> int:
    """``lincoln generate``: print a sample (errors are the library's, one line)."""
    net = load_model(args.model)
    vocab = vocab_of(net)  # a model without a vocabulary: ConfigError
    print(
        sample(net, vocab, args.prompt, args.length, args.temperature, args.seed),
        flush=True,
    )
    return 0
