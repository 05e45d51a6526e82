"""A fake `machine` module for running the pilot co-processor firmware in the MicroPython
unix port: the pins, PWM, ADC, UART and watchdog the firmware uses, over a simulated EV.

The EV comes from the file named by PILOT_SIM_STATE ("C", or "C rcd nodiode"), re-read every
20 ms; the UART is the pty named by PILOT_SIM_UART. The pilot line is computed from the PWM's
own timing, so the firmware's sampling is only right if it really follows the PWM phases.
Output pins and the PWM duty are written to PILOT_SIM_OUTPUTS (if set) whenever they change,
so a test sees what the pins do after the firmware stopped talking.
"""

import os
import select
import time

import pilot_config as cfg

EV_HIGH_V = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0, "E": 0.0, "F": -12.0}
_pins = {}
_sim = {"ev": "A", "rcd": False, "nodiode": False, "read_at": -1000}
_irqs = []


def _outputs_changed():
    path = os.getenv("PILOT_SIM_OUTPUTS")
    if path:
        # Written aside and renamed: the test reads this file at any moment, never half of it.
        with open(path + ".new", "w") as f:
            f.write(" ".join(f"{pin}={level}" for pin, level in sorted(_pins.items())))
            f.write(f" pwm={_pwm['duty_u16']}\n")
        os.rename(path + ".new", path)


def _simulation():
    now = time.ticks_ms()
    if time.ticks_diff(now, _sim["read_at"]) < 20:
        return _sim
    _sim["read_at"] = now
    path = os.getenv("PILOT_SIM_STATE")
    if path:
        try:
            with open(path) as f:
                words = f.read().split()
        except OSError:
            words = []
        if words:
            was_tripped = _sim["rcd"] or _pins.get(cfg.RCD_TEST_PIN, 0) == 1
            _sim["ev"] = words[0]
            _sim["rcd"] = "rcd" in words
            _sim["nodiode"] = "nodiode" in words
            if _sim["rcd"] and not was_tripped:
                for pin, handler in _irqs:
                    handler(pin)
    return _sim


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 1
    IRQ_FALLING = 4

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        if value is not None:
            _pins[id] = value
            _outputs_changed()

    def value(self, level=None):
        if level is not None:
            if _pins.get(self.id) != level:
                _pins[self.id] = level
                _outputs_changed()
            return None
        if self.id == cfg.PWM_PIN:
            return 1 if _pwm_high() else 0
        if self.id == cfg.RCD_TRIP_PIN:
            tripped = _simulation()["rcd"] or _pins.get(cfg.RCD_TEST_PIN, 0) == 1
            return 0 if tripped else 1
        if self.id == cfg.CONTACTOR_FEEDBACK_PIN:
            return 0 if _pins.get(cfg.CONTACTOR_ENABLE_PIN, 0) == 1 else 1
        return _pins.get(self.id, 0)

    def irq(self, handler, trigger, hard=False):
        _irqs.append((self, handler))


_pwm = {"duty_u16": 65535, "freq": 1000}


def _pwm_high():
    duty = _pwm["duty_u16"]
    if duty >= 65535:
        return True
    if duty <= 0:
        return False
    period_us = 1_000_000 // _pwm["freq"]
    return time.ticks_us() % period_us < period_us * duty // 65535


class PWM:
    def __init__(self, pin, freq=1000, duty_u16=0):
        _pwm["freq"] = freq
        _pwm["duty_u16"] = duty_u16

    def duty_u16(self, value=None):
        if value is None:
            return _pwm["duty_u16"]
        _pwm["duty_u16"] = value
        _outputs_changed()
        return None


class ADC:
    def __init__(self, pin):
        self.pin = pin

    def read_u16(self):
        sim = _simulation()
        high = EV_HIGH_V[sim["ev"]]
        if _pwm_high() or sim["ev"] in ("E", "F"):
            volts = high
        else:
            volts = -high if sim["nodiode"] else -12.0
        adc_v = (volts - cfg.PILOT_OFFSET_V) / cfg.PILOT_GAIN
        return max(0, min(65535, int(adc_v * 65535 / cfg.ADC_REFERENCE_V)))


class UART:
    def __init__(self, id, baudrate=115200, tx=None, rx=None, timeout=0):
        self._file = open(os.getenv("PILOT_SIM_UART"), "r+b")  # noqa: SIM115 - held open
        self._poll = select.poll()
        self._poll.register(self._file, select.POLLIN)

    def read(self):
        data = b""
        while self._poll.poll(0):
            chunk = self._file.read(1)
            if not chunk:
                break
            data += chunk
        return data or None

    def write(self, data):
        self._file.write(data)


class WDT:
    def __init__(self, timeout=5000):
        self.timeout = timeout

    def feed(self):
        pass


class Timer:
    """Periodic callbacks need an interrupt the unix port lacks; the firmware only uses one
    to feed the watchdog, which this fake never lets bite."""

    def __init__(self, period=1000, callback=None):
        self.period = period
        self.callback = callback


def reset():
    """A hard reset ends this "chip": the test starts the flashed firmware anew."""
    raise SystemExit(0)
