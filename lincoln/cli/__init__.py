"""The ``lincoln`` command: train, inspect, check and use networks.

::

    lincoln train [CONFIG] [--out DIR]          train; --out writes a run directory
    lincoln evaluate RUN_DIR_OR_MODEL [--data CONFIG_OR_NAME]
    lincoln predict MODEL INPUT.npy [--out OUT.npy]
    lincoln summary [CONFIG]                    the network as a table
    lincoln plot RUN_DIR [--out FILE.png]       loss and accuracy curves
    lincoln gradcheck [CONFIG]                  backprop against central differences
    lincoln export RUN_OR_MODEL MODEL.onnx      the model as ONNX (onnx extra)
    lincoln benchmark [ARGS...]                 scripts/benchmark.py of a source tree
    lincoln generate RUN_DIR_OR_MODEL [--prompt TEXT]   text from a character model

With no CONFIG, ``train``, ``summary`` and ``gradcheck`` use
``configs/digits_mlp.toml`` (the bundled digits). A run directory written by
``lincoln train --out DIR`` holds ``config.toml``, ``history.json``,
``history.csv``, ``metrics.json`` and the trained ``model.npz``.

Exit codes: 0 success, 1 an error (one line on stderr, never a traceback for
a user's mistake; also a failed gradient check), 2 bad usage, 130 interrupted
by Ctrl-C (``train`` still writes the run directory).

The modules: :mod:`.parser` reads the command line, :mod:`.commands` runs each
command, :mod:`.files` reads configs, models and arrays; :func:`main` wires them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .. import config as cfg
from ..config import data_input_shape
from ..errors import LincolnError
from . import commands
from . import generate as generate_command
from . import tune as tune_command
from .commands import EXIT_ERROR, EXIT_INTERRUPTED
from .files import SOURCE_ROOT, default_config_path, load_model
from .parser import build_parser

__all__ = [
    "main",
    "build_parser",
    "default_config_path",
    "load_model",
    "data_input_shape",
    "cfg",
    "SOURCE_ROOT",
]


def _benchmark(args: argparse.Namespace) -> int:
    # SOURCE_ROOT is read when the command runs, so that it can be pointed elsewhere
    return commands.benchmark(args, SOURCE_ROOT)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": commands.train,
    "evaluate": commands.evaluate,
    "predict": commands.predict,
    "summary": commands.summary,
    "plot": commands.plot,
    "gradcheck": commands.gradcheck,
    "export": commands.export,
    "benchmark": _benchmark,
    "tune": tune_command.run,
    "generate": generate_command.run,
}


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    if argv[:1] == ["benchmark"] and argv[1:2] not in (["-h"], ["--help"]):
        # everything after "benchmark" belongs to the script, options included
        # (argparse's REMAINDER drops a leading option); "--" may separate them
        args = parser.parse_args(["benchmark"])
        args.args = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        return args
    return parser.parse_args(argv)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc) or type(exc).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parse(build_parser(), list(sys.argv[1:] if argv is None else argv))
    try:
        return int(HANDLERS[args.command](args))
    except BrokenPipeError:
        # the reader (e.g. `| head`) stopped reading: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (LincolnError, OSError) as exc:  # a user's mistake: one line, no traceback
        print(f"lincoln {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"lincoln {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
