"""GPIO pins through RPi.GPIO (on a Pi 5 the same module comes from rpi-lgpio), BCM numbers.

Edges are delivered by RPi.GPIO's own thread straight to the callback, so a trip input reaches
the safety supervisor without waiting for any loop.
"""

from __future__ import annotations

from typing import Any

from pievse.hal.ports import EdgeCallback, HardwareUnavailable

BCM_PINS = range(0, 28)
PULLS = ("up", "down", "off")


def rpi_gpio() -> Any:
    """The RPi.GPIO module in BCM numbering, or a HardwareUnavailable that says what to do."""
    try:
        import RPi.GPIO as GPIO
    except ImportError as exc:
        raise HardwareUnavailable(
            f"RPi.GPIO is not installed ({exc}): pip install 'pievse[pi]' "
            "(on a Raspberry Pi 5: 'pievse[pi5]', which brings rpi-lgpio)"
        ) from exc
    except RuntimeError as exc:
        raise HardwareUnavailable(f"RPi.GPIO cannot run here: {exc}") from exc
    mode = GPIO.getmode()
    if mode is None:
        GPIO.setwarnings(False)
        GPIO.setmode(GPIO.BCM)
    elif mode != GPIO.BCM:
        raise HardwareUnavailable("GPIO numbering was set to BOARD elsewhere; pievse uses BCM")
    return GPIO


def _check_pin(pin: int) -> None:
    if pin not in BCM_PINS:
        raise ValueError(f"pin {pin}: expected a BCM GPIO number 0..27")


def _setup(gpio: Any, pin: int, *args: Any, **kwargs: Any) -> None:
    try:
        gpio.setup(pin, *args, **kwargs)
    except (RuntimeError, OSError) as exc:
        raise HardwareUnavailable(
            f"GPIO{pin} cannot be set up: {exc} (the service user needs the gpio group)"
        ) from exc


class GpioOut:
    def __init__(self, pin: int, active_low: bool = False) -> None:
        """The pin is driven to its inactive level at once, before anything else happens."""
        _check_pin(pin)
        self._gpio = rpi_gpio()
        self._pin = pin
        self._active_low = active_low
        _setup(self._gpio, pin, self._gpio.OUT, initial=self._level(False))

    def _level(self, active: bool) -> int:
        level: int = self._gpio.HIGH if active != self._active_low else self._gpio.LOW
        return level

    def write(self, level: bool) -> None:
        self._gpio.output(self._pin, self._level(level))


class GpioIn:
    def __init__(
        self, pin: int, pull: str = "off", active_low: bool = False, debounce_ms: int = 0
    ) -> None:
        _check_pin(pin)
        if pull not in PULLS:
            raise ValueError(f"pull: expected one of {', '.join(PULLS)}, got {pull!r}")
        if not 0 <= debounce_ms <= 1000:
            raise ValueError(f"debounce_ms: expected 0..1000, got {debounce_ms}")
        gpio = rpi_gpio()
        self._gpio = gpio
        self._pin = pin
        self._active_low = active_low
        self._debounce_ms = debounce_ms
        self._callbacks: list[EdgeCallback] = []
        resistor = {"up": gpio.PUD_UP, "down": gpio.PUD_DOWN, "off": gpio.PUD_OFF}[pull]
        _setup(gpio, pin, gpio.IN, pull_up_down=resistor)

    def read(self) -> bool:
        return bool(self._gpio.input(self._pin)) != self._active_low

    def on_edge(self, callback: EdgeCallback) -> None:
        if not self._callbacks:
            extra = {"bouncetime": self._debounce_ms} if self._debounce_ms else {}
            try:
                self._gpio.add_event_detect(
                    self._pin, self._gpio.BOTH, callback=self._edge, **extra
                )
            except RuntimeError as exc:
                raise HardwareUnavailable(f"GPIO{self._pin}: no edge detection: {exc}") from exc
        self._callbacks.append(callback)

    def _edge(self, _channel: int) -> None:
        level = self.read()
        for callback in self._callbacks:
            callback(level)
