"""Which hardware each section of a board file takes, and the refusals when two take the
same: two ports on one GPIO line, PWM channel, serial device, ADC channel or I2C address;
two meters on one Modbus unit; an output (or a serial link) named by two devices.

Each driver declares its `Claim` in the assembly table; nothing here knows a driver by
name. Pure: the loader calls `check_claims` on the parsed sections before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pievse.board.drivers import DEVICE_DRIVERS, EXCLUSIVE_PORT_KINDS, PORT_DRIVERS, Driver

Identity = tuple[object, ...]
Fail = Callable[[str, str | None, str], Exception]
"""(section, key, message) -> the error to raise, naming the board file."""


def check_claims(
    ports: Mapping[str, tuple[str, dict[str, object]]],
    devices: Mapping[str, tuple[str, dict[str, object]]],
    fail: Fail,
) -> None:
    """`ports` and `devices`: name -> (driver, parameters) as the loader read them."""
    identities = _port_identities(ports)
    taken: dict[Identity, str] = {}
    for name, (driver_name, params) in ports.items():
        _claim(f"ports.{name}", PORT_DRIVERS[driver_name], params, identities, taken, fail)
    for kind, (driver_name, params) in devices.items():
        _claim(kind, DEVICE_DRIVERS[kind][driver_name], params, identities, taken, fail)
    _outputs_named_once(ports, devices, fail)


def _port_identities(ports: Mapping[str, tuple[str, dict[str, object]]]) -> dict[str, Identity]:
    """The hardware each port stands for; a port that claims none stands for itself."""
    found: dict[str, Identity] = {}

    def identity(name: str) -> Identity:
        if name not in found:
            driver_name, params = ports[name]
            driver = PORT_DRIVERS[driver_name]
            found[name] = ("port", name)  # a port naming itself ends here
            if driver.claim is not None:
                found[name] = _held(driver, params, identity)
        return found[name]

    for name in ports:
        identity(name)
    return found


def _held(
    driver: Driver, params: dict[str, object], identity: Callable[[str], Identity]
) -> Identity:
    """What the section takes: a port reference among its keys stands for that port's."""
    assert driver.claim is not None
    values = [
        identity(str(params[key]))
        if driver.params[key].kind.startswith("port:")
        else params.get(key)
        for key in driver.claim.keys
    ]
    return (driver.claim.resource, *values)


def _claim(
    section: str,
    driver: Driver,
    params: dict[str, object],
    identities: dict[str, Identity],
    taken: dict[Identity, str],
    fail: Fail,
) -> None:
    claim = driver.claim
    if claim is None or claim.shared:
        return
    held = _held(driver, params, identities.__getitem__)
    other = taken.get(held)
    if other is not None:
        raise fail(
            section,
            claim.keys[-1],
            f"{_describe(held)} is taken by [{other}] already; a piece of hardware belongs "
            "to one section",
        )
    taken[held] = section


def _outputs_named_once(
    ports: Mapping[str, tuple[str, dict[str, object]]],
    devices: Mapping[str, tuple[str, dict[str, object]]],
    fail: Fail,
) -> None:
    named: dict[str, str] = {}
    for kind, (driver_name, params) in devices.items():
        driver = DEVICE_DRIVERS[kind][driver_name]
        for key, param in driver.params.items():
            if param.kind.removeprefix("port:") not in EXCLUSIVE_PORT_KINDS:
                continue
            if params.get(key) is None:
                continue
            port = str(params[key])
            where = f"[{kind}] {key}"
            if port in named:
                raise fail(
                    kind,
                    key,
                    f"port {port!r} is named by {named[port]} already; an output (or a serial "
                    "link) is driven by one device",
                )
            named[port] = where


def _describe(identity: Identity) -> str:
    resource, *values = identity
    shown = [f"({_describe(v)})" if isinstance(v, tuple) else repr(v) for v in values]
    return f"{resource} {' '.join(shown)}"
