"""docs/ecosystem.md: every ```python block runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "ecosystem.md"

# a fence opening a python block, its body, and the closing fence
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number of the block's first code line, code)`` of each python block."""
    return [
        (text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)
    ]


def test_every_python_block_runs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lincoln.onnx import EMITTERS

    monkeypatch.chdir(tmp_path)  # the blocks write .onnx and .npz files
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    namespace: dict[str, object] = {"__name__": "ecosystem"}
    try:
        for line, code in blocks:
            # blank lines first, so that a traceback points at the page's own line
            exec(compile("\n" * (line - 1) + code, str(PAGE), "exec"), namespace)
    finally:
        EMITTERS.pop(namespace.get("Swish"), None)  # type: ignore[call-overload]
    out = capsys.readouterr().out
    assert "test accuracy" in out
    assert "layer 0 (Dense) uses operation Swish" in out  # the ExportError shown
    assert (tmp_path / "digits_cnn.onnx").is_file()
    assert "is the likeliest next character" in out  # the character model served
    assert (tmp_path / "charlm.onnx").is_file()
