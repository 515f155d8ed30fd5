"""Read and run the ``# %%`` cells of the book's notebooks kept in this folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["Cell", "read_cells", "run_cells", "accuracy_printed"]

HERE = Path(__file__).parent


class Cell:
    """One notebook code cell: its number in the notebook and its source."""

    def __init__(self, number: int, source: str) -> None:
        self.number = number
        self.source = source

    @property
    def trains(self) -> bool:
        """Whether the cell builds and fits a model."""
        return "Trainer(" in self.source

    def __repr__(self) -> str:
        return f"Cell({self.number})"


def read_cells(name: str) -> list[Cell]:
    """The code cells of ``book_code/<name>``, in order (commented-out magics
    included, harmlessly, as comments)."""
    text = (HERE / name).read_text()
    cells = []
    for chunk in re.split(r"^# %% ", text, flags=re.MULTILINE)[1:]:
        header, _, source = chunk.partition("\n")
        number = int(re.match(r"\[cell (\d+)\]", header).group(1))  # type: ignore[union-attr]
        cells.append(Cell(number, source))
    return cells


def run_cells(cells: list[Cell], namespace: dict[str, Any], name: str) -> None:
    """Execute ``cells`` in ``namespace`` one after the other, as Jupyter does."""
    for cell in cells:
        code = compile(cell.source, f"<{name} cell {cell.number}>", "exec")
        exec(code, namespace)


def accuracy_printed(output: str) -> float:
    """The last accuracy ``calc_accuracy_model`` printed, in percent."""
    found = re.findall(r"The model validation accuracy is:\s*([0-9.]+)%", output)
    if not found:
        raise AssertionError(f"no accuracy printed; the output was:\n{output}")
    return float(found[-1])
