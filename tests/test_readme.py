"""The README's self-contained Python examples run as printed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
# the saving example continues from names the README defines in prose
SELF_CONTAINED = [b for b in BLOCKS if "net.save(" not in b]


def test_the_readme_has_its_examples() -> None:
    assert len(SELF_CONTAINED) >= 3


@pytest.mark.parametrize("block", SELF_CONTAINED, ids=lambda b: b.splitlines()[0][:40])
def test_readme_example_runs(block: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block, str(README), "exec"), namespace)
    if "history" in namespace:  # the quick start trained a network
        assert namespace["history"].best_val_accuracy > 0.93
