"""Writing an experiment configuration back to a TOML file.

Python reads TOML (``tomllib``) but does not write it; an experiment file holds
only tables, arrays of tables (``[[model.layers]]``) and plain values, which
is all :func:`dumps` writes. ``tomllib.loads(dumps(config)) == config``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["dumps"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dumps(config: dict[str, Any], comment: str = "") -> str:
    """``config`` as TOML text, after ``comment`` as ``#`` lines.

    Raises:
        TypeError: a value TOML cannot hold (None, an object).
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    if lines:
        lines.append("")
    _write_table(lines, (), config)
    return "\n".join(lines).strip("\n") + "\n"


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) for v in value)
    )


def _write_table(
    lines: list[str], prefix: tuple[str, ...], table: dict[str, Any]
) -> None:
    """The plain values of ``table`` (under its header), then its sub-tables."""
    plain = {
        k: v
        for k, v in table.items()
        if not isinstance(v, dict) and not _is_table_array(v)
    }
    for key, value in plain.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        name = ".".join(_key(k) for k in (*prefix, key))
        if isinstance(value, dict):
            lines += ["", f"[{name}]"]
            _write_table(lines, (*prefix, key), value)
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{name}]]"]
                _write_table(lines, (*prefix, key), item)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string: the same escapes, \uXXXX included
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(f"TOML cannot hold {value!r} ({type(value).__name__})")
