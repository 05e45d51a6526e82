"""Pilot co-processor firmware (RP2040, MicroPython): the pins around `PilotLogic`.

Runs at boot. One loop: read the host's bytes, sample the pilot synchronised to the PWM's
high and low phases, apply the logic, drive the outputs, feed the watchdog. An RCD trip also
drops the contactor-enable pin from its interrupt, without waiting for the loop.

Ctrl-C (what `pievse flash-pilot` sends through mpremote) ends the loop in the safe state:
contactor-enable low, pilot at steady +12 V. The RP2040's watchdog cannot be stopped once
started, so a timer keeps feeding it while the REPL serves the flashing; `machine.reset()`
then boots the new firmware.
"""

import time

import machine
import pilot_config as cfg
from pilot_logic import STATE_F, STEADY_HIGH, PilotLogic


class Hardware:
    def __init__(self) -> None:
        Pin = machine.Pin
        self.enable = Pin(cfg.CONTACTOR_ENABLE_PIN, Pin.OUT, value=0)
        self.rcd = Pin(cfg.RCD_TRIP_PIN, Pin.IN, Pin.PULL_UP)
        self.rcd.irq(self._rcd_irq, Pin.IRQ_FALLING, hard=True)
        self.rcd_test = Pin(cfg.RCD_TEST_PIN, Pin.OUT, value=0)
        self.feedback = Pin(cfg.CONTACTOR_FEEDBACK_PIN, Pin.IN, Pin.PULL_UP)
        self.pwm = machine.PWM(Pin(cfg.PWM_PIN), freq=cfg.PWM_FREQUENCY_HZ, duty_u16=65535)
        self.pwm_level = Pin(cfg.PWM_PIN)
        self.adc = machine.ADC(Pin(cfg.PILOT_ADC_PIN))
        self.uart = machine.UART(
            cfg.UART_ID,
            baudrate=cfg.UART_BAUD,
            tx=Pin(cfg.UART_TX_PIN),
            rx=Pin(cfg.UART_RX_PIN),
            timeout=0,
        )
        self.watchdog = machine.WDT(timeout=cfg.WATCHDOG_MS)
        self._duty = STEADY_HIGH
        self._period_us = 1_000_000 // cfg.PWM_FREQUENCY_HZ

    def _rcd_irq(self, _pin: object) -> None:
        self.enable.value(0)

    def rcd_tripped(self) -> bool:
        return self.rcd.value() == 0

    def feedback_closed(self) -> bool:
        return self.feedback.value() == 0

    def pilot_volts(self) -> float:
        adc_v = self.adc.read_u16() * cfg.ADC_REFERENCE_V / 65535
        return adc_v * cfg.PILOT_GAIN + cfg.PILOT_OFFSET_V

    def sample_levels(self) -> tuple | None:
        """(high, low, PWM running): with the PWM running, one reading in the middle of
        each phase; steady, the one level twice. None when no reading could be placed inside
        its phase (the PWM shows no edges, or interrupts kept delaying it): better no sample
        than one from the wrong phase, which would look like a missing diode."""
        duty = self._duty
        if duty in (STEADY_HIGH, STATE_F):
            level = self.pilot_volts()
            return level, level, False
        high_us = self._period_us * duty // 1000
        deadline = time.ticks_add(time.ticks_us(), 5 * self._period_us)
        high = self._in_phase(1, high_us // 2, deadline)
        low = self._in_phase(0, (self._period_us - high_us) // 2, deadline)
        return None if high is None or low is None else (high, low, True)

    def _in_phase(self, level: int, delay_us: int, deadline: int) -> float | None:
        """A reading `delay_us` into the next phase at `level`, kept only if the PWM is still
        in that phase after the conversion; otherwise the next period is tried."""
        while time.ticks_diff(deadline, time.ticks_us()) > 0:
            if not (self._wait_level(1 - level, deadline) and self._wait_level(level, deadline)):
                return None
            time.sleep_us(delay_us)
            volts = self.pilot_volts()
            if self.pwm_level.value() == level:
                return volts
        return None

    def _wait_level(self, level: int, deadline: int) -> bool:
        while self.pwm_level.value() != level:
            if time.ticks_diff(deadline, time.ticks_us()) <= 0:
                return False
        return True

    def safe(self) -> None:
        """Contactor-enable off, no offer, no test current; the watchdog fed from a timer."""
        self.enable.value(0)
        self.rcd_test.value(0)
        self.pwm.duty_u16(65535)
        watchdog = self.watchdog
        self.maintenance = machine.Timer(
            period=cfg.WATCHDOG_MS // 4, callback=lambda _timer: watchdog.feed()
        )

    def apply(self, logic: PilotLogic) -> None:
        if logic.duty_permille != self._duty:
            self._duty = logic.duty_permille
            self.pwm.duty_u16(self._duty * 65535 // 1000)
        self.rcd_test.value(1 if logic.rcd_test else 0)
        # the interrupt may have dropped the pin since the logic decided
        self.enable.value(1 if logic.contactor_enabled and not self.rcd_tripped() else 0)


def run(hardware: Hardware, logic: PilotLogic) -> None:
    uart = hardware.uart
    while True:
        now = time.ticks_ms()
        data = uart.read()
        if data:
            for frame in logic.receive(data, now):
                uart.write(frame)
        levels = hardware.sample_levels()
        if levels is not None:
            logic.on_levels(*levels)
        logic.on_rcd(hardware.rcd_tripped())
        logic.on_feedback(hardware.feedback_closed())
        for frame in logic.tick(now):
            uart.write(frame)
        hardware.apply(logic)
        hardware.watchdog.feed()


hardware = Hardware()
try:
    run(hardware, PilotLogic(cfg.FIRMWARE_VERSION, time.ticks_ms()))
except KeyboardInterrupt:
    hardware.safe()
    print("pilot firmware stopped: contactor open, pilot +12 V, REPL ready")
