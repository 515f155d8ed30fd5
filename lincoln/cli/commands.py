"""What each ``lincoln`` command does, given its parsed arguments.

Each command returns its exit code, or raises a :class:`~lincoln.errors.LincolnError`
(or an ``OSError``) that :func:`lincoln.cli.main` reports as one line. The checks
are the library's (the config reader, the network, the trainer); a command only
adds which file the error is about.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as cfg
from ..base import ParamOperation
from ..errors import GradientCheckError, LincolnError, ShapeError
from ..gradcheck import GradientCheckReport, check_network
from ..io.rundir import holds_run
from ..losses import SoftmaxCrossEntropy
from ..network import NeuralNetwork
from ..optimizers import SGD
from ..plotting import MATPLOTLIB_MISSING, image_format, plot_history
from ..summary import summary as summary_table
from ..train import History, Trainer
from .files import config_path, load_array, load_model, prepare_like_training

__all__ = [
    "train",
    "evaluate",
    "predict",
    "summary",
    "plot",
    "gradcheck",
    "export",
    "benchmark",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


@contextmanager
def _about(what: str) -> Iterator[None]:
    """Name the file a ShapeError of the block is about (the check is the
    network's or the trainer's; this only adds where the samples came from)."""
    try:
        yield
    except ShapeError as exc:
        raise ShapeError(f"{what}: {exc}") from None


def _is_classifier(net: NeuralNetwork) -> bool:
    return isinstance(net.loss, SoftmaxCrossEntropy)


def _figures(loss: float, acc: float | None) -> str:
    figures = f"test loss {loss:.4f}"
    return figures if acc is None else f"test accuracy {acc:.4f}, " + figures


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (e.g. from a job scheduler) stops training like Ctrl-C does:
    the best parameters are kept and the run directory is written."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def train(args: argparse.Namespace) -> int:
    """``lincoln train``: train, report test figures, write a run directory.

    ``--out`` is checked before any data is loaded; the run directory is
    written as a whole once training ends (replacing a run there only with
    ``--force``). Ctrl-C or SIGTERM stop training with the best parameters
    kept; the run directory is still written and ``main`` exits with 130.
    """
    path = config_path(args.config)

    def report(history: History, metrics: dict[str, Any]) -> None:
        # printed before the run directory is written: a failed write loses nothing
        figures = (
            _text_figures(metrics)
            if "perplexity" in metrics
            else _figures(metrics["test_loss"], metrics["test_accuracy"])
        )
        print(
            f"{path.name}: {figures} "
            f"after {metrics['epochs_run']} epochs ({metrics['train_seconds']:.1f} s)"
            + _chosen(metrics),
            flush=True,
        )

    replaced = args.out is not None and holds_run(Path(args.out))
    exp = cfg.load_config(path)
    if args.threads is not None:  # --threads overrides [trainer] threads
        exp.config.setdefault("trainer", {})["threads"] = args.threads
    with _sigterm_as_interrupt():
        history, _, _ = cfg.run_experiment(
            exp,
            args.out,
            verbose=not args.quiet,
            progress=False if args.no_progress else None,
            force=args.force,
            report=report,
        )
    if args.out:
        print(f"run directory: {args.out}" + (" (replaced)" if replaced else ""))
    if history.stop_reason == "non_finite_loss":
        print(
            f"lincoln train: error: the loss became NaN or Inf in epoch "
            f"{history.stopped_epoch}, batch {history.stopped_batch}; training "
            f"stopped (try a smaller learning rate)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def _text_figures(metrics: dict[str, Any]) -> str:
    """A language model's validation figures (a text has no test set)."""
    if metrics["nats_per_char"] is None:
        return "no validation data (data.val_fraction = 0)"
    return (
        f"validation {metrics['nats_per_char']:.4f} nats/char, perplexity "
        f"{metrics['perplexity']:.2f}"
    )


def _chosen(metrics: dict[str, Any]) -> str:
    """Which data chose the model the run keeps: held-out training data, the
    test set (no data.validation_split), or none (the last epoch's is kept)."""
    if metrics["selected_on"] == "validation_split":
        data = f"{metrics['validation_split']:.0%} of the training data"
    elif metrics["selected_on"] == "none":  # a text with val_fraction = 0
        return "; the last epoch's model kept (no validation data)"
    elif metrics["selected_on"] == "validation":
        data = "the end of the text (data.val_fraction)"
    else:
        data = "the test set (no data.validation_split)"
    if (
        metrics["held_epoch"] is not None
        and metrics["held_epoch"] != metrics["best_epoch"]
    ):
        return f"; the last epoch's model kept (validated on {data})"
    return f"; model chosen on {data}"


