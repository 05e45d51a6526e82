"""Which package may import which: the one table the import test checks every module
against and docs/architecture.md shows (`python -m tests.app.import_map` rewrites the doc's
copy; a test fails while the two differ).

A key is a package of `pievse` (or one of the shared modules at the top of `firmware`, each
its own entry); its value names what its modules may import of `pievse` besides their own
package: a package (and everything under it) or one module. Third-party libraries are
ruled by the tests beside this table (the ocpp library and websockets only in the OCPP
packages, no I/O in the pure ones). Where a line allows what the architecture would rather
not, its reason says why it is there.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- import map: generated from tests/app/import_map.py -->"
END = "<!-- end of import map -->"

SHARED = ("firmware.clock", "firmware.event_wait", "firmware.single_job")
HAL_INTERFACES = "hal.interfaces"
DECLARED = "hal.declared"

ALLOWED: dict[str, tuple[str, ...]] = {
    "hal": (),
    "hal.devices": ("hal", "hal.linux.serial_link"),
    "hal.linux": ("hal",),
    "hal.sim": ("hal",),
    "board": ("hal",),
    "firmware.authorization_key": (),
    "firmware.clock": (),
    "firmware.event_wait": (),
    "firmware.single_job": (),
    "firmware.config": ("firmware.authorization_key", DECLARED),
    "firmware.charging": ("firmware.clock",),
    "firmware.energy": ("firmware.control.duty_cycle",),
    "firmware.persistence": (),
    "firmware.session": ("firmware.clock", "firmware.persistence"),
    "firmware.control": ("firmware.clock", "firmware.config", "firmware.session", HAL_INTERFACES),
    "firmware.commissioning": ("firmware.clock", "firmware.control", HAL_INTERFACES),
    "firmware.transfer": (),
    "firmware.security": ("firmware.clock", "firmware.config", "firmware.persistence"),
    "firmware.updates": (*SHARED, "firmware.security", "firmware.transfer"),
    "firmware.diagnostics": (
        *SHARED,
        "firmware.persistence",
        "firmware.security",
        "firmware.transfer",
    ),
    "firmware.rpc": (),
    "firmware.csms": (
        *SHARED,
        "firmware.authorization_key",
        "firmware.charging",
        "firmware.persistence",
        "firmware.rpc",
        "firmware.security",
        "firmware.session",
        HAL_INTERFACES,
    ),
    "firmware.ocpp16": (
        "firmware.authorization_key",
        "firmware.clock",
        "firmware.config",
        "firmware.control",
        "firmware.csms",
        "firmware.session",
        "firmware.front",
    ),
    "firmware.ocpp16.profiles": (
        "firmware.clock",
        "firmware.control",
        "firmware.csms",
        "firmware.diagnostics",
        "firmware.ocpp16",
        "firmware.rpc",
        "firmware.session",
        "firmware.updates",
        "firmware.front",
    ),
    "firmware.ocpp201": (
        "firmware.charging",
        "firmware.clock",
        "firmware.control",
        "firmware.csms",
        "firmware.persistence",
        "firmware.rpc",
        "firmware.session",
        "firmware.site.own_demand",
        "firmware.front",
        "firmware.transfer",
    ),
    "firmware.ocpp201.blocks": (
        "firmware.charging",
        "firmware.clock",
        "firmware.control",
        "firmware.csms",
        "firmware.diagnostics",
        "firmware.ocpp201",
        "firmware.rpc",
        "firmware.security",
        "firmware.session",
        "firmware.updates",
        "firmware.front",
    ),
    "firmware.site": (
        "firmware.config",
        "firmware.control",
        "firmware.energy",
        "firmware.persistence",
        HAL_INTERFACES,
        DECLARED,
    ),
    "firmware.mqtt": (
        "firmware.clock",
        "firmware.config",
        "firmware.control",
        "firmware.site",
        DECLARED,
    ),
    "firmware.api": (
        "firmware.commissioning",
        "firmware.config",
        "firmware.event_wait",
        "firmware.persistence",
        "firmware.session",
        "firmware.site",
        HAL_INTERFACES,
        DECLARED,
    ),
    "firmware.app": (
        "board",
        "hal",
        *SHARED,
        "firmware.api",
        "firmware.commissioning",
        "firmware.config",
        "firmware.control",
        "firmware.csms",
        "firmware.diagnostics",
        "firmware.mqtt",
        "firmware.ocpp16",
        "firmware.ocpp201",
        "firmware.persistence",
        "firmware.rpc",
        "firmware.security",
        "firmware.session",
        "firmware.site",
        "firmware.transfer",
        "firmware.updates",
        "firmware.front",
    ),
    "firmware.front": (
        *SHARED,
        "firmware.control",
        "firmware.csms",
        "firmware.diagnostics",
        "firmware.persistence",
        "firmware.rpc",
        "firmware.security",
        "firmware.session",
        "firmware.updates",
        HAL_INTERFACES,
    ),
    "firmware.demo": ("firmware.app", "firmware.event_wait", "firmware.rpc.routes"),
    "firmware.fleet": (
        "firmware.app",
        "firmware.config",
        "firmware.control",
        "firmware.csms",
    ),
    "firmware.cli": (
        "board",
        "hal",
        "firmware.api",
        "firmware.app",
        "firmware.clock",
        "firmware.config",
        "firmware.csms",
        "firmware.demo",
        "firmware.diagnostics",
        "firmware.fleet",
        "firmware.persistence",
        "firmware.security",
        "firmware.updates",
    ),
}
"""Package -> what of `pievse` it may import beyond itself."""

REASONS: dict[str, str] = {
    "hal.devices": "the co-processor driver opens its serial line itself",
    "firmware.control": "`config`: the controller and the meter watch take their config "
    "sections whole",
    "firmware.ocpp201": "`site.own_demand`: the share's limit source name, for "
    "the external-limit variables",
    "firmware.api": "`session`, `site`, `persistence`: the session history, the grid "
    "readings fed over the API and the token store",
    "firmware.app": "the composition root: everything but the CLI and what runs whole boxes",
    "firmware.demo": "it runs a whole `Wallbox`; `rpc.routes`: the typed `@on` its central "
    "system's handlers are marked with, as the box's are",
    "firmware.fleet": "it runs whole `Wallbox`es",
    "firmware.cli": "the command: above the composition root, the demo and the fleet",
}
"""Why a package may import what the package map would otherwise keep from it."""


def render() -> str:
    """The table as docs/architecture.md shows it, markers included."""
    lines = [BEGIN, "", "| package | may import (besides itself) | why |", "| --- | --- | --- |"]
    for package, allowed in ALLOWED.items():
        names = ", ".join(f"`{name}`" for name in allowed) or "nothing of `pievse`"
        lines.append(f"| `pievse.{package}` | {names} | {REASONS.get(package, '')} |")
    return "\n".join([*lines, "", END])


def doc_section(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    return text[start : end + len(END)] if 0 <= start < end else ""


def rewrite_doc() -> None:
    text = DOC.read_text()
    DOC.write_text(text.replace(doc_section(text), render()))


if __name__ == "__main__":
    rewrite_doc()
    sys.exit(0)
