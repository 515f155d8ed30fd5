"""The ``lincoln`` command: train, inspect, check and use networks.

::

    lincoln train [CONFIG] [--out DIR]          train; --out writes a run directory
    lincoln evaluate RUN_DIR_OR_MODEL [--data CONFIG_OR_NAME]
    lincoln predict MODEL INPUT.npy [--out OUT.npy]
    lincoln summary [CONFIG]                    the network as a table
    lincoln plot RUN_DIR [--out FILE.png]       loss and accuracy curves
    lincoln gradcheck [CONFIG]                  backprop against central differences
    lincoln benchmark [ARGS...]                 scripts/benchmark.py of a source tree

With no CONFIG, ``train``, ``summary`` and ``gradcheck`` use
``configs/digits_mlp.toml`` (the bundled digits). A run directory written by
``lincoln train --out DIR`` holds ``config.toml``, ``history.json``,
``history.csv``, ``metrics.json`` and the trained ``model.npz``.

Exit codes: 0 success, 1 an error (one line on stderr, never a traceback for
a user's mistake; also a failed gradient check), 2 bad usage, 130 interrupted
by Ctrl-C (``train`` still writes the run directory).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import config as cfg
from ._version import __version__
from .base import ParamOperation
from .datasets import Standardizer
from .errors import ConfigError, GradientCheckError, LincolnError, ShapeError
from .gradcheck import check_network
from .losses import SoftmaxCrossEntropy
from .network import NeuralNetwork
from .optimizers import SGD
from .plotting import MATPLOTLIB_MISSING, plot_history
from .serialization import load
from .summary import summary
from .train import Trainer, sample_shape_mismatch

__all__ = [
    "main",
    "build_parser",
    "default_config_path",
    "load_model",
    "data_input_shape",
]

DEFAULT_CONFIG = "digits_mlp.toml"
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

# The source checkout this module sits in (scripts/ lives there, not in a wheel).
SOURCE_ROOT = Path(__file__).resolve().parent.parent

# (height, width) of each data set's images: enough to know a network's input
# shape without loading tens of megabytes of MNIST just to print a summary.
IMAGE_SIZES = {"digits": (8, 8), "mnist": (28, 28), "fashion_mnist": (28, 28)}


def default_config_path() -> Path:
    """``configs/digits_mlp.toml``: in the working folder, else beside the package."""
    candidates = [
        Path.cwd() / "configs" / DEFAULT_CONFIG,
        Path(__file__).resolve().parent.parent / "configs" / DEFAULT_CONFIG,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LincolnError(
        "no CONFIG given and the default configs/digits_mlp.toml was not found in "
        + " or ".join(str(c.parent) for c in candidates)
    )


def _cmd_train(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    history, metrics, _ = cfg.run_experiment(
        path,
        args.out,
        verbose=not args.quiet,
        progress=False if args.no_progress else None,
    )
    acc = metrics["test_accuracy"]
    figures = f"test loss {metrics['test_loss']:.4f}"
    if acc is not None:
        figures = f"test accuracy {acc:.4f}, " + figures
    print(
        f"{path.name}: {figures} after {metrics['epochs_run']} epochs "
        f"({metrics['train_seconds']:.1f} s)"
    )
    if args.out:
        print(f"run directory: {args.out}")
    if history.interrupted:
        print("interrupted: the best parameters were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    if history.stop_reason == "non_finite_loss":
        print(
            f"lincoln train: error: the loss became NaN or Inf in epoch "
            f"{history.stopped_epoch}, batch {history.stopped_batch}; training "
            f"stopped (try a smaller learning rate)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def data_input_shape(exp: cfg.Experiment) -> tuple[int, ...]:
    """The per-sample input shape the ``[data]`` section gives, without loading it:
    ``(H*W,)`` for ``shape = "flat"`` (the default), ``(1, H, W)`` for ``"image"``.

    Raises:
        ConfigError: unknown data set name or shape (naming the file and key).
    """
    data = exp.config["data"]
    name = data.get("name")
    if name not in IMAGE_SIZES:
        raise ConfigError(
            f"{exp.path}: data.name: unknown data set {name!r}; choose one of: "
            f"{', '.join(cfg.DATASETS)}"
        )
    shape = data.get("shape", "flat")
    if shape not in ("flat", "image"):
        raise ConfigError(
            f"{exp.path}: data.shape: must be 'flat' or 'image', received {shape!r}"
        )
    height, width = IMAGE_SIZES[name]
    return (height * width,) if shape == "flat" else (1, height, width)


def load_model(path: str | Path) -> NeuralNetwork:
    """The network saved at ``path``: a ``model.npz`` or a run directory holding one.

    Raises:
        FileNotFoundError: no such file, or no model.npz in the directory.
        ModelFileError: the file is not a lincoln model (see
            :func:`lincoln.serialization.load`).
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "model.npz").is_file():
            raise FileNotFoundError(
                f"{path}: no model.npz in this directory; 'lincoln train CONFIG --out "
                f"{path}' writes one"
            )
        path = path / "model.npz"
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such model file or run directory")
    return load(path)