def summary(args: argparse.Namespace) -> int:
    """``lincoln summary``: the configured network as a table (no data loaded)."""
    path = config_path(args.config)
    exp = cfg.load_config(path)
    net = cfg.build_network(exp)
    print(f"{path}:")
    print(summary_table(net, cfg.data_input_shape(exp)))
    return 0


def plot(args: argparse.Namespace) -> int:
    """``lincoln plot``: a run's loss and accuracy curves as a PNG."""
    source = Path(args.run_dir)
    run_dir = source if source.is_dir() else source.parent
    out = Path(args.out) if args.out else run_dir / "history.png"
    try:
        plot_history(source, out)
    except ImportError:
        # the one line the user needs, not the ImportError's own wording
        print(f"lincoln plot {MATPLOTLIB_MISSING}", file=sys.stderr)
        return EXIT_ERROR
    fmt = image_format(out)  # written at exactly OUT; say so if OUT does not
    named = out.suffix[1:].lower() == fmt
    print(f"wrote {out}" + ("" if named else f" (a {fmt.upper()} image)"))
    return 0


def _evaluation_experiment(
    spec: str | None, model_path: Path, net: NeuralNetwork
) -> cfg.Experiment:
    """What ``--data`` names: an experiment file, a data set with its default
    preprocessing, or (not given) the run directory's own config.toml."""
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


def evaluate(args: argparse.Namespace) -> int:
    """``lincoln evaluate``: a saved model's test loss and accuracy."""
    model_path = Path(args.model)
    net = load_model(model_path)
    exp = _evaluation_experiment(args.data, model_path, net)
    _, _, X_test, y_test = cfg.load_data(exp, dtype=net.dtype)
    # the very computation behind metrics.json's test figures (Trainer.evaluate;
    # the optimizer is never stepped)
    with _about(f"{exp.path} test data"):
        loss, acc = cfg.evaluate_test(Trainer(net, SGD()), X_test, y_test)
    if args.json:
        metrics = {
            "model": str(model_path),
            "data": str(exp.path),
            "test_loss": loss,
            "test_accuracy": acc,
            "test_samples": int(len(X_test)),
        }
        print(json.dumps(metrics, indent=2))
        return 0
    print(f"{model_path}: {_figures(loss, acc)} on {len(X_test)} samples ({exp.path})")
    return 0


def predict(args: argparse.Namespace) -> int:
    """``lincoln predict``: a saved model's classes (or outputs) for INPUT.npy."""
    net = load_model(args.model)
    X = load_array(args.input)
    if args.raw_input:
        X = prepare_like_training(Path(args.model), X, str(args.input))
    built_for = net.input_shape
    if built_for is not None and tuple(X.shape) == tuple(built_for):
        X = X[np.newaxis]  # one sample without its batch axis
    with _about(str(args.input)):
        outputs = net.predict(X)
    classes = _is_classifier(net) and not args.raw
    result = outputs.argmax(axis=1) if classes else outputs
    if args.out:
        out = Path(args.out)
        np.save(out, result)
        written = out if out.suffix == ".npy" else out.with_name(out.name + ".npy")
        what = "predicted classes" if classes else "outputs"
        print(
            f"wrote {what} of {len(result)} samples, shape {result.shape}, to {written}"
        )
    elif classes:
        np.savetxt(sys.stdout, result, fmt="%d")
    else:
        np.savetxt(sys.stdout, result.reshape(len(result), -1), fmt="%.6g")
    return 0


