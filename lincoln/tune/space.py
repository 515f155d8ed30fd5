"""Search spaces: which keys of an experiment file a sweep varies, and over what.

A search space is a small TOML file. Each key names a value of the experiment
file, as a dotted path with list indices; each value says the range::

    "optimizer.lr" = {low = 1e-3, high = 0.3, log = true}     # float, log scale
    "optimizer.momentum" = {low = 0.5, high = 0.99}            # float
    "trainer.batch_size" = {low = 16, high = 128, step = 16}   # int (int bounds)
    "model.layers[0].neurons" = [32, 64, 128, 256]             # one of these
    "model.layers[0].activation" = ["relu", "tanh"]

A table with ``low`` and ``high`` is a float range when a bound is a float
(write ``1.0``, not ``1``), else an int range; ``log = true`` samples on a log
scale; ``step`` draws on a grid. A list (or ``{choices = [...]}``) is a
categorical choice. The ranges are Optuna's distributions, which check them.
"""

from __future__ import annotations

import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import Trial

from ..config import SECTIONS
from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

__all__ = ["Parameter", "SearchSpace", "load_space", "parse_key", "set_value"]

Step = str | int  # one step of a key's path: a table key or a list index
_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)")
_RANGE_KEYS = ("low", "high", "log", "step")


def parse_key(key: str) -> tuple[Step, ...]:
    """``"model.layers[0].neurons"`` -> ``("model", "layers", 0, "neurons")``.

    Raises:
        ValueError: the key is not a dotted path of names with ``[index]``es.
    """
    path: list[Step] = []
    for part in key.split("."):
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(
                "not a key of the experiment file (names joined by dots, list "
                "entries as [index], e.g. model.layers[0].neurons)"
            )
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return tuple(path)


