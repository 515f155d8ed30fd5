"""docs/tutorial.md: every ```python block runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"

# a fence opening a python block, its body, and the closing fence
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number of the block's first code line, code)`` of each python block."""
    return [
        (text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)
    ]


def test_block_extraction_keeps_order_and_line_numbers() -> None:
    text = (
        "intro\n```python\na = 1\n```\nprose\n"
        "```sh\nnot python\n```\n```python\nb = a\n```\n"
    )
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a\n")]


def test_every_python_block_runs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # blocks may write files (the plot)
    text = TUTORIAL.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) >= 10
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for line, code in blocks:
        # padding with blank lines makes a traceback point at the tutorial's own line
        compiled = compile("\n" * (line - 1) + code, str(TUTORIAL), "exec")
        exec(compiled, namespace)
    out = capsys.readouterr().out
    assert "715" in out
    # the book's worked figures, as the tutorial itself asserts them
    assert round(float(namespace["price"]), 9) == 715  # type: ignore[arg-type]
    assert float(namespace["d_tax"]) == pytest.approx(650)  # type: ignore[arg-type]
    assert float(namespace["d_apple_count"]) == pytest.approx(110)  # type: ignore[arg-type]
    assert namespace["history"].val_accuracy[-1] > 0.93  # type: ignore[attr-defined]


def test_tutorial_points_to_the_command_line() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    for command in (
        "lincoln plot",
        "lincoln train",
        "lincoln gradcheck",
        "lincoln summary",
    ):
        assert command in text