def gradcheck(args: argparse.Namespace) -> int:
    """``lincoln gradcheck``: backpropagated gradients against central differences.

    Raises:
        GradientCheckError: an entry's difference exceeds atol + rtol * its size.
    """
    path = config_path(args.config)
    exp = cfg.load_config(path)
    net, X, y = _float64_network_and_data(exp, args.samples, args.seed)
    max_checks = None if args.all else args.max_checks
    checks = sum(
        p.size if max_checks is None else min(p.size, max_checks) for p in net.params()
    )
    print(
        f"gradient check of {path}: float64, {args.samples} random samples of shape "
        f"{X.shape[1:]}, {checks:,} of {net.count_params():,} parameter entries (two "
        f"forward passes each" + (", this takes a while)" if checks > 100_000 else ")"),
        flush=True,
    )
    report = check_network(
        net,
        X,
        y,
        rtol=args.rtol,
        atol=args.atol,
        raise_exception=False,
        max_checks=max_checks,
        seed=args.seed,
    )
    _print_table(_gradcheck_rows(net, report))
    if not report.passed:
        failed = [c for c in report.comparisons.values() if not c.passed]
        worst = max(failed, key=lambda c: c.error_ratio)
        raise GradientCheckError(
            f"{path}: gradient check failed for {', '.join(c.name for c in failed)}: "
            f"error ratio {worst.error_ratio:.3g} > 1 (rtol {args.rtol:g}, atol "
            f"{args.atol:g}) at {worst.name}{list(worst.index)} (backprop "
            f"{worst.analytic:.6g}, numerical {worst.numerical:.6g})"
        )
    print(
        f"passed: error ratio {report.error_ratio:.2g} <= 1 (rtol {args.rtol:g}, "
        f"atol {args.atol:g}); largest relative error {report.max_rel_error:.2e}"
    )
    return 0


def _float64_network_and_data(
    exp: cfg.Experiment, samples: int, seed: int
) -> tuple[NeuralNetwork, np.ndarray, np.ndarray]:
    """The configured network rebuilt in float64 (central differences need it),
    and random inputs of its data's shape with targets that fit its loss."""
    config = cfg.config_copy(exp)
    config["model"]["dtype"] = "float64"
    net = cfg.build_network(cfg.Experiment(path=exp.path, config=config))
    input_shape = cfg.data_input_shape(exp)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, *input_shape))
    net.build(input_shape)
    out_shape = net.layers[-1].output.shape[1:]  # type: ignore[union-attr]
    if _is_classifier(net):
        return net, X, rng.integers(0, out_shape[0], size=samples)
    return net, X, rng.standard_normal((samples, *out_shape))


def _gradcheck_rows(
    net: NeuralNetwork, report: GradientCheckReport
) -> list[tuple[str, ...]]:
    """One row per checked parameter: its name, layer, operation, shape, error."""
    ops = {}
    for i, layer in enumerate(net.layers):
        param_ops = [op for op in layer.operations if isinstance(op, ParamOperation)]
        for j, op in enumerate(param_ops):
            ops[f"layers.{i}.params.{j}"] = (
                type(layer).__name__,
                type(op).__name__,
                str(tuple(op.param.shape)),
            )
    rows: list[tuple[str, ...]] = [
        ("parameter", "layer", "operation", "shape", "max rel. error", "ratio", "")
    ]
    for name, comp in report.comparisons.items():
        layer_name, op_name, shape = ops.get(name, ("?", "?", "()"))
        verdict = "ok" if comp.passed else "FAILED"
        errors = (f"{comp.max_rel_error:.2e}", f"{comp.error_ratio:.2g}")
        rows.append((name, layer_name, op_name, shape, *errors, verdict))
    return rows


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        )


def export(args: argparse.Namespace) -> int:
    """``lincoln export``: a saved model as an ONNX file."""
    try:  # an optional extra: imported by the one command that needs it
        from ..onnx import export_file
    except ImportError as exc:
        raise LincolnError(str(exc)) from None
    out = export_file(
        args.model,
        args.out,
        softmax=args.softmax,
        opset=args.opset,
        raw_input=args.raw_input,
    )
    print(f"wrote {out}")
    return 0


def benchmark(args: argparse.Namespace, source_root: Path) -> int:
    """``lincoln benchmark``: run ``scripts/benchmark.py`` of the source checkout
    at ``source_root`` with ARGS; its exit code is the command's."""
    script = source_root / "scripts" / "benchmark.py"
    if not script.is_file():
        raise LincolnError(
            f"no benchmark script at {script}: 'lincoln benchmark' runs "
            "scripts/benchmark.py of a source checkout of lincoln (pip install -e .), "
            "which an installed wheel does not include"
        )
    return subprocess.run([sys.executable, str(script), *args.args]).returncode
