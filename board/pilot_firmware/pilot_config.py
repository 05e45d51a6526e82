"""Pins and calibration of the pilot co-processor board (RP2040); see docs/hardware.md."""

FIRMWARE_VERSION = "1.0.0"
PWM_FREQUENCY_HZ = 1000
PWM_PIN = 16
"""Drives the pilot's +-12 V output stage; read back to find the PWM's phases."""
PILOT_ADC_PIN = 26
"""ADC0: the pilot line through the divider below."""
ADC_REFERENCE_V = 3.3
PILOT_GAIN = 24.0 / 3.0
PILOT_OFFSET_V = -12.0
"""pilot volts = ADC volts * PILOT_GAIN + PILOT_OFFSET_V: the front end maps -12..+12 V to
0..3 V (a 1.5 V offset; 3.0 V full swing stays under the 3.3 V reference)."""
CONTACTOR_ENABLE_PIN = 17
"""High holds the contactor (through its driver transistor); low, a reset, or an unpowered
RP2040 drops it: the pin has a pull-down on the board."""
CONTACTOR_FEEDBACK_PIN = 18
"""The contactor's mirror contact to ground: low = closed."""
RCD_TRIP_PIN = 19
"""The RDC-DD module's trip output, open collector: low = tripped."""
RCD_TEST_PIN = 20
UART_ID = 0
UART_TX_PIN = 0
UART_RX_PIN = 1
UART_BAUD = 115200
WATCHDOG_MS = 500
"""The RP2040's own hardware watchdog: a stuck loop resets the chip, dropping the contactor."""
