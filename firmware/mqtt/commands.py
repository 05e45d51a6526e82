"""Commands from MQTT, checked as the local API checks its requests. A command this refuses
changes nothing; the bridge logs it and goes on."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from pievse.firmware.control.duty_cycle import MIN_CURRENT_A
from pievse.firmware.site.charging_mode import MAX_SETPOINT_A, MODES, ChargingMode

MAX_PAYLOAD = 64


class CommandError(ValueError):
    pass


@dataclass(frozen=True)
class SetMode:
    mode: str


@dataclass(frozen=True)
class SetSetpoint:
    setpoint_a: float | None
    """None (payload 0, empty or "none") lifts the setpoint."""


@dataclass(frozen=True)
class StopCharging:
    pass


Command = SetMode | SetSetpoint | StopCharging


def parse_command(name: str, payload: bytes) -> Command:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"{name}: payload of {len(payload)} bytes; at most {MAX_PAYLOAD}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(f"{name}: payload is not UTF-8") from None
    if name == "mode":
        if text not in MODES:
            raise CommandError(f"mode: expected one of {', '.join(MODES)}, got {text!r}")
        return SetMode(text)
    if name == "setpoint_a":
        if text.lower() in ("", "none", "null", "0", "0.0"):
            return SetSetpoint(None)
        try:
            value = float(text)
        except ValueError:
            raise CommandError(f"setpoint_a: expected a number, got {text!r}") from None
        if not math.isfinite(value) or not MIN_CURRENT_A <= value <= MAX_SETPOINT_A:
            raise CommandError(f"setpoint_a: expected 0 (none) or 6..80 A, got {text!r}")
        return SetSetpoint(value)
    if name == "stop":
        if text != "PRESS":
            raise CommandError(f'stop: expected "PRESS", got {text!r}')
        return StopCharging()
    raise CommandError(f"unknown command {name!r}; known: mode, setpoint_a, stop")


def carry_out(command: Command, mode: ChargingMode, stop: Callable[[], object]) -> None:
    """What the local API's mode endpoint and a local stop do; raises ModeError (a
    ValueError) where the charging mode refuses."""
    if isinstance(command, SetMode):
        mode.set(command.mode, mode.setpoint_a)
    elif isinstance(command, SetSetpoint):
        mode.set(mode.mode, command.setpoint_a)
    else:
        stop()
