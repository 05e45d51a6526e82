"""The package rules of docs/architecture.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

from tests.app.import_map import ALLOWED, BEGIN, DOC, END, doc_section, render
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


def _node(module: str) -> str | None:
    """The import map's entry a `pievse` module belongs to: its deepest package, or the
    shared module itself at the top of `firmware`; None outside `pievse`."""
    parts = module.split(".")
    if parts[0] != "pievse" or len(parts) < 2:
        return None
    for end in range(len(parts), 1, -1):
        name = ".".join(parts[1:end])
        if name in PACKAGES:
            if name == "firmware":
                return f"firmware.{parts[2]}" if len(parts) > 2 else None
            return name
    return None


def _module_of(path: Path) -> str:
    dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return "pievse." + dotted.removesuffix(".__init__")


def _sources() -> list[Path]:
    return [
        path
        for folder in ("firmware", "hal", "board")
        for path in _modules(ROOT / folder)
        if "pilot_firmware" not in path.parts and path != FIRMWARE / "__init__.py"
    ]


PACKAGES = {
    init.parent.relative_to(ROOT).as_posix().replace("/", ".")
    for folder in ("firmware", "hal", "board")
    for init in (ROOT / folder).rglob("__init__.py")
    if "pilot_firmware" not in init.parts
}


def _allowed(node: str, name: str) -> bool:
    inner = name.removeprefix("pievse.")
    return _node(name) == node or any(
        inner == entry or inner.startswith(entry + ".") for entry in ALLOWED[node]
    )


def _edges() -> dict[str, set[str]]:
    """The real import graph between the map's entries (lazy imports too)."""
    edges: dict[str, set[str]] = {}
    for path in _sources():
        source = _node(_module_of(path))
        assert source is not None, path
        for name in _imports(path):
            target = _node(name)
            if target is not None and target != source:
                edges.setdefault(source, set()).add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one entry (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_map_has_one_entry_per_package_and_shared_module() -> None:
    shared = {f"firmware.{p.stem}" for p in FIRMWARE.glob("*.py") if p.name != "__init__.py"}
    real = (PACKAGES - {"firmware"}) | shared
    assert set(ALLOWED) == real
    for node, allowed in ALLOWED.items():
        for entry in allowed:
            assert _node(f"pievse.{entry}") is not None, f"{node}: {entry} is nothing of pievse"
            assert _node(f"pievse.{entry}") != node, f"{node} names itself"


def test_every_import_is_one_the_map_allows() -> None:
    bad = []
    for path in _sources():
        node = _node(_module_of(path))
        assert node is not None, path
        for name in _imports(path):
            if _node(name) is not None and not _allowed(node, name):
                bad.append(f"{path.relative_to(ROOT)} ({node}) imports {name}")
    assert not bad, "\n".join(bad)


def test_a_rule_the_map_breaks_is_caught() -> None:
    """The check itself: an import from `control` into an OCPP front, or from `hal` into
    `firmware`, is refused; one into the package's own modules is not."""
    assert not _allowed("firmware.control", "pievse.firmware.ocpp16.profiles.core")
    assert not _allowed("hal", "pievse.firmware.clock")
    assert not _allowed("firmware.energy", "pievse.firmware.control.controller")
    assert _allowed("firmware.energy", "pievse.firmware.control.duty_cycle")
    assert _allowed("firmware.control", "pievse.firmware.control.limits")


def test_no_packages_import_each_other_round_a_cycle() -> None:
    assert _cycles(_edges()) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_architecture_doc_shows_the_map() -> None:
    shown = doc_section(DOC.read_text())
    assert shown, f"docs/architecture.md has no section between {BEGIN!r} and {END!r}"
    assert shown == render(), "run: python -m tests.app.import_map"


@pytest.mark.parametrize("package", ["charging", "energy"])
def test_the_hard_logic_packages_do_no_io(package: str) -> None:
    for path in _modules(FIRMWARE / package):
        io = {n.split(".")[0] for n in _imports(path)} & {"asyncio", "sqlite3", "socket", "os"}
        assert not io, f"{path.name} does I/O through {io}"


def test_control_knows_no_network_library() -> None:
    for path in _modules(FIRMWARE / "control"):
        bad = _under(_imports(path), "ocpp", "websockets", "aiohttp")
        assert not bad, f"{path.name} imports {bad}"


def test_the_ocpp_library_and_websockets_stay_in_the_ocpp_fronts() -> None:
    """The OCPP-J framework, the link to the CSMS and the fronts on them, and the demo's
    central system, the other end of the wire."""
    allowed = {"demo/central_system.py"}
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
    assert flat == [
        "authorization_key.py",
        "clock.py",
        "event_wait.py",
        "single_job.py",
    ], "shared only"


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
            if path == ROOT / "tests" / "app" / "import_map.py":
                continue  # it names packages (short, as the doc shows them), not imports
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
