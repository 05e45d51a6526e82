"""Status LED made of red, green and blue outputs."""

from __future__ import annotations

from pievse.hal.ports import DigitalOut

_MIX: dict[str, tuple[bool, bool, bool]] = {
    "off": (False, False, False),
    "green": (False, True, False),
    "blue": (False, False, True),
    "yellow": (True, True, False),
    "red": (True, False, False),
}


class RgbLed:
    """Writes its pins only when the colour changes: the control loop shows the colour every
    step, and three GPIO writes per tick buy nothing."""

    def __init__(self, red: DigitalOut, green: DigitalOut, blue: DigitalOut) -> None:
        self._pins = (red, green, blue)
        self._shown: str | None = None
        self.show("off")

    def show(self, colour: str) -> None:
        try:
            levels = _MIX[colour]
        except KeyError:
            raise ValueError(f"unknown LED colour {colour!r}; known: {', '.join(_MIX)}") from None
        if colour == self._shown:
            return
        self._shown = colour
        for pin, level in zip(self._pins, levels, strict=True):
            pin.write(level)
