"""The size rules of firmware/, hal/ and board/, checked by walking every module with `ast`:
no module over 400 lines and no function over 60, so that a part keeps one job and a name
that says it. The MicroPython sources (board/pilot_firmware) run on the co-processor, not
here, and keep their own shape."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.rigs.paths import ROOT

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
FOLDERS = ("firmware", "hal", "board")

DATA_TABLES: dict[str, str] = {}
"""Module (relative to the root) -> why it may be longer: only a table of data, nothing that
decides or does. Empty: every module keeps to the rule."""


def _sources() -> list[Path]:
    return [
        path
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "pilot_firmware" not in path.parts
    ]


def _long_functions(tree: ast.AST) -> list[tuple[str, int]]:
    """(qualified name, lines) of each function longer than the rule, nested ones too."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    assert child.end_lineno is not None
                    lines = child.end_lineno - child.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        found.append((name, lines))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def test_no_module_is_over_400_lines() -> None:
    """A data table's allowance goes when the table no longer needs it."""
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in _sources()
    }
    over = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    long = [f"{name}: {lines} lines" for name, lines in over.items() if name not in DATA_TABLES]
    stale = [f"{name}: allowed, but not over the limit" for name in DATA_TABLES if name not in over]
    assert not long + stale, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long + stale)


def test_no_function_is_over_60_lines() -> None:
    long = []
    for path in _sources():
        name = path.relative_to(ROOT).as_posix()
        for function, lines in _long_functions(ast.parse(path.read_text())):
            long.append(f"{name}: {function} {lines} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_a_method_one_line_over_is_named_with_its_class() -> None:
    """The check itself: a method one line over the limit is caught, one at it is not."""
    body = "".join(f"        x = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    source = f"class Box:\n    def over(self):\n{body}        return x\n    def at(self):\n{body}"
    assert _long_functions(ast.parse(source)) == [("Box.over", MAX_FUNCTION_LINES + 1)]
