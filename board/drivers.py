"""The one assembly table: driver names in board files -> constructors, imported lazily.

Each entry declares its parameters, so the loader can reject a wrong board file with the
file, section and key before anything is constructed, and so a Pi-only driver's imports are
only attempted when a board names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Parameter kinds: "str", "int", "float", "bool", "steps" (list of [number, number]),
# "map" (a meter register map name), "data_file" (a file name in the data directory),
# "unit_id" (a Modbus unit id, DEVICE_ID_RANGE), "port:<kind>" (a name from the board's
# [ports] table).


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = True
    default: object = None


@dataclass(frozen=True)
class Claim:
    """The piece of hardware a port (or a device with its own address) takes: `resource`
    names its kind for errors, `keys` the parameters that pick it out (a port reference
    stands for the hardware that port takes). Two sections may not claim the same, unless
    it is `shared` (a bus several chips sit on, which only identifies them)."""

    resource: str
    keys: tuple[str, ...]
    shared: bool = False


@dataclass(frozen=True)
class Driver:
    target: str
    """"module:attribute" of the constructor."""
    params: dict[str, Param] = field(default_factory=dict)
    port_kind: str | None = None
    """For port drivers: which kind of port it provides."""
    needs_plant: bool = False
    claim: Claim | None = None
    on_meter_line: bool = False
    """Takes the meter line a fleet's boxes share (`line`), when the board is built with
    one."""


def _port(kind: str, required: bool = True) -> Param:
    return Param(f"port:{kind}", required)


EXCLUSIVE_PORT_KINDS = ("digital_out", "pwm", "byte_link")
"""What a port of these kinds drives or reads, one device alone may: an output named by two
devices (an LED on the contactor's keep-alive) would let one command the other's hardware."""
SIGNAL = Claim("simulated signal", ("signal",))
GPIO = Claim("GPIO line", ("pin",))
SERIAL = Claim("serial device", ("device",))
I2C_ADDRESS = Claim("I2C address", ("i2c", "address"))
DEVICE_ID_RANGE = (1, 247)
"""A Modbus unit id (`device_id`, `grid_device_id`)."""


PORT_DRIVERS: dict[str, Driver] = {
    "sim.digital_out": Driver(
        "pievse.hal.sim.ports:SimDigitalOut", {"signal": Param("str")}, "digital_out", True, SIGNAL
    ),
    "sim.digital_in": Driver(
        "pievse.hal.sim.ports:SimDigitalIn", {"signal": Param("str")}, "digital_in", True, SIGNAL
    ),
    "sim.pwm": Driver(
        "pievse.hal.sim.ports:SimPwmOut", {"signal": Param("str")}, "pwm", True, SIGNAL
    ),
    "sim.analog": Driver(
        "pievse.hal.sim.ports:SimAnalogIn", {"signal": Param("str")}, "analog", True, SIGNAL
    ),
    "sim.meter_emulator": Driver(
        "pievse.hal.sim.ports:EmulatedMeterBus",
        {
            "map": Param("map"),
            "device_id": Param("unit_id", False, 1),
            "timeout_s": Param("float", False, 0.5),
            "energy_file": Param("data_file", False),
            "grid_device_id": Param("unit_id", False),
        },
        "registers",
        True,
        on_meter_line=True,
    ),
    "modbus.tcp": Driver(
        "pievse.hal.modbus:ModbusTcpBus",
        {
            "host": Param("str"),
            "port": Param("int", False, 502),
            "timeout_s": Param("float", False, 1.0),
        },
        "registers",
    ),
    "modbus.rtu": Driver(
        "pievse.hal.modbus:ModbusRtuBus",
        {
            "device": Param("str"),
            "baudrate": Param("int", False, 9600),
            "parity": Param("str", False, "N"),
            "stop_bits": Param("int", False, 1),
            "timeout_s": Param("float", False, 0.5),
        },
        "registers",
        claim=SERIAL,
    ),
    "sim.byte_link": Driver(
        "pievse.hal.sim.ports:SimByteLink", {"signal": Param("str")}, "byte_link", True, SIGNAL
    ),
    "linux.gpio_out": Driver(
        "pievse.hal.linux.gpio:GpioOut",
        {"pin": Param("int"), "active_low": Param("bool", False, False)},
        "digital_out",
        claim=GPIO,
    ),
    "linux.gpio_in": Driver(
        "pievse.hal.linux.gpio:GpioIn",
        {
            "pin": Param("int"),
            "pull": Param("str", False, "off"),
            "active_low": Param("bool", False, False),
            "debounce_ms": Param("int", False, 0),
        },
        "digital_in",
        claim=GPIO,
    ),
    "linux.sysfs_pwm": Driver(
        "pievse.hal.linux.sysfs_pwm:SysfsPwmOut",
        {
            "chip": Param("int", False, 0),
            "channel": Param("int"),
            "root": Param("str", False, "/sys/class/pwm"),
            "inverted": Param("bool", False, False),
        },
        "pwm",
        claim=Claim("PWM channel", ("chip", "channel")),
    ),
    "linux.i2c": Driver(
        "pievse.hal.linux.i2c:I2cBus",
        {"bus": Param("int", False, 1)},
        "i2c",
        claim=Claim("I2C bus", ("bus",), shared=True),
    ),
    "linux.ads1115": Driver(
        "pievse.hal.linux.ads1115:Ads1115",
        {"i2c": _port("i2c"), "address": Param("int", False, 0x48)},
        "adc_chip",
        claim=I2C_ADDRESS,
    ),
    "linux.ads1115_channel": Driver(
        "pievse.hal.linux.ads1115:Ads1115Input",
        {
            "adc": _port("adc_chip"),
            "channel": Param("int"),
            "full_scale_v": Param("float", False, 4.096),
            "gain": Param("float", False, 1.0),
            "offset_v": Param("float", False, 0.0),
        },
        "analog",
        claim=Claim("ADC channel", ("adc", "channel")),
    ),
    "linux.serial": Driver(
        "pievse.hal.linux.serial_link:SerialByteLink",
        {
            "device": Param("str"),
            "baudrate": Param("int", False, 115200),
            "parity": Param("str", False, "N"),
            "stop_bits": Param("int", False, 1),
        },
        "byte_link",
        claim=SERIAL,
    ),
    "coprocessor.serial": Driver(
        "pievse.hal.devices.pilot_coprocessor:PilotCoprocessor",
        {"device": Param("str"), "baudrate": Param("int", False, 115200)},
        "coprocessor",
        claim=SERIAL,
    ),
}

_COPROCESSOR = {"coprocessor": _port("coprocessor")}

DEVICE_DRIVERS: dict[str, dict[str, Driver]] = {
    "pilot": {
        "peak_hold": Driver(
            "pievse.hal.devices.pilot:PeakHoldPilot",
            {
                "pwm": _port("pwm"),
                "high": _port("analog"),
                "low": _port("analog"),
                "alert": _port("digital_in", required=False),
                "frequency_hz": Param("float", False, 1000.0),
            },
        ),
        "coprocessor": Driver(
            "pievse.hal.devices.pilot_coprocessor:CoprocessorPilot", _COPROCESSOR
        ),
    },
    "cable": {
        "proximity": Driver(
            "pievse.hal.devices.cable:ProximityCableSense",
            {
                "adc": _port("analog"),
                "pull_up_ohm": Param("float"),
                "supply_v": Param("float"),
            },
        ),
        "fixed": Driver("pievse.hal.devices.cable:FixedCable", {"rating_a": Param("float")}),
    },
    "contactor": {
        "relay": Driver(
            "pievse.hal.devices.contactor:RelayContactor",
            {
                "coil": _port("digital_out"),
                "feedback": _port("digital_in", required=False),
                "keepalive": _port("digital_out", required=False),
            },
        ),
        "coprocessor": Driver(
            "pievse.hal.devices.pilot_coprocessor:CoprocessorContactor", _COPROCESSOR
        ),
    },
    "rcd": {
        "trip_input": Driver(
            "pievse.hal.devices.rcd:TripInputRcd",
            {
                "trip": _port("digital_in"),
                "test": _port("digital_out", required=False),
                "test_settle_s": Param("float", False, 0.05),
            },
        ),
        "coprocessor": Driver("pievse.hal.devices.pilot_coprocessor:CoprocessorRcd", _COPROCESSOR),
    },
    "thermometer": {
        "linear_analog": Driver(
            "pievse.hal.devices.thermometer:linear_analog",
            {
                "adc": _port("analog"),
                "offset_v": Param("float"),
                "volts_per_c": Param("float"),
                "trip_c": Param("float"),
                "resume_c": Param("float"),
                "alert": _port("digital_in", required=False),
            },
        ),
        "ntc": Driver(
            "pievse.hal.devices.thermometer:ntc",
            {
                "adc": _port("analog"),
                "supply_v": Param("float"),
                "fixed_ohm": Param("float"),
                "r25_ohm": Param("float"),
                "beta": Param("float"),
                "trip_c": Param("float"),
                "resume_c": Param("float"),
                "alert": _port("digital_in", required=False),
            },
        ),
        "tmp102": Driver(
            "pievse.hal.devices.thermometer:tmp102",
            {
                "i2c": _port("i2c"),
                "address": Param("int", False, 0x48),
                "trip_c": Param("float"),
                "resume_c": Param("float"),
                "alert": _port("digital_in", required=False),
            },
            claim=I2C_ADDRESS,
        ),
    },
    "ev_soc": {
        "bench_ev": Driver("pievse.hal.sim.bench_ev:BenchEvStateOfCharge", needs_plant=True),
    },
    "lock": {
        "feedback": Driver(
            "pievse.hal.devices.lock:FeedbackLock",
            {"actuator": _port("digital_out"), "feedback": _port("digital_in")},
        ),
    },
    "tag_reader": {
        "ascii_lines": Driver(
            "pievse.hal.devices.tag_reader:AsciiLineTagReader", {"link": _port("byte_link")}
        ),
        "pn532": Driver(
            "pievse.hal.devices.pn532:Pn532TagReader",
            {"link": _port("byte_link"), "poll_interval_s": Param("float", False, 0.2)},
        ),
    },
    "tamper": {
        "switch": Driver("pievse.hal.devices.tamper:LidSwitch", {"input": _port("digital_in")}),
    },
    "led": {
        "rgb": Driver(
            "pievse.hal.devices.led:RgbLed",
            {
                "red": _port("digital_out"),
                "green": _port("digital_out"),
                "blue": _port("digital_out"),
            },
        ),
    },
    "meter": {
        "modbus": Driver(
            "pievse.hal.devices.meter:ModbusMeter",
            {
                "bus": _port("registers"),
                "map": Param("map"),
                "device_id": Param("unit_id", False, 1),
            },
            claim=Claim("Modbus unit", ("bus", "device_id")),
        ),
    },
}

# A sensor at the outlet is the same kind of device as the enclosure's; the site's grid
# meter the same kind as the charger's (on the same RS485 line with another unit id, or TCP).
DEVICE_DRIVERS["outlet_thermometer"] = DEVICE_DRIVERS["thermometer"]
DEVICE_DRIVERS["grid_meter"] = DEVICE_DRIVERS["meter"]
DEVICE_DRIVERS["phase_contactor"] = {"relay": DEVICE_DRIVERS["contactor"]["relay"]}

REQUIRED_DEVICES = ("pilot", "contactor", "rcd", "thermometer", "meter")
