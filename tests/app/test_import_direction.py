"""The package rules of docs/architecture.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

from tests.rigs.paths import ROOT

FIRMWARE = ROOT / "firmware"


def _imports(path: Path) -> set[str]:
    """Absolute names a module imports, also those imported inside functions (lazily)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _package(path: Path) -> str:
    """firmware/control/controller.py -> "control"; firmware/clock.py -> ""."""
    parts = path.relative_to(FIRMWARE).parts
    return parts[0] if len(parts) > 1 else ""


def _under(names: set[str], *prefixes: str) -> set[str]:
    return {n for n in names for p in prefixes if n == p or n.startswith(p + ".")}


def test_hal_imports_neither_firmware_nor_board() -> None:
    for path in _modules(ROOT / "hal"):
        bad = _under(_imports(path), "pievse.firmware", "pievse.board", "firmware", "board")
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_app_imports_board_and_the_rest_sees_only_hal_interfaces() -> None:
    for path in _modules(FIRMWARE):
        if _package(path) == "app":
            continue
        names = _imports(path)
        rel = path.relative_to(ROOT).as_posix()
        assert not _under(names, "pievse.board"), rel
        hal = {n for n in _under(names, "pievse.hal") if n != "pievse.hal"}
        seen = ("pievse.hal.interfaces", "pievse.hal.declared")
        assert hal <= _under(hal, *seen), f"{rel} imports {hal}"


@pytest.mark.parametrize("package", ["charging", "energy"])
def test_the_hard_logic_packages_are_pure(package: str) -> None:
    # duty_cycle is pure too: the 6 A minimum of IEC 61851-1 table A.7 lives there once.
    allowed = (
        f"pievse.firmware.{package}",
        "pievse.firmware.clock",
        "pievse.firmware.control.duty_cycle",
    )
    for path in _modules(FIRMWARE / package):
        ours = _under(_imports(path), "pievse")
        assert ours <= _under(ours, *allowed), f"{path.name} imports {ours}"
        io = {n.split(".")[0] for n in _imports(path)} & {"asyncio", "sqlite3", "socket", "os"}
        assert not io, f"{path.name} does I/O through {io}"


def test_control_knows_neither_ocpp_nor_the_api_nor_security() -> None:
    for path in _modules(FIRMWARE / "control"):
        bad = _under(
            _imports(path),
            "pievse.firmware.ocpp16",
            "pievse.firmware.rpc",
            "pievse.firmware.csms",
            "pievse.firmware.api",
            "pievse.firmware.security",
            "ocpp",
            "websockets",
            "aiohttp",
        )
        assert not bad, f"{path.name} imports {bad}"


def test_commissioning_sees_the_board_through_the_controller_and_nothing_else() -> None:
    """The CSMS link reaches it as a description the composition root hands in."""
    allowed = (
        "pievse.firmware.commissioning",
        "pievse.firmware.clock",
        "pievse.firmware.control",
        "pievse.hal.interfaces",
    )
    for path in _modules(FIRMWARE / "commissioning"):
        ours = _under(_imports(path), "pievse")
        assert ours <= _under(ours, *allowed), f"{path.name} imports {ours}"


def test_the_ocpp_library_and_websockets_stay_in_the_ocpp_fronts() -> None:
    """The OCPP-J framework, the link to the CSMS and the fronts on them, and the demo's
    central system, the other end of the wire."""
    allowed = {"security/connection_security.py", "demo/central_system.py"}
    for path in _modules(FIRMWARE):
        rel = path.relative_to(FIRMWARE).as_posix()
        if _package(path) in ("ocpp16", "ocpp201", "rpc", "csms") or rel in allowed:
            continue
        bad = _under(_imports(path), "ocpp", "websockets")
        assert not bad, f"{rel} imports {bad}"


def test_the_shared_core_knows_no_front_and_the_fronts_not_each_other() -> None:
    """rpc and csms carry either version; a front's messages stay in its own package."""
    fronts = {"ocpp16": "pievse.firmware.ocpp201", "ocpp201": "pievse.firmware.ocpp16"}
    for path in _modules(FIRMWARE):
        package = _package(path)
        names = _imports(path)
        if package in ("rpc", "csms"):
            bad = _under(names, "pievse.firmware.ocpp16", "pievse.firmware.ocpp201")
        elif package in fronts:
            bad = _under(names, fronts[package])
        else:
            continue
        assert not bad, f"{path.relative_to(FIRMWARE)} imports {bad}"


def test_no_package_is_named_like_the_ocpp_library_and_nothing_is_left_flat() -> None:
    assert not (FIRMWARE / "ocpp").exists() and not (FIRMWARE / "ocpp.py").exists()
    flat = sorted(p.name for p in FIRMWARE.glob("*.py") if p.name != "__init__.py")
    assert flat == ["clock.py", "event_wait.py", "single_job.py"], "shared only"


def test_every_package_says_what_lives_there() -> None:
    for init in FIRMWARE.rglob("__init__.py"):
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), f"{init.relative_to(ROOT)} has no docstring"


def test_nothing_imports_the_old_top_level_names() -> None:
    for folder in ("firmware", "hal", "board", "tests", "deploy"):
        for path in _modules(ROOT / folder):
            if "pilot_firmware" in path.parts or "micropython" in path.parts:
                continue
            old = {n for n in _imports(path) if n.split(".")[0] in ("firmware", "hal", "board")}
            assert not old, f"{path.relative_to(ROOT)} imports {old} (not under pievse)"
            dotted = re.findall(
                r"[\"'](?:firmware|hal|board)\.[a-z_]+\.[a-zA-Z_.]+[\"']", path.read_text()
            )
            assert not dotted, f"{path.relative_to(ROOT)} names {dotted} (not under pievse)"
    assert sys.modules.get("firmware") is None


def test_pyproject_lists_every_package() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        "pievse." + init.parent.relative_to(ROOT).as_posix().replace("/", ".")
        for folder in ("firmware", "hal", "board")
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert listed == found
