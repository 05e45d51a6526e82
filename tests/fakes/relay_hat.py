"""What is wired to the pi-relay-hat's pins, for running the whole controller on fakes: the
pilot front end (peak-hold on the ADS1115 from the PWM the kernel was told to make and the
EV's resistors), the PP resistor, the contactor behind its keep-alive monostable with its
mirror contact, the RCD module and its test input, the lock, and the load on the meter.

A thread follows the outputs every 2 ms, as the analog world would.
"""

from __future__ import annotations

import threading
import time

from pievse.hal.sim.meter_emulator import SetLoad
from pievse.hal.sim.pilot_circuit import ev_offered_current_a
from tests.fakes.rpi_gpio import FakeGpio
from tests.fakes.smbus import FakeAds1115
from tests.fakes.sysfs_pwm import FakePwmChip

PILOT_GAIN, PILOT_OFFSET = 6.3, -12.6
EV_HIGH_V = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0, "E": 0.0, "F": -12.0}
CABLE_32A_OHM = 220.0
MONOSTABLE_S = 0.3
# BCM pins of board/boards/pi-relay-hat.toml
COIL, KEEPALIVE, MIRROR = 17, 27, 22
RCD_TRIP, RCD_TEST, TEMP_ALERT = 23, 25, 24
LOCK_ACTUATOR, LOCK_FEEDBACK, LID = 5, 6, 26
PHASE_COIL, PHASE_MIRROR = 12, 13  # pi-relay-hat-site


class RelayHatWorld:
    def __init__(self, gpio: FakeGpio, adc: FakeAds1115, pwm: FakePwmChip, load: SetLoad) -> None:
        self.gpio = gpio
        self.adc = adc
        self.pwm = pwm
        self.load = load
        self.ev_state = "A"
        self.ev_current_a = 16.0
        self.rcd_fault = False
        self.monostable = True
        """False models a monostable that has lost its trigger (the keep-alive stopped)."""
        self.phase_welded = False
        gpio.wired.update(
            {MIRROR: 1, RCD_TRIP: 1, TEMP_ALERT: 1, LOCK_FEEDBACK: 1, LID: 0, PHASE_MIRROR: 1}
        )
        adc.volts[3] = 1.65  # outlet NTC at 25 degC
        self._last_toggle = 0.0
        self._keepalive_level = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="relay-hat", daemon=True)
        self._thread.start()

    def _output(self, pin: int) -> int:
        state = self.gpio.pins.get(pin)
        return 0 if state is None else state.level

    def _drive(self, pin: int, level: int) -> None:
        if pin in self.gpio.pins:
            self.gpio.drive(pin, level)

    def energised(self) -> bool:
        return (
            self._output(COIL) == 1
            and self.monostable
            and time.monotonic() - self._last_toggle < MONOSTABLE_S
        )

    def _follow(self) -> None:
        while not self._stop.wait(0.002):
            keepalive = self._output(KEEPALIVE)
            if keepalive != self._keepalive_level:
                self._keepalive_level = keepalive
                self._last_toggle = time.monotonic()
            closed = self.energised()
            self._drive(MIRROR, 0 if closed else 1)
            tripped = self.rcd_fault or self._output(RCD_TEST) == 1
            self._drive(RCD_TRIP, 0 if tripped else 1)
            self._drive(LOCK_FEEDBACK, 0 if self._output(LOCK_ACTUATOR) else 1)
            phases_in = self._output(PHASE_COIL) == 1 or self.phase_welded
            self._drive(PHASE_MIRROR, 0 if phases_in else 1)
            self._pilot()
            drawing = closed and self.ev_state in ("C", "D")
            self.load.set(current_a=min(self.ev_current_a, self.offered_a()) if drawing else 0.0)

    def _pilot(self) -> None:
        plugged = self.ev_state != "A"
        self.adc.volts[2] = 3.3 * CABLE_32A_OHM / (CABLE_32A_OHM + 1000) if plugged else 3.3
        if not self.pwm.exported:
            return
        period = self.pwm.value(0, "period")
        duty = self.pwm.value(0, "duty_cycle")
        level = EV_HIGH_V[self.ev_state]
        if duty == 0 or self.ev_state == "F":
            high = low = -12.0
        elif duty >= period:
            high = low = level
        else:
            high, low = level, -12.0  # the EV's diode
        self.adc.volts[0] = (high - PILOT_OFFSET) / PILOT_GAIN
        self.adc.volts[1] = (low - PILOT_OFFSET) / PILOT_GAIN

    def offered_a(self) -> float:
        """What the EV reads from the pilot: it draws nothing while the PWM is off."""
        if not self.pwm.exported or not self.pwm.value(0, "period"):
            return 0.0
        return ev_offered_current_a(self.duty_fraction())

    def duty_fraction(self) -> float:
        return self.pwm.value(0, "duty_cycle") / self.pwm.value(0, "period")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