def set_value(config: dict[str, Any], path: tuple[Step, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in ``config`` (in place).

    A missing table on the way is created (``trainer.patience`` without a
    ``[trainer]``); a list index must exist.

    Raises:
        ValueError: the path runs through a value that is not a table or list,
            or past the end of a list.
    """
    node: Any = config
    for i, step in enumerate(path):
        where = _describe(path[:i]) or "the file"
        last = i == len(path) - 1
        if isinstance(step, int):
            if not isinstance(node, list):
                raise ValueError(f"{where} is not a list")
            if step >= len(node):
                raise ValueError(
                    f"{where} has {len(node)} entries; [{step}] is not one of them"
                )
        elif not isinstance(node, dict):
            raise ValueError(f"{where} is not a table")
        elif not last and step not in node:
            node[step] = {}
        if last:
            node[step] = value
        else:
            node = node[step]


def _describe(path: tuple[Step, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".")


@dataclass(frozen=True)
class Parameter:
    """One key of the experiment file and the range a sweep draws it from."""

    key: str
    path: tuple[Step, ...]
    distribution: BaseDistribution

    def bounds(self) -> list[Any]:
        """The values at the edges of the range (every choice of a categorical)."""
        dist = self.distribution
        if isinstance(dist, CategoricalDistribution):
            return list(dist.choices)
        assert isinstance(dist, FloatDistribution | IntDistribution)
        return [dist.low, dist.high]

    def suggest(self, trial: Trial) -> Any:
        """Draw this parameter's value for ``trial`` (named by its key)."""
        dist = self.distribution
        if isinstance(dist, FloatDistribution):
            return trial.suggest_float(
                self.key, dist.low, dist.high, log=dist.log, step=dist.step
            )
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(
                self.key, dist.low, dist.high, step=dist.step, log=dist.log
            )
        assert isinstance(dist, CategoricalDistribution)
        return trial.suggest_categorical(self.key, dist.choices)  # type: ignore[call-overload]


class SearchSpace:
    """The parameters of a search-space file, in the file's order.

    Args:
        path: the file (named in every error).
        parameters: the keys and their ranges.
    """

    def __init__(self, path: Path, parameters: list[Parameter]) -> None:
        if not parameters:
            raise ConfigError(f"{path}: names no key to search over")
        self.path = path
        self.parameters = parameters

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError naming this file and ``key``."""
        return ConfigError(f"{self.path}: {key}: {message}")

    def suggest(self, trial: Trial) -> dict[str, Any]:
        """Draw every parameter for ``trial``: ``{key: value}``."""
        return {p.key: p.suggest(trial) for p in self.parameters}

    def apply(self, config: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """A deep copy of ``config`` with ``values`` (``{key: value}``) set.

        Raises:
            ConfigError: a key does not fit ``config`` (naming this file and key).
        """
        result = copy.deepcopy(config)
        paths = {p.key: p.path for p in self.parameters}
        for key, value in values.items():
            try:
                set_value(result, paths[key], value)
            except ValueError as exc:
                raise self.error(key, str(exc)) from None
        return result

    def __repr__(self) -> str:
        keys = ", ".join(p.key for p in self.parameters)
        return f"SearchSpace({str(self.path)!r}, [{keys}])"


def load_space(path: str | Path) -> SearchSpace:
    """Read a search-space file.

    Raises:
        ConfigError: the file is missing or not TOML, a key is not a path into
            an experiment file's sections, or a range is not valid (the message
            names the file and the key).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: search-space file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read search-space file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return SearchSpace(path, [_parameter(path, k, v) for k, v in _flatten(data)])


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(key, range)`` pairs; unquoted dotted keys (nested tables) are joined."""
    pairs: list[tuple[str, Any]] = []
    for name, value in data.items():
        key = f"{prefix}{name}"
        is_range = isinstance(value, dict) and (
            "choices" in value or any(k in value for k in _RANGE_KEYS)
        )
        if isinstance(value, dict) and not is_range and value:
            pairs.extend(_flatten(value, f"{key}."))
        else:
            pairs.append((key, value))
    return pairs


def _parameter(path: Path, key: str, spec: Any) -> Parameter:
    def error(message: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {message}")

    try:
        steps = parse_key(key)
    except ValueError as exc:
        raise error(str(exc)) from None
    if steps[0] not in SECTIONS or len(steps) < 2:
        valid = ", ".join(SECTIONS)
        raise error(f"must start with a section of the experiment file ({valid})")
    try:
        return Parameter(key, steps, _distribution(spec))
    except (TypeError, ValueError) as exc:
        raise error(str(exc)) from None


def _distribution(spec: Any) -> BaseDistribution:
    """The Optuna distribution a range describes (Optuna checks the bounds)."""
    if isinstance(spec, dict) and "choices" in spec:
        if set(spec) != {"choices"}:
            raise ValueError("a table with choices takes no other key")
        spec = spec["choices"]
    if isinstance(spec, list):
        if not spec:
            raise ValueError("needs at least one choice")
        if not all(isinstance(c, str | int | float | bool) for c in spec):
            raise ValueError(
                f"choices must be strings, numbers or true/false, received {spec!r}"
            )
        return CategoricalDistribution(spec)
    if not isinstance(spec, dict):
        raise ValueError(
            "must be a list of choices or a range such as {low = 1e-4, high = 0.1, "
            f"log = true}}, received {spec!r}"
        )
    unknown = sorted(set(spec) - set(_RANGE_KEYS))
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r}; valid keys: low, high, log, step"
        )
    if "low" not in spec or "high" not in spec:
        raise ValueError("a range needs both low and high")
    numbers = [spec[k] for k in ("low", "high", "step") if k in spec]
    if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
        raise ValueError(f"low, high and step must be numbers, received {spec!r}")
    if not isinstance(spec.get("log", False), bool):
        raise ValueError(f"log must be true or false, received {spec['log']!r}")
    kwargs = {"log": spec.get("log", False), "step": spec.get("step")}
    if all(isinstance(n, int) for n in numbers):
        kwargs["step"] = 1 if kwargs["step"] is None else kwargs["step"]
        return IntDistribution(spec["low"], spec["high"], **kwargs)
    return FloatDistribution(float(spec["low"]), float(spec["high"]), **kwargs)
