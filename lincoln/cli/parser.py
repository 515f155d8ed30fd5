"""The ``lincoln`` argument parser: one table entry and one small function per command.

:data:`COMMANDS` describes each command (its signature in the overview, its
help, its examples); ``_add_<command>`` adds its arguments. The parser only
reads the command line: :func:`lincoln.cli.main` runs the chosen command.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from .._version import __version__
from . import generate as generate_command
from . import tune as tune_command
from .arguments import positive_float, positive_int

__all__ = ["build_parser", "COMMANDS", "EXIT_CODES"]

EXIT_CODES = (
    "exit codes: 0 success; 1 error (one line on stderr); 2 bad usage; 130 interrupted"
)
_CONFIG_HELP = "experiment file (default: configs/digits_mlp.toml)"


def _add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help=_CONFIG_HELP)
    p.add_argument(
        "--out", metavar="DIR", help="write config, history, metrics and the model here"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a run already in --out (once the new run is complete)",
    )
    p.add_argument("--quiet", action="store_true", help="no per-evaluation lines")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="at most N BLAS/OpenMP threads (1 on a shared machine); "
        "overrides [trainer] threads",
    )


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", metavar="RUN_DIR_OR_MODEL", help="a run directory or a model.npz file"
    )
    p.add_argument(
        "--data",
        metavar="CONFIG_OR_NAME",
        help="experiment file or data set name (default: the run "
        "directory's config.toml)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def _add_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", metavar="MODEL", help="a model.npz file or a run directory holding one"
    )
    p.add_argument("input", metavar="INPUT.npy", help="the samples, a .npy array")
    p.add_argument("--out", metavar="OUT.npy", help="save the predictions here")
    p.add_argument(
        "--raw",
        action="store_true",
        help="a classifier's raw outputs (logits) instead of classes",
    )
    p.add_argument(
        "--raw-input",
        action="store_true",
        help="INPUT holds unprepared samples (e.g. pixel values): prepare them as "
        "the training data was, with the run directory's preprocess.npz",
    )


def _add_summary(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", metavar="CONFIG", help=_CONFIG_HELP)


def _add_plot(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_dir", metavar="RUN_DIR", help="a run directory (or its history.json)"
    )
    p.add_argument(
        "--out",
        metavar="FILE.png",
        help="image to write (default: RUN_DIR/history.png)",
    )


def _add_gradcheck(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", metavar="CONFIG", help=_CONFIG_HELP)
    p.add_argument(
        "--samples",
        type=positive_int,
        default=4,
        help="random samples in the batch (default: 4)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random data")
    p.add_argument(
        "--max-checks",
        type=positive_int,
        default=200,
        metavar="N",
        help="check at most N entries of each parameter, drawn at random "
        "(default: 200; 0 is not allowed, use --all to check every entry)",
    )
    p.add_argument(
        "--all", action="store_true", help="check every entry of every parameter"
    )
    p.add_argument(
        "--rtol",
        type=positive_float,
        default=1e-5,
        help="relative tolerance (default: 1e-5)",
    )
    p.add_argument(
        "--atol",
        type=positive_float,
        default=1e-7,
        help="absolute tolerance (default: 1e-7); an entry passes when |backprop - "
        "numerical| <= atol + rtol * max(|backprop|, |numerical|)",
    )


def _add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", metavar="RUN_OR_MODEL", help="a model.npz file or a run directory"
    )
    p.add_argument("out", metavar="MODEL.onnx", help="the ONNX file to write")
    p.add_argument(
        "--softmax", action="store_true", help="output class probabilities, not logits"
    )
    p.add_argument(
        "--opset", type=int, default=17, help="ONNX opset (13 or newer; default 17)"
    )
    p.add_argument(
        "--raw-input",
        action="store_true",
        help="build the run directory's preprocess.npz into the graph (raw samples in)",
    )


def _add_benchmark(p: argparse.ArgumentParser) -> None:
    # main() hands everything after "benchmark" to the script, options included
    p.add_argument(
        "args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="arguments for scripts/benchmark.py",
    )


@dataclass(frozen=True)
class Command:
    """A command as ``lincoln --help`` and ``lincoln NAME --help`` show it."""

    name: str
    signature: str
    summary: str
    description: str
    examples: tuple[str, ...]
    add_arguments: Callable[[argparse.ArgumentParser], None]

    def epilog(self) -> str:
        heading = "examples:" if len(self.examples) > 1 else "example:"
        lines = "\n".join(f"  {e}" for e in self.examples)
        return f"{heading}\n{lines}\n\n{EXIT_CODES}"


COMMANDS = (
    Command(
        "train",
        "[CONFIG] [--out DIR] [--force]",
        "train the network a config file describes",
        "Train the network CONFIG describes and report test accuracy. --out DIR "
        "writes a run directory: config.toml, history.json, history.csv, "
        "metrics.json, model.npz, preprocess.npz. It is checked before training "
        "and written as a whole once training ends; a run already there is "
        "replaced only with --force.",
        ("lincoln train configs/digits_mlp.toml --out runs/digits",),
        _add_train,
    ),
    Command(
        "evaluate",
        "RUN_DIR_OR_MODEL [--data CONFIG_OR_NAME]",
        "test loss and accuracy of a saved model",
        "Load a saved model (a model.npz, or a run directory holding one) and report "
        "its loss and accuracy on the test split of --data: an experiment file, or a "
        "data set name (digits, mnist, fashion_mnist) with its default preprocessing. "
        "A run directory's own config.toml is used when --data is not given.",
        (
            "lincoln evaluate runs/digits",
            "lincoln evaluate runs/digits/model.npz --data configs/digits_mlp.toml",
        ),
        _add_evaluate,
    ),
    Command(
        "predict",
        "MODEL INPUT.npy [--out OUT.npy]",
        "predict with a saved model",
        "Run a saved model on the samples in INPUT.npy (shape (samples, *input_shape), "
        "preprocessed as the training data was) and print one prediction per line: the "
        "class for a classifier, the outputs otherwise; --out saves them as .npy "
        "instead.",
        ("lincoln predict runs/digits/model.npz samples.npy --out predictions.npy",),
        _add_predict,
    ),
    Command(
        "summary",
        "[CONFIG]",
        "print the configured network as a table",
        "Print the layers, operations, per-sample output shapes and parameter counts "
        "of the network CONFIG describes, for the input shape of its [data] (no data "
        "is loaded).",
        ("lincoln summary configs/digits_mlp.toml",),
        _add_summary,
    ),
    Command(
        "plot",
        "RUN_DIR [--out FILE.png]",
        "draw loss and accuracy curves of a run",
        "Draw the training loss (per epoch), the validation loss and accuracy (per "
        "evaluation) of a run directory's history.json to a PNG (default: "
        "RUN_DIR/history.png). Needs matplotlib: pip install 'lincoln[plot]'.",
        ("lincoln plot runs/digits --out digits.png",),
        _add_plot,
    ),
    Command(
        "gradcheck",
        "[CONFIG]",
        "check its gradients against central differences",
        "Rebuild the network CONFIG describes in float64, run it on a few random "
        "samples of its input shape, and compare every backpropagated parameter "
        "gradient with central differences; print the worst relative error per "
        "parameter. Exit code 1 when one exceeds --rtol.",
        ("lincoln gradcheck configs/digits_mlp.toml",),
        _add_gradcheck,
    ),
    Command(
        "export",
        "RUN_OR_MODEL MODEL.onnx [--softmax]",
        "write a saved model as an ONNX file",
        "Write the model saved at RUN_OR_MODEL (a model.npz or a run directory) as an "
        "ONNX graph with a free batch size, for ONNX Runtime. Needs the onnx extra: "
        "pip install 'lincoln[onnx]'.",
        ("lincoln export runs/digits digits.onnx --softmax",),
        _add_export,
    ),
    Command(
        "benchmark",
        "[ARGS...]",
        "time lincoln (scripts/benchmark.py, source tree only)",
        "Run scripts/benchmark.py of the source checkout lincoln is installed from, "
        "passing ARGS on to it. An installed wheel has no scripts/.",
        (
            "lincoln benchmark",
            "lincoln benchmark -- --help    (the script's own options)",
        ),
        _add_benchmark,
    ),
    Command(
        "tune",
        tune_command.SIGNATURE,
        tune_command.SUMMARY,
        tune_command.DESCRIPTION,
        tune_command.EXAMPLES,
        tune_command.add_arguments,
    ),
    Command(
        "generate",
        generate_command.SIGNATURE,
        generate_command.SUMMARY,
        generate_command.DESCRIPTION,
        generate_command.EXAMPLES,
        generate_command.add_arguments,
    ),
)


def _overview() -> str:
    signatures = [f"{c.name} {c.signature}".strip() for c in COMMANDS]
    width = max(len(s) for s in signatures) + 2
    lines = [
        f"  {s.ljust(width)}{c.summary}"
        for s, c in zip(signatures, COMMANDS, strict=True)
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The ``lincoln`` argument parser (one sub-parser per command); the chosen
    command's name is ``args.command``."""
    parser = argparse.ArgumentParser(
        prog="lincoln",
        usage="lincoln [-h] [--version] COMMAND ...",
        description="Train, inspect, check and use lincoln networks described by "
        "TOML experiment files.\n\ncommands:\n" + _overview(),
        epilog="Run 'lincoln COMMAND --help' for a command's options and an "
        "example.\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lincoln {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", help=argparse.SUPPRESS, prog="lincoln"
    )
    sub.required = True
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.summary,
            description=textwrap.fill(command.description, 79),
            epilog=command.epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(p)
    return parser
