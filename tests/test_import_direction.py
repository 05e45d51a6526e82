"""The import direction of DESIGN.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_hal_imports_neither_firmware_nor_board() -> None:
    for path in _modules("hal"):
        bad = {n for n in _imports(path) if n.split(".")[0] in ("firmware", "board")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_the_composition_root_imports_board_and_firmware_sees_only_interfaces() -> None:
    for path in _modules("firmware"):
        names = _imports(path)
        rel = path.relative_to(ROOT).as_posix()
        if rel not in ("firmware/app.py", "firmware/cli.py"):
            assert not {n for n in names if n.split(".")[0] == "board"}, rel
            hal = {n for n in names if n.split(".")[0] == "hal"}
            assert hal <= {"hal.interfaces"}, f"{rel} imports {hal}"


def test_no_firmware_subpackage_shadows_the_ocpp_library() -> None:
    assert not (ROOT / "firmware" / "ocpp").exists()
    assert not (ROOT / "firmware" / "ocpp.py").exists()
