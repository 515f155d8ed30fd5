"""docs/sweeps.md: every ```python block runs, in order, in one namespace,
in a scratch folder holding a copy of configs/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_ecosystem_docs import python_blocks

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "sweeps.md"


def test_every_python_block_runs_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)  # the blocks write sweeps/digits
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) == 3
    namespace: dict[str, object] = {"__name__": "sweeps"}
    for line, code in blocks:
        # blank lines first, so that a traceback points at the page's own line
        exec(compile("\n" * (line - 1) + code, str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out
    assert "best trial" in out and "4 trials; complete trial 0 with seed 0" in out
    assert "own objective: best val_accuracy" in out
    for name in ("best.toml", "trials.csv", "trials.json", "search.png", "study.db"):
        assert (tmp_path / "sweeps" / "digits" / name).is_file(), name


def test_the_page_shows_both_storages_and_the_shipped_space() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert "--storage postgresql://" in text and "--out sweeps/digits" in text
    shipped = (ROOT / "configs" / "digits_space.toml").read_text()
    for line in text.split("```toml\n")[1].split("```")[0].splitlines():
        assert line.split("#")[0].strip() in shipped
