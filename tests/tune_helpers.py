"""Helpers of the sweep tests: small experiment and space files, ``lincoln tune``
processes, and a throw-away PostgreSQL server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lincoln.config import load_config
from lincoln.tune import dumps

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CONFIG = ROOT / "configs" / "digits_mlp.toml"
DIGITS_SPACE = ROOT / "configs" / "digits_space.toml"

SMALL_SPACE = """\
"optimizer.lr" = {low = 0.005, high = 0.3, log = true}
"model.layers[0].neurons" = [16, 32, 64]
"""


def small_config(folder: Path, epochs: int = 6, eval_every: int = 2) -> Path:
    """digits_mlp.toml cut to a few epochs, evaluated every ``eval_every``,
    without early stopping: a trial of a fraction of a second."""
    config = load_config(DIGITS_CONFIG).config
    config["trainer"].update(epochs=epochs, eval_every=eval_every, early_stopping=False)
    path = folder / "small.toml"
    path.write_text(dumps(config))
    return path


def small_space(folder: Path, text: str = SMALL_SPACE) -> Path:
    path = folder / "space.toml"
    path.write_text(text)
    return path


def tune_command(*args: str) -> list[str]:
    """``lincoln tune ARGS`` run by this interpreter."""
    return [sys.executable, "-m", "lincoln.cli", "tune", *args]


def start_tune(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        tune_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> str:
    """Wait for ``process``; its stdout. Fails with its stderr if it failed."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (
        f"lincoln tune failed ({process.returncode}):\n{err}"
    )
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server could not be found or started."""


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL server: /usr/lib/postgresql/*/bin/initdb is missing "
            "(install Debian's postgresql package: apt-get install -y postgresql)"
        )
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder on a free local port;
    yield its URL (database ``postgres``, user ``postgres``, no password);
    stop it and remove the folder afterwards. As root, the server runs as the
    ``postgres`` user (initdb refuses root)."""
    bin_dir = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="lincoln-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd)} failed:\n{done.stderr}")

    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