def _load_array(path: str | Path) -> np.ndarray:
    path = Path(path)
    with open(path, "rb") as fh:  # FileNotFoundError is reported as it is
        magic = fh.read(6)
    if magic != b"\x93NUMPY":
        kind = "an .npz archive" if magic.startswith(b"PK") else "not a NumPy .npy file"
        raise LincolnError(f"{path}: {kind}; give one array saved with numpy.save")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise LincolnError(f"{path}: cannot read the array ({exc})") from None


def _check_samples(net: NeuralNetwork, X: np.ndarray, what: str) -> None:
    """A one-line ShapeError naming ``what`` when X's samples do not fit the model."""
    built_for = sample_shape_mismatch(net, X)
    if built_for is not None:
        raise ShapeError(
            f"{what}: samples of shape {tuple(X.shape[1:])} "
            f"(array shape {X.shape}), but "
            f"the model takes samples of shape {tuple(built_for)}"
        )


def _is_classifier(net: NeuralNetwork) -> bool:
    return isinstance(net.loss, SoftmaxCrossEntropy)


# -- the commands --------------------------------------------------------------------


def _cmd_summary(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    exp = cfg.load_config(path)
    net = cfg.build_network(exp)
    print(f"{path}:")
    print(summary(net, data_input_shape(exp)))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    source = Path(args.run_dir)
    run_dir = source if source.is_dir() else source.parent
    out = Path(args.out) if args.out else run_dir / "history.png"
    try:
        plot_history(source, out)
    except ImportError:
        # the one line the user needs, not the ImportError's own wording
        print(f"lincoln plot {MATPLOTLIB_MISSING}", file=sys.stderr)
        return EXIT_ERROR
    print(f"wrote {out}")
    return 0


def _evaluation_experiment(
    spec: str | None, model_path: Path, net: NeuralNetwork
) -> cfg.Experiment:
    if spec is None:
        run_dir = model_path if model_path.is_dir() else model_path.parent
        if (run_dir / "config.toml").is_file():  # a run directory, or a model in one
            return cfg.load_config(run_dir / "config.toml")
        raise LincolnError(
            "evaluate: give --data CONFIG_OR_NAME (an experiment file, or one of "
            f"{', '.join(cfg.DATASETS)}); only a run directory holding config.toml "
            "names its own data"
        )
    if spec in cfg.DATASETS:
        # the default preprocessing of that data set; pass the training config
        # when the model was trained on other settings
        built_for = net.input_shape
        shape = "image" if built_for is not None and len(built_for) > 1 else "flat"
        return cfg.Experiment(
            path=Path(spec), config={"data": {"name": spec, "shape": shape}}
        )
    if not Path(spec).is_file() and Path(spec).suffix != ".toml":
        raise LincolnError(
            f"--data {spec}: neither an experiment file nor a data set name "
            f"({', '.join(cfg.DATASETS)})"
        )
    return cfg.load_config(spec)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    model_path = Path(args.model)
    net = load_model(model_path)
    exp = _evaluation_experiment(args.data, model_path, net)
    _, _, X_test, y_test = cfg.load_data(exp, dtype=net.dtype)
    _check_samples(net, X_test, f"{exp.path} test data")
    # the very computation behind metrics.json's test figures (Trainer.evaluate;
    # the optimizer is never stepped)
    loss, acc = cfg.evaluate_test(Trainer(net, SGD()), X_test, y_test)
    metrics = {
        "model": str(model_path),
        "data": str(exp.path),
        "test_loss": loss,
        "test_accuracy": acc,
        "test_samples": int(len(X_test)),
    }
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    figures = f"test loss {loss:.4f}"
    if acc is not None:
        figures = f"test accuracy {acc:.4f}, " + figures
    print(f"{model_path}: {figures} on {len(X_test)} samples ({exp.path})")
    return 0


def _prepare_like_training(model: Path, X: np.ndarray) -> np.ndarray:
    run_dir = model if model.is_dir() else model.parent
    path = run_dir / cfg.PREPROCESS_FILE
    if not path.is_file():
        raise LincolnError(
            f"--raw-input: {path} not found; it is written by lincoln train --out "
            f"into the run directory"
        )
    return Standardizer.load(path).transform(X)


def _cmd_predict(args: argparse.Namespace) -> int:
    net = load_model(args.model)
    X = _load_array(args.input)
    if args.raw_input:
        X = _prepare_like_training(Path(args.model), X)
    built_for = net.input_shape
    if built_for is not None and tuple(X.shape) == tuple(built_for):
        X = X[np.newaxis]  # one sample without its batch axis
    _check_samples(net, X, str(args.input))
    outputs = net.predict(X)
    classes = _is_classifier(net) and not args.raw
    result = outputs.argmax(axis=1) if classes else outputs
    what = "predicted classes" if classes else "outputs"
    if args.out:
        out = Path(args.out)
        np.save(out, result)
        written = out if out.suffix == ".npy" else out.with_name(out.name + ".npy")
        print(
            f"wrote {what} of {len(result)} samples, shape {result.shape}, to {written}"
        )
    elif classes:
        np.savetxt(sys.stdout, result, fmt="%d")
    else:
        np.savetxt(sys.stdout, result.reshape(len(result), -1), fmt="%.6g")
    return 0


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    exp = cfg.load_config(path)
    # central differences need float64: rebuild the configured network in it
    config = cfg.config_copy(exp)
    config["model"]["dtype"] = "float64"
    net = cfg.build_network(cfg.Experiment(path=exp.path, config=config))
    input_shape = data_input_shape(exp)
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.samples, *input_shape))
    net.build(input_shape)
    out_shape = net.layers[-1].output.shape[1:]  # type: ignore[union-attr]
    if _is_classifier(net):
        y: np.ndarray = rng.integers(0, out_shape[0], size=args.samples)
    else:
        y = rng.standard_normal((args.samples, *out_shape))
    count = net.count_params()
    max_checks = None if args.all else args.max_checks
    checks = sum(
        p.size if max_checks is None else min(p.size, max_checks) for p in net.params()
    )
    print(
        f"gradient check of {path}: float64, {args.samples} random samples of shape "
        f"{input_shape}, {checks:,} of {count:,} parameter entries (two forward "
        f"passes each" + (", this takes a while)" if checks > 100_000 else ")"),
        flush=True,
    )
    report = check_network(
        net,
        X,
        y,
        rtol=args.rtol,
        raise_exception=False,
        max_checks=max_checks,
        seed=args.seed,
    )

    ops = {}
    for i, layer in enumerate(net.layers):
        param_ops = [op for op in layer.operations if isinstance(op, ParamOperation)]
        for j, op in enumerate(param_ops):
            ops[f"layers.{i}.params.{j}"] = (
                type(layer).__name__,
                type(op).__name__,
                op.param.shape,
            )
    rows = [("parameter", "layer", "operation", "shape", "max rel. error", "")]
    for name, comp in report.comparisons.items():
        layer_name, op_name, shape = ops.get(name, ("?", "?", ()))
        rows.append(
            (
                name,
                layer_name,
                op_name,
                str(tuple(shape)),
                f"{comp.max_rel_error:.2e}",
                "ok" if comp.passed else "FAILED",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        )
    if not report.passed:
        failed = [c for c in report.comparisons.values() if not c.passed]
        worst = max(failed, key=lambda c: c.max_rel_error)
        raise GradientCheckError(
            f"{path}: gradient check failed for {', '.join(c.name for c in failed)}: "
            f"largest relative error {worst.max_rel_error:.3e} > rtol {args.rtol:g} at "
            f"{worst.name}{list(worst.index)} (backprop "
            f"{worst.analytic:.6g}, numerical "
            f"{worst.numerical:.6g})"
        )
    print(
        f"passed: largest relative error {report.max_rel_error:.2e} "
        f"(rtol {args.rtol:g})"
    )
    return 0


def _benchmark_script() -> Path:
    return SOURCE_ROOT / "scripts" / "benchmark.py"


def _cmd_benchmark(args: argparse.Namespace) -> int:
    script = _benchmark_script()
    if not script.is_file():
        raise LincolnError(
            f"no benchmark script at {script}: 'lincoln benchmark' runs "
            "scripts/benchmark.py of a source checkout of lincoln (pip install -e .), "
            "which an installed wheel does not include"
        )
    return subprocess.run([sys.executable, str(script), *args.args]).returncode


# -- the parser -----------------------------------------------------------------------


_EXIT_CODES = (
    "exit codes: 0 success; 1 error (one line on stderr); 2 bad usage; 130 interrupted"
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, received {text!r}"
        )
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, received {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``lincoln`` argument parser (one sub-parser per command)."""
    parser = argparse.ArgumentParser(
        prog="lincoln",
        usage="lincoln [-h] [--version] COMMAND ...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lincoln {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", help=argparse.SUPPRESS, prog="lincoln"
    )
    sub.required = True
    overview: list[tuple[str, str]] = []

    def command(
        name: str,
        signature: str,
        summary_line: str,
        description: str,
        examples: Sequence[str],
        func: Callable[[argparse.Namespace], int],
    ) -> argparse.ArgumentParser:
        overview.append((f"{name} {signature}".strip(), summary_line))
        epilog = (
            "example"
            + ("s" if len(examples) > 1 else "")
            + ":\n"
            + "\n".join(f"  {e}" for e in examples)
            + "\n\n"
            + _EXIT_CODES
        )
        p = sub.add_parser(
            name,
            help=summary_line,
            description=textwrap.fill(description, 79),
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    train = command(
        "train",
        "[CONFIG] [--out DIR]",
        "train the network a config file describes",
        "Train the network CONFIG describes and "
        "report test accuracy. --out DIR writes a "
        "run directory: config.toml, history.json, "
        "history.csv, metrics.json, model.npz.",
        ["lincoln train configs/digits_mlp.toml --out runs/digits"],
        _cmd_train,
    )
    train.add_argument(
        "config", nargs="?", help="experiment file (default: configs/digits_mlp.toml)"
    )
    train.add_argument(
        "--out", metavar="DIR", help="write config, history, metrics and the model here"
    )
    train.add_argument("--quiet", action="store_true", help="no per-evaluation lines")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    evaluate = command(
        "evaluate",
        "RUN_DIR_OR_MODEL [--data CONFIG_OR_NAME]",
        "test loss and accuracy of a saved model",
        "Load a saved model (a model.npz, or a run "
        "directory holding one) and report its "
        "loss and accuracy on the test split of "
        "--data: an experiment file, or a data set "
        "name (digits, mnist, fashion_mnist) with its default preprocessing. A run "
        "directory's own config.toml is used when --data is not given.",
        [
            "lincoln evaluate runs/digits",
            "lincoln evaluate runs/digits/model.npz --data configs/digits_mlp.toml",
        ],
        _cmd_evaluate,
    )
    evaluate.add_argument(
        "model", metavar="RUN_DIR_OR_MODEL", help="a run directory or a model.npz file"
    )
    evaluate.add_argument(
        "--data",
        metavar="CONFIG_OR_NAME",
        help="experiment file or data set name (default: the run "
        "directory's config.toml)",
    )
    evaluate.add_argument(
        "--json", action="store_true", help="print the figures as JSON"
    )

    predict = command(
        "predict",
        "MODEL INPUT.npy [--out OUT.npy]",
        "predict with a saved model",
        "Run a saved model on the samples in INPUT.npy (shape (samples, *input_shape), "
        "preprocessed as the training data was) and print one prediction per line: the "
        "class for a classifier, the outputs "
        "otherwise; --out saves them as .npy instead.",
        ["lincoln predict runs/digits/model.npz samples.npy --out predictions.npy"],
        _cmd_predict,
    )
    predict.add_argument(
        "model", metavar="MODEL", help="a model.npz file or a run directory holding one"
    )
    predict.add_argument("input", metavar="INPUT.npy", help="the samples, a .npy array")
    predict.add_argument("--out", metavar="OUT.npy", help="save the predictions here")
    predict.add_argument(
        "--raw",
        action="store_true",
        help="a classifier's raw outputs (logits) instead of classes",
    )
    predict.add_argument(
        "--raw-input",
        action="store_true",
        help="INPUT holds unprepared samples (e.g. pixel values): prepare them as "
        "the training data was, with the run directory's preprocess.npz",
    )

    summary_cmd = command(
        "summary",
        "[CONFIG]",
        "print the configured network as a table",
        "Print the layers, operations, per-sample "
        "output shapes and parameter counts of "
        "the network CONFIG describes, for the input shape of its [data] (no data is "
        "loaded).",
        ["lincoln summary configs/digits_mlp.toml"],
        _cmd_summary,
    )
    summary_cmd.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG",
        help="experiment file (default: configs/digits_mlp.toml)",
    )

    plot = command(
        "plot",
        "RUN_DIR [--out FILE.png]",
        "draw loss and accuracy curves of a run",
        "Draw the training loss (per epoch), the validation loss and accuracy (per "
        "evaluation) of a run directory's history.json to a PNG (default: "
        "RUN_DIR/history.png). Needs matplotlib: pip install 'lincoln[plot]'.",
        ["lincoln plot runs/digits --out digits.png"],
        _cmd_plot,
    )
    plot.add_argument(
        "run_dir", metavar="RUN_DIR", help="a run directory (or its history.json)"
    )
    plot.add_argument(
        "--out",
        metavar="FILE.png",
        help="image to write (default: RUN_DIR/history.png)",
    )

    grad = command(
        "gradcheck",
        "[CONFIG]",
        "check its gradients against central differences",
        "Rebuild the network CONFIG describes in "
        "float64, run it on a few random samples "
        "of its input shape, and compare every backpropagated parameter gradient with "
        "central differences; print the worst "
        "relative error per parameter. Exit code 1 "
        "when one exceeds --rtol.",
        ["lincoln gradcheck configs/digits_mlp.toml"],
        _cmd_gradcheck,
    )
    grad.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG",
        help="experiment file (default: configs/digits_mlp.toml)",
    )
    grad.add_argument(
        "--samples",
        type=_positive_int,
        default=4,
        help="random samples in the batch (default: 4)",
    )
    grad.add_argument("--seed", type=int, default=0, help="seed of the random data")
    grad.add_argument(
        "--max-checks",
        type=_positive_int,
        default=200,
        metavar="N",
        help="check at most N entries of each parameter, drawn at random "
        "(default: 200; 0 is not allowed, use --all to check every entry)",
    )
    grad.add_argument(
        "--all", action="store_true", help="check every entry of every parameter"
    )
    grad.add_argument(
        "--rtol",
        type=_positive_float,
        default=1e-5,
        help="largest relative error accepted (default: 1e-5)",
    )

    bench = command(
        "benchmark",
        "[ARGS...]",
        "time lincoln (scripts/benchmark.py, source tree only)",
        "Run scripts/benchmark.py of the source checkout lincoln is installed from, "
        "passing ARGS on to it. An installed wheel has no scripts/.",
        [
            "lincoln benchmark",
            "lincoln benchmark -- --help    (the script's own options)",
        ],
        _cmd_benchmark,
    )
    bench.add_argument(
        "args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="arguments for scripts/benchmark.py",
    )

    width = max(len(sig) for sig, _ in overview) + 2
    lines = [f"  {sig.ljust(width)}{text}" for sig, text in overview]
    parser.description = (
        "Train, inspect, check and use lincoln networks described by "
        "TOML experiment files.\n\ncommands:\n" + "\n".join(lines)
    )
    parser.epilog = (
        "Run 'lincoln COMMAND --help' for a command's options and an "
        "example.\n" + _EXIT_CODES
    )
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc) or type(exc).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["benchmark"] and argv[1:2] not in (["-h"], ["--help"]):
        # everything after "benchmark" belongs to the script, options included
        # (argparse's REMAINDER drops a leading option); "--" may separate them
        args = parser.parse_args(["benchmark"])
        args.args = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.func(args))
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
