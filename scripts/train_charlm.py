"""Train the character language model of ``configs/charlm_lstm.toml`` and report
validation nats per character after every epoch, then print a sample.

A stand-alone loop for the recipe (the same layers, optimizer, batches of
shuffled sequences and held-out split as ``lincoln train`` with that file):

    python scripts/train_charlm.py                        # 12 epochs
    python scripts/train_charlm.py --epochs 2 --out runs/charlm.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from lincoln.datasets.text import sample, text_dataset
from lincoln.layers import layer_from_config
from lincoln.losses import get_loss
from lincoln.network import NeuralNetwork
from lincoln.optimizers import get_optimizer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "charlm_lstm.toml"


def build(config: dict, vocab_tokens: list[str]) -> NeuralNetwork:
    specs = [dict(spec) for spec in config["model"]["layers"]]
    specs[0].update(vocab_size=len(vocab_tokens), vocab=vocab_tokens)
    specs[-1]["neurons"] = len(vocab_tokens)
    return NeuralNetwork(
        [layer_from_config(spec) for spec in specs],
        get_loss(config["model"]["loss"]),
        seed=config["model"].get("seed", 1),
    )


def evaluate(net: NeuralNetwork, X: np.ndarray, y: np.ndarray, bs: int = 256) -> float:
    total = 0.0
    for s in range(0, len(X), bs):
        pred = net.forward(X[s : s + bs], inference=True)
        total += net.loss.forward(pred, y[s : s + bs]) * len(X[s : s + bs])
    return total / len(X)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None, help="save the model here")
    args = parser.parse_args(argv)
    config = tomllib.loads(Path(args.config).read_text())
    d, t = config["data"], config["trainer"]
    data = text_dataset(
        d.get("path"),
        d.get("seq_len", 64),
        d.get("val_fraction", 0.1),
        d.get("encoding", "utf-8"),
    )
    net = build(config, data.vocab.tokens)
    opt_spec = dict(config["optimizer"])
    optim = get_optimizer(opt_spec)
    optim.bind(net)
    rng = np.random.default_rng(t.get("seed", 1))
    bs, n = t.get("batch_size", 32), len(data.X_train)
    epochs = args.epochs or t.get("epochs", 12)
    print(
        f"{n} training sequences, {len(data.X_val)} validation, vocab {len(data.vocab)}"
    )
    for epoch in range(1, epochs + 1):
        t0, losses = time.perf_counter(), []
        perm = rng.permutation(n)
        for s in range(0, n, bs):
            idx = perm[s : s + bs]
            losses.append(net.train_batch(data.X_train[idx], data.y_train[idx]))
            optim.step()
        secs = time.perf_counter() - t0
        val = evaluate(net, data.X_val, data.y_val)
        print(
            f"epoch {epoch:2d}  train {np.mean(losses):.4f}  val {val:.4f} nats/char  "
            f"perplexity {np.exp(val):.2f}  {n * data.X_train.shape[1] / secs:,.0f} "
            f"chars/s",
            flush=True,
        )
    if args.out:
        net.save(args.out)
    print(sample(net, prompt="KING", length=300, temperature=0.8, seed=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
