"""README.md and docs/*.md: every ```python block runs, and every link resolves.

The blocks of one file run in order in one namespace (a later block may use
names an earlier one defined), each in a fresh working folder per file, so a
block that writes files writes them there. Blocks that cannot run on their own
(shell commands, file contents, fragments) use another fence language.
docs/ecosystem.md's blocks run in tests/test_ecosystem_docs.py (it needs the
sklearn and onnx extras), not here; its links and commands are checked here.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lincoln import config as cfg
from lincoln.cli import build_parser, default_config_path
from lincoln.registry import ACTIVATIONS, LAYERS, LOSSES, NETWORKS, OPTIMIZERS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# pages whose python blocks another test module runs
RUN_ELSEWHERE = {
    DOCS / "ecosystem.md": "tests/test_ecosystem_docs.py",
    DOCS / "sweeps.md": "tests/test_sweeps_docs.py",
}

# a fence opening a block, its language, its body, and the closing fence
FENCE = re.compile(r"^```([\w+-]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# [text](target) outside code; images too
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def blocks(text: str, language: str = "python") -> list[tuple[int, str]]:
    """``(line number of the block's first code line, code)`` of each block."""
    return [
        (text.count("\n", 0, m.start(2)) + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == language
    ]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


CASES = [
    pytest.param(path, index, id=f"{rel(path)}:{line}")
    for path in FILES
    if path not in RUN_ELSEWHERE
    for index, (line, _) in enumerate(blocks(path.read_text(encoding="utf-8")))
]


def test_pages_run_elsewhere_are_run_there() -> None:
    for page, module in RUN_ELSEWHERE.items():
        assert page.name in (ROOT / module).read_text(encoding="utf-8"), module


def test_block_extraction_keeps_order_languages_and_line_numbers() -> None:
    text = (
        "intro\n```python\na = 1\n```\nprose\n"
        "```sh\nnot python\n```\n```python\nb = a\n```\n"
    )
    assert blocks(text) == [(3, "a = 1\n"), (10, "b = a\n")]
    assert blocks(text, "sh") == [(7, "not python\n")]


def test_every_page_has_runnable_examples() -> None:
    for path in FILES:
        if path.name in ("README.md", "tutorial.md"):
            assert len(blocks(path.read_text(encoding="utf-8"))) >= 2, rel(path)


class _Runs:
    """Per file: its namespace, how many blocks have run, and its folder."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[dict[str, Any], list[int], Path]] = {}


@pytest.fixture(scope="module")
def runs() -> Iterator[_Runs]:
    """The pages register their own classes (an activation, a layer, ...): the
    registries are put back as they were when the pages have run."""
    registries = (ACTIVATIONS, LAYERS, LOSSES, OPTIMIZERS, NETWORKS)
    saved = [dict(registry) for registry in registries]
    yield _Runs()
    for registry, classes in zip(registries, saved, strict=True):
        registry.clear()
        registry.update(classes)


@pytest.mark.parametrize(("path", "index"), CASES)
def test_python_block_runs(
    path: Path,
    index: int,
    runs: _Runs,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if path not in runs.files:
        folder = tmp_path_factory.mktemp(path.stem)
        runs.files[path] = ({"__name__": f"docs_{path.stem}"}, [0], folder)
    namespace, done, folder = runs.files[path]
    monkeypatch.chdir(folder)
    code_blocks = blocks(path.read_text(encoding="utf-8"))
    # run the blocks before this one first if they have not run (e.g. under -k)
    for line, code in code_blocks[done[0] : index + 1]:
        # blank lines first, so that a traceback points at the page's own line
        compiled = compile("\n" * (line - 1) + code, str(path), "exec")
        done[0] += 1
        try:
            exec(compiled, namespace)
        except KeyboardInterrupt:  # would stop the whole test session
            pytest.fail(f"{rel(path)}:{line}: a block let KeyboardInterrupt out")


def _targets(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return LINK.findall(text)


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a markdown file."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found = set()
    for title in HEADING.findall(text):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for target in _targets(path):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{rel(path)}: links to nothing: {broken}"


def test_the_readme_links_every_docs_page() -> None:
    readme = set(_targets(ROOT / "README.md"))
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in readme, page.name


# -- the commands the pages show ------------------------------------------------------


def _lincoln_commands() -> list[tuple[str, str]]:
    found = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for _, code in blocks(text, "sh"):
            for raw in code.replace("\\\n", " ").splitlines():
                command = raw.split(" #")[0].strip()
                if command.startswith(("lincoln ", ".venv/bin/lincoln ")):
                    found.append((rel(path), command[command.index("lincoln ") :]))
    return found


def test_every_lincoln_command_shown_parses() -> None:
    parser = build_parser()
    commands = _lincoln_commands()
    assert len(commands) >= 10
    for page, command in commands:
        argv = shlex.split(command)[1:]
        if argv[:1] == ["benchmark"]:
            continue  # its arguments belong to scripts/benchmark.py
        try:
            parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on a bad command line
            raise AssertionError(f"{page}: {command!r} does not parse") from exc


def test_the_readme_setup_commands_are_the_documented_ones() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sh = "".join(code for _, code in blocks(readme, "sh"))
    assert (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" '
        "&& .venv/bin/lincoln train" in sh
    )
    assert ".venv/bin/python -m pytest -q" in sh


def test_the_default_experiment_reaches_the_accuracy_the_readme_states() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"test accuracy \((0\.\d{4})", readme)
    assert stated, "the README states the default experiment's test accuracy"
    _, metrics, _ = cfg.run_experiment(
        default_config_path(), verbose=False, progress=False
    )
    assert f"{metrics['test_accuracy']:.4f}" == stated.group(1)


# -- the import order docs/architecture.md states -------------------------------------

# modules outside the documented chain, placed where their imports put them
_BESIDE_THE_CHAIN = {
    "_version": "errors",
    "_files": "errors",
    "metrics": "registry",
    "threads": "registry",
    "augment": "ops",
    "activations": "layers",
    "dense": "layers",
    "dropout": "layers",
    "conv": "layers",
    "pooling": "layers",
    "normalization": "layers",
    "reshape": "losses",  # the book's path for Flatten: after layers
}


def _documented_order() -> dict[str, float]:
    """Rank of each top-level module in the chain the architecture page shows."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    chain = next(
        code for _, code in blocks(text, "text") if "errors -> registry" in code
    )
    rank: dict[str, float] = {}
    for i, group in enumerate(" ".join(chain.split()).split("->")):
        for name in group.split(","):
            rank[name.strip()] = float(i)
    for name, like in _BESIDE_THE_CHAIN.items():
        rank[name] = rank[like] - 0.5  # just before the module it sits beside
    return rank


def _runtime_imports(path: Path) -> set[str]:
    """Top-level lincoln modules ``path`` imports when it is imported (imports
    under ``if TYPE_CHECKING:`` are annotations only and do not count)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # ("lincoln", ...)
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and sub.level:
                base = package[: len(package) - sub.level + 1]
                parts = [*base, *(sub.module.split(".") if sub.module else [])]
                if len(parts) > 1:
                    found.add(parts[1])
                else:  # from . import config
                    found.update(alias.name for alias in sub.names)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                module = sub.module if isinstance(sub, ast.ImportFrom) else None
                names = [module] if module else [a.name for a in sub.names]
                assert not any(
                    n == "lincoln" or n.startswith("lincoln.") for n in names if n
                ), f"{rel(path)} imports the lincoln package itself"
    return found


def test_imports_run_the_way_the_architecture_page_says() -> None:
    rank = _documented_order()
    wrong = []
    for path in sorted((ROOT / "lincoln").rglob("*.py")):
        parts = path.relative_to(ROOT / "lincoln").with_suffix("").parts
        if parts == ("__init__",):
            continue
        own = parts[0]
        assert own in rank, f"lincoln/{own} is not in docs/architecture.md's order"
        for imported in _runtime_imports(path) - {own}:
            if rank[imported] >= rank[own]:
                wrong.append(f"{rel(path)} imports {imported}")
    assert not wrong, wrong


# -- what particular pages promise ----------------------------------------------------


def test_the_tutorial_points_to_the_command_line() -> None:
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    for command in (
        "lincoln plot",
        "lincoln train",
        "lincoln gradcheck",
        "lincoln summary",
    ):
        assert command in text


def test_every_published_figure_keeps_its_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bench = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert "python scripts/benchmark.py --dtype float32 --reps 5" in readme
    assert "python scripts/benchmark.py --dtype float32 --reps 5" in bench
    for figure in ("162,814", "6,168", "4,748", "598", "2.59", "1.11", "1.21"):
        assert figure in readme and figure in bench, figure
    for figure, command in (
        ("93.34%", "lincoln train configs/fashion_cnn.toml"),
        ("91.46%", "lincoln train configs/fashion_cnn.toml"),
        ("87.81%", "python scripts/reproduce_book.py"),
        ("87.58%", "python scripts/reproduce_book.py --select-on-test"),
        ("103,744", "python scripts/benchmark.py --dtype float32 --reps 5"),
    ):
        assert figure in bench and command.split(" --")[0] in bench, figure
    assert "--select-on-test" in bench
    for figure in ("87.81%", "93.34%"):  # the README's accuracy figures
        assert figure in readme and figure in bench, figure


def _table(text: str, header_start: str) -> list[list[str]]:
    """The rows of the markdown table whose header starts with ``header_start``."""
    lines = text[text.index(header_start) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_old_and_new_table_repeats_the_new_figures() -> None:
    """Each config's test accuracy in the book's table is its "new" figure in
    the old-and-new table, and each was measured with a validation split."""
    bench = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    book = _table(bench, "| config | epochs | chosen on |")
    both = {row[0]: row for row in _table(bench, "| experiment | old, published |")}
    assert len(book) == 8 and len(both) == 10
    for name, _, chosen, _, _, test_accuracy, *_ in book:
        assert chosen == "10% of training data", name
        assert both[name][3] == test_accuracy, name
    assert both["fashion_cnn (0.2.0's)"][3] == "91.46%"
