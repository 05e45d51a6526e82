"""Only the safety supervisor commands the contactors and the pilot; every other module holds
them as read-only views (`ContactorView`, `PilotView`). Checked by walking every module's
calls: an LED driver or a limit source that could switch the coil is a finding even if no
test ever made it do so. (The controller used to pulse the contactor's keep-alive itself.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "firmware" / "control" / "safety.py"
BELOW_THE_SEAM = ("hal/devices", "hal/linux", "hal/sim")
"""The drivers that implement the commands, and the simulated hardware under them."""
PILOT_COMMANDS = {"set_duty", "set_steady_high", "set_state_f"}
CONTACTOR_COMMANDS = {"close", "open", "keep_alive"}


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound to an expression (`main = self._board.contactor`), by its source."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                found[target.id] = found.get(target.id, "") + ast.unparse(node.value)
    return found


def commands(path: Path) -> list[str]:
    """Each call of a pilot or contactor command in the module, as `line: source`."""
    tree = ast.parse(path.read_text(), str(path))
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        source = ast.unparse(receiver)
        if isinstance(receiver, ast.Name):
            source += " " + aliases.get(receiver.id, "")
        contactor = "contactor" in source.lower() or method == "keep_alive"
        if method in PILOT_COMMANDS or (method in CONTACTOR_COMMANDS and contactor):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def modules() -> list[Path]:
    paths = []
    for package in ("firmware", "board", "hal"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(BELOW_THE_SEAM) and "pilot_firmware" not in relative:
                paths.append(path)
    return paths


def test_no_module_but_the_supervisor_commands_the_contactor_or_the_pilot() -> None:
    offenders = [line for path in modules() if path != OWNER for line in commands(path)]
    assert offenders == []


def test_the_walk_sees_the_supervisors_own_commands() -> None:
    """The check can fail: it finds every kind of command where they are."""
    own = " ".join(commands(OWNER))
    for method in PILOT_COMMANDS | CONTACTOR_COMMANDS:
        assert f".{method}(" in own, method
    assert OWNER in modules()
