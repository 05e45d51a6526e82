"""The board's devices and the objects that drive them (the meter watch, the phase switch, the
lock driver, the LED) belong to the safety core's thread: the outside (OCPP, API and page,
MQTT, site, fleet, diagnostics, updates) reads what the core published in its `CoreState`
and hands it commands (`SafetyCore.call`, the LED's colour in `CoreInputs`). Checked by
walking every outside module: a call on a core device or a read of the core's objects is a
finding even if no test ever raced it. (The status document used to read the meter watch
and the phase switch, the controller showed the LED and read the lock on the outside loop.)

Commissioning is not walked: it holds the core (`ChargeController.held`) and drives the
outputs itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.control.test_command_ownership import ROOT

FIRMWARE = ROOT / "firmware"
NOT_OUTSIDE = ("control", "commissioning")
OUTSIDE_TURN = ("controller.py", "session_keeper.py", "tag_reading.py")
"""The modules of `control` that run on the outside loop."""
CORE_CLASSES = frozenset(
    {
        "SafetyCore",
        "SafetySupervisor",
        "MeterWatch",
        "PhaseSwitch",
        "LockDriver",
        "InputChecks",
        "FaultRecovery",
        "PilotDuty",
    }
)
CORE_DEVICES = (
    "pilot|contactor|phase_contactor|rcd|thermometer|outlet_thermometer|tamper|cable|lock|led"
    "|meter|ev_soc"
)
DEVICE = re.compile(rf"(^|\.)_?board\.({CORE_DEVICES})$")
CONTROLLER_HELD = frozenset({"meter", "phases"})
"""The controller's handles on the core's objects, for the core and the tests that step it."""
CORE_HOOKS = frozenset({"listeners", "polls", "closers"})
"""What the assembly plugs into the core: work that must run on the core's thread."""
LIVE_READS = {
    "firmware/control/controller.py": {"self._board.contactor.is_closed()"},
}
"""Read on the outside on purpose: a trip opens the contactor inside an edge callback,
before the core steps again, and the status must say so at once (docs/architecture.md)."""


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound to an attribute chain (`led = self._board.led`), by that chain."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Attribute):
                found[target.id] = ast.unparse(node.value)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for name, value in zip(target.elts, node.value.elts, strict=False):
                    if isinstance(name, ast.Name) and isinstance(value, ast.Attribute):
                        found[name.id] = ast.unparse(value)
    return found


def device_calls(tree: ast.AST) -> list[str]:
    """Each call on a core device (through a name bound to it, too), as its source."""
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        source = ast.unparse(receiver)
        if isinstance(receiver, ast.Name):
            source = aliases.get(receiver.id, source)
        if DEVICE.search(source):
            found.append(ast.unparse(node))
    return found


def core_objects(tree: ast.AST) -> list[str]:
    """Imports of the core's classes and reads of the core's objects, as their source."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"import {a.name}" for a in node.names if a.name in CORE_CLASSES]
        elif isinstance(node, ast.Attribute):
            receiver = ast.unparse(node.value)
            held = receiver.endswith("controller") and node.attr in CONTROLLER_HELD
            if held or (receiver.endswith("controller.core") and node.attr not in CORE_HOOKS):
                found.append(ast.unparse(node))
    return found


def findings(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(), str(path))
    found = device_calls(tree)
    if path.parent != FIRMWARE / "control":
        found += core_objects(tree)
    else:  # the controller holds the core: it hands the lock's commands over, never calls them
        found += [
            ast.unparse(node)
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr == "lock"
            and ast.unparse(node.value).endswith("core")
        ]
    allowed = LIVE_READS.get(relative, set())
    return [f"{relative}: {source}" for source in found if source not in allowed]


def outside_modules() -> list[Path]:
    paths = [
        path
        for path in sorted(FIRMWARE.rglob("*.py"))
        if path.relative_to(FIRMWARE).parts[0] not in NOT_OUTSIDE
    ]
    return paths + [FIRMWARE / "control" / name for name in OUTSIDE_TURN]


def test_no_outside_module_calls_a_core_device_or_reads_the_cores_objects() -> None:
    assert [line for path in outside_modules() for line in findings(path)] == []


def test_the_walk_finds_each_kind_of_reach_into_the_core() -> None:
    """The check can fail: a module that did what the outside used to is found."""
    tree = ast.parse(
        "from pievse.firmware.control.phase_switch import PhaseSwitch\n"
        "def status(controller, board):\n"
        "    led = board.led\n"
        "    led.show('red')\n"
        "    self._board.lock.is_locked()\n"
        "    controller.core.lock.locked()\n"
        "    return controller.meter.describe(), controller.phases.describe()\n"
    )
    assert sorted(device_calls(tree)) == ["led.show('red')", "self._board.lock.is_locked()"]
    assert sorted(core_objects(tree)) == [
        "controller.core.lock",
        "controller.meter",
        "controller.phases",
        "import PhaseSwitch",
    ]
    wiring = ast.parse("controller.core.polls.append(poller.run)\nboard.grid_meter.close()\n")
    assert core_objects(wiring) == device_calls(wiring) == []
    assert FIRMWARE / "app" / "status_document.py" in outside_modules()
