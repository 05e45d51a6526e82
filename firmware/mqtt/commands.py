"""Commands from MQTT, checked as the local API checks its requests. A command this refuses
changes nothing; the bridge logs it and goes on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pievse.firmware.control.duty_cycle import MIN_CURRENT_A
from pievse.firmware.site.charging_mode import MAX_SETPOINT_A, MODES, ChargingMode
from pievse.hal.declared import Refused, converted, declared, entries, one_of, required, within

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


@dataclass(frozen=True, kw_only=True)
class CommandPayloads:
    """What each command topic (`<base>/set/<name>`) takes, declared as the config file's
    keys are; its text payload is read as the field's type."""

    mode: str = required("the charging mode", one_of(MODES, f"one of {', '.join(MODES)}"))
    setpoint_a: float | None = declared(
        None,
        "the local setpoint; 0, empty or none lifts it",
        within(MIN_CURRENT_A, MAX_SETPOINT_A, text="0 (none) or 6..80 A"),
    )
    stop: str = required("stops the session", one_of(("PRESS",)))


COMMANDS = {entry.name: entry for entry in entries(CommandPayloads)}
NO_SETPOINT = ("", "none", "null", "0", "0.0")


def parse_command(name: str, payload: bytes) -> Command:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"{name}: payload of {len(payload)} bytes; at most {MAX_PAYLOAD}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(f"{name}: payload is not UTF-8") from None
    entry = COMMANDS.get(name)
    if entry is None:
        raise CommandError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
    if entry.optional and text.lower() in NO_SETPOINT:
        return SetSetpoint(None)
    try:
        value = converted(entry, _typed(entry.kind, text))
    except Refused as exc:
        raise CommandError(f"{name}: expected {exc.expected}, got {text!r}") from None
    if name == "mode":
        return SetMode(value)
    return SetSetpoint(value) if name == "setpoint_a" else StopCharging()


def _typed(kind: type, text: str) -> object:
    """A payload's text as the field's type, where it reads as one (else the text, which
    the check then refuses as "a number")."""
    if kind is not float:
        return text
    try:
        return float(text)
    except ValueError:
        return text


def carry_out(command: Command, mode: ChargingMode, stop: Callable[[], object]) -> None:
    """What the local API's mode endpoint and a local stop do; raises ModeError (a
    ValueError) where the charging mode refuses."""
    if isinstance(command, SetMode):
        mode.set(command.mode, mode.setpoint_a)
    elif isinstance(command, SetSetpoint):
        mode.set(mode.mode, command.setpoint_a)
    else:
        stop()
