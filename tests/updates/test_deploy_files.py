"""The shipped example configuration is valid and states the defaults."""

from __future__ import annotations

import re
import tomllib

from pievse.firmware.config import Config, load_config
from tests.rigs.paths import ROOT


def test_example_config_parses_to_the_defaults() -> None:
    assert load_config(ROOT / "deploy" / "pievse.example.toml") == Config()


def test_the_unit_schedules_the_controller_ahead_of_ordinary_load() -> None:
    lines = (ROOT / "deploy" / "pievse.service").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")
    assert int(settings["Nice"]) < 0, "ahead of processes at nice 0"
    assert int(settings["CPUWeight"]) > 100, "ahead of other services' cgroups"
    assert settings["RestrictRealtime"] == "true"
    assert settings.get("CPUSchedulingPolicy", "other") in ("other", "batch"), (
        "a realtime policy would be refused by RestrictRealtime="
    )


# --- what the unit lets the service reach ------------------------------------------------------

UNIT = ROOT / "deploy" / "pievse.service"
SERIAL_CLASS = {"ttyAMA": "ttyAMA", "ttyS": "ttyS", "rs485": "ttyUSB", "rfid": "ttyUSB"}
"""Device names in the bundled board files -> the kernel's character device class; the
names are udev's (deploy/99-pievse-serial.rules: FTDI and CH340 USB serial adapters)."""


def unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).extend(value.split() if key.endswith("Paths") else [value])
    return found


def test_the_service_writes_only_its_data_config_new_releases_and_the_pwm() -> None:
    unit = unit_settings()
    assert unit["ProtectSystem"] == ["strict"]
    assert sorted(unit["ReadWritePaths"]) == [
        "-/sys/class/pwm/pwmchip0/",
        "-/sys/class/pwm/pwmchip2/",
        "/etc/pievse",
        "/opt/pievse",
        "/var/lib/pievse",
    ]
    read_only = [path.lstrip("-") for path in unit["ReadOnlyPaths"]]
    programs = [command.split()[0].lstrip("-") for command in unit["ExecStart"]]
    programs += [command.split()[0].lstrip("-") for command in unit["ExecStartPre"]]
    assert len(programs) == 2
    for program in programs:
        assert any(program.startswith(path) for path in read_only), (
            f"{program} runs from a release the service could rewrite"
        )


def test_the_unit_filters_calls_hides_processes_and_bounds_resources() -> None:
    unit = unit_settings()
    assert unit["SystemCallFilter"] == ["@system-service"]
    assert unit["ProtectProc"] == ["invisible"]
    assert int(unit["LimitNOFILE"][0]) >= 4096
    size = unit["MemoryMax"][0]
    assert size.endswith("M") and 256 <= int(size[:-1]) <= 1024
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["NoNewPrivileges"] == ["true"]


def test_the_device_allow_list_fits_the_bundled_boards() -> None:
    unit = unit_settings()
    assert unit["DevicePolicy"] == ["closed"]
    allowed = {entry.split()[0] for entry in unit["DeviceAllow"]}
    assert all(entry.split()[1] == "rw" for entry in unit["DeviceAllow"])
    rules = (ROOT / "deploy" / "99-pievse-serial.rules").read_text()
    needed: set[str] = set()
    for board in sorted((ROOT / "board" / "boards").glob("pi-*.toml")):
        ports = tomllib.loads(board.read_text()).get("ports", {})
        for name, port in ports.items():
            driver = port.get("driver", "")
            if driver in ("linux.gpio_out", "linux.gpio_in"):
                needed |= {"/dev/gpiomem", "char-gpiochip"}
            elif driver == "linux.i2c":
                needed.add("char-i2c")
            elif driver == "linux.sysfs_pwm":
                pwm = f"-/sys/class/pwm/pwmchip{port['chip']}/"
                assert pwm in unit["ReadWritePaths"], (board.name, name)
            elif "device" in port:
                node = re.sub(
                    r"^(tty[A-Za-z]+)[0-9]+$", r"\1", port["device"].removeprefix("/dev/")
                )
                if node in ("rs485", "rfid"):
                    assert f'SYMLINK+="{node}"' in rules, (board.name, name)
                needed.add(f"char-{SERIAL_CLASS[node]}")
    needed.add("char-ttyACM")  # the Pico under `pievse flash-pilot`, /dev/pico
    assert needed <= allowed, needed - allowed
    assert not {entry for entry in allowed if entry.startswith("block-")}, "no disks"
