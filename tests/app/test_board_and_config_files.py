"""Wrong board and config files: one clear error naming file, section and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pievse.board.assembly import assemble
from pievse.board.loader import BOARDS_DIR, BoardError, load_board
from pievse.firmware.config import ConfigError, load_config, parse_config
from pievse.hal.register_map import RegisterMapError, load_register_map, plan_reads


def _board_with(tmp_path: Path, old: str, new: str) -> str:
    text = (BOARDS_DIR / "bench-sim.toml").read_text()
    assert old in text, old
    path = tmp_path / "my-board.toml"
    path.write_text(text.replace(old, new, 1))
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "frequency_hz = 1000",
            'frequency_hz = "fast"',
            "my-board.toml: [pilot] frequency_hz: expected a number, got 'fast'",
        ),
        (
            'driver = "peak_hold"',
            'driver = "bitbang"',
            "my-board.toml: [pilot] driver: unknown driver 'bitbang'; "
            "known: coprocessor, peak_hold",
        ),
        (
            'high = "pilot_high"',
            'high = "nowhere"',
            "[pilot] high: expected the name of a analog port in [ports], got 'nowhere'",
        ),
        (
            'high = "pilot_high"',
            'high = "contactor_coil"',
            "[pilot] high: port 'contactor_coil' is a digital_out port, not analog",
        ),
        ("max_current_a = 32", "max_current_a = 120", "[board] max_current_a: expected 6.0..80.0"),
        ("phases = 3", "phases = 2", "[board] phases: expected one of (1, 3), got 2"),
        (
            'map = "sdm630"\ndevice_id = 1\n',
            'map = "sdm999"\n',
            "[meter] map: unknown meter map 'sdm999'; known: abb_b23, em340, sdm120, sdm630",
        ),
        ("cable_rating_a = 32", "cable_rating_a = 40", "[plant] cable_rating_a: expected 13, 20"),
        ("ambient_c = 25", "ambiant_c = 25", "[plant] ambiant_c: unknown key"),
        (
            "trip_c = 80\n",
            "trip_c = 80\nhysteresis = 3\n",
            "[thermometer] hysteresis: not a parameter of driver 'linear_analog'",
        ),
        (
            "steps = [[60.0, 16.0], [70.0, 10.0]]",
            "steps = [[70.0, 10.0], [60.0, 16.0]]",
            "[derating] steps: expected a list of [above_c, max_current_a] pairs",
        ),
        ("[contactor]\n", "[contactorx]\n", "my-board.toml: [contactorx]: unknown section"),
        # A misspelt section used to be skipped: no derating, 32 A offered at 75 °C.
        ("[derating]\n", "[deratng]\n", "my-board.toml: [deratng]: unknown section (known:"),
        ("steps = [[60.0", "step = 3\nsteps = [[60.0", "[derating] step: unknown key"),
        ("max_current_a = 32", "max_curent_a = 16\nmax_current_a = 32", "[board] max_curent_a"),
        (
            "device_id = 1\n",
            "device_id = 300\n",
            "my-board.toml: [meter] device_id: expected a Modbus unit id 1..247, got 300",
        ),
        (
            "device_id = 2\n",
            "device_id = 1\n",
            "[grid_meter] device_id: Modbus unit (port 'meter_bus') 1 is taken by [meter]",
        ),
        (
            'red = "led_red"',
            'red = "contactor_coil"',
            "my-board.toml: [led] red: port 'contactor_coil' is named by [contactor] coil already",
        ),
        (
            'green = "led_green"',
            'green = "led_red"',
            "[led] green: port 'led_red' is named by [led] red already",
        ),
        (
            'led_red = { driver = "sim.digital_out", signal = "led_red" }',
            'led_red = { driver = "sim.digital_out", signal = "contactor_coil" }',
            "[ports.led_red] signal: simulated signal 'contactor_coil' is taken by "
            "[ports.contactor_coil]",
        ),
        ("ambient_c = 25", 'scenario = "rainy"', "[plant] scenario: no scenario 'rainy'"),
        ("ambient_c = 25", "scenario_speed = 0", "[plant] scenario_speed: expected a number"),
        ("phases = 3", "phases = 1", "[phase_contactor]: needs a 3-phase board"),
    ],
)
def test_board_file_errors_name_file_section_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(BoardError) as excinfo:
        load_board(_board_with(tmp_path, old, new))
    assert message in str(excinfo.value)


def test_a_board_that_extends_another_changes_only_what_it_names(tmp_path: Path) -> None:
    child = tmp_path / "garage.toml"
    child.write_text(
        '[board]\nextends = "bench-sim"\nmax_current_a = 16\n\n[meter]\ndevice_id = 7\n'
    )
    spec = load_board(str(child))
    parent = load_board("bench-sim")
    assert (spec.name, spec.ratings.max_current_a, spec.ratings.phases) == ("garage", 16.0, 3)
    assert spec.devices["meter"].params["device_id"] == 7
    assert spec.devices["meter"].params["map"] == "sdm630", "the rest of [meter] is the parent's"
    assert spec.ports == parent.ports


@pytest.mark.parametrize(
    ("extends", "message"),
    [
        ('"pi-zero"', "loop.toml: [board] extends: unknown board 'pi-zero'"),
        ("3", "[board] extends: expected a board's name"),
        ('"loop.toml"', "[board] extends: loop.toml extends it"),
    ],
)
def test_a_bad_extends_is_refused_with_its_file(tmp_path: Path, extends: str, message: str) -> None:
    path = tmp_path / "loop.toml"
    path.write_text(f"[board]\nextends = {extends}\n")
    with pytest.raises(BoardError) as excinfo:
        load_board(str(path))
    assert message in str(excinfo.value)


def _pi_board_with(tmp_path: Path, old: str, new: str) -> str:
    text = (BOARDS_DIR / "pi-relay-hat.toml").read_text()
    assert old in text, old
    path = tmp_path / "my-pi.toml"
    path.write_text(text.replace(old, new, 1))
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # The LED on the contactor's keep-alive line: each could switch the other.
        (
            'led_red = { driver = "linux.gpio_out", pin = 16 }',
            'led_red = { driver = "linux.gpio_out", pin = 27 }',
            "my-pi.toml: [ports.led_red] pin: GPIO line 27 is taken by "
            "[ports.contactor_keepalive] already",
        ),
        (
            'lid = { driver = "linux.gpio_in", pin = 26,',
            'lid = { driver = "linux.gpio_in", pin = 17,',
            "[ports.lid] pin: GPIO line 17 is taken by [ports.contactor_coil]",
        ),
        (
            "address = 0x49",
            "address = 0x48",
            "[thermometer] address: I2C address (I2C bus 1) 72 is taken by [ports.adc]",
        ),
        (
            "channel = 3, full_scale_v",
            "channel = 2, full_scale_v",
            "[ports.outlet_ntc] channel: ADC channel (I2C address (I2C bus 1) 72) 2 is taken "
            "by [ports.pp]",
        ),
        (
            'device = "/dev/rs485"',
            'device = "/dev/ttyAMA0"',
            "[ports.meter_bus] device: serial device '/dev/ttyAMA0' is taken by [ports.rfid]",
        ),
    ],
)
def test_two_sections_on_one_piece_of_hardware_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(BoardError) as excinfo:
        load_board(_pi_board_with(tmp_path, old, new))
    assert message in str(excinfo.value)


def test_an_error_while_building_names_the_file(tmp_path: Path) -> None:
    path = _board_with(tmp_path, "resume_c = 70", "resume_c = 90")
    with pytest.raises(BoardError, match=r"^board file my-board\.toml: \[thermometer\] driver"):
        assemble(load_board(path))


def test_unknown_board_names_the_bundled_ones() -> None:
    known = "unknown board 'pi-zero'; bundled boards: bench-fleet, bench-sim"
    with pytest.raises(BoardError, match=known):
        load_board("pi-zero")


def test_invalid_toml_and_semantic_errors_from_drivers(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[board\n")
    with pytest.raises(BoardError, match=r"broken\.toml: not valid TOML"):
        load_board(str(bad))
    path = _board_with(tmp_path, "resume_c = 70", "resume_c = 90")
    with pytest.raises(BoardError, match=r"resume_c \(90.0\) must be below trip_c"):
        assemble(load_board(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"control": {"tick_ms": 5}}, "[control] tick_ms: expected 10..1000, got 5"),
        ({"control": {"tick_ms": "fast"}}, "[control] tick_ms: expected a int, got 'fast'"),
        ({"meter": {"on_loss": "panic"}}, '[meter] on_loss: expected "stop" or "continue"'),
        ({"ocpp": {"csms_url": "http://x"}}, "[ocpp] csms_url: expected empty, or a ws://"),
        ({"api": {"listen": "localhost"}}, "[api] listen: expected HOST:PORT"),
        ({"charge_point": {"id": "a/b"}}, "[charge_point] id: expected 1 to 48 printable"),
        ({"control": {"tikc_ms": 100}}, "[control] tikc_ms: unknown key"),
        ({"contorl": {}}, "[contorl]: unknown section"),
        ({"standalone": {"free_vend_id_tag": "X" * 21}}, "[standalone] free_vend_id_tag"),
    ],
)
def test_config_errors_name_section_and_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(data, "pievse.toml")
    assert message in str(excinfo.value)


def test_config_file_not_found_and_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("x = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_a_phase_on_a_total_measurand_is_refused(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "odd.toml").write_text(
        '[[register]]\naddress = 0x46\ntype = "float32"\nmeasurand = "Frequency"\nphase = "L1"\n'
    )
    monkeypatch.setattr("pievse.hal.register_map.MAPS_DIR", tmp_path)
    with pytest.raises(RegisterMapError, match="Frequency is a total and takes no phase"):
        load_register_map("odd")


def test_sdm630_map_is_read_in_one_block_and_round_trips() -> None:
    sdm630 = load_register_map("sdm630")
    assert [(r.function_code, r.address, r.count) for r in plan_reads(sdm630)] == [(4, 0, 74)]
    for row in sdm630.rows:
        assert row.decode(row.encode(1234.5)) == pytest.approx(1234.5)


def _map_file(tmp_path: Path, monkeypatch, addresses: list[int], header: str = "") -> None:
    rows = "".join(
        f'[[register]]\naddress = {a}\ntype = "float32"\nmeasurand = "Frequency"\n\n'
        for a in addresses
    )
    (tmp_path / "synthetic.toml").write_text(header + rows)
    monkeypatch.setattr("pievse.hal.register_map.MAPS_DIR", tmp_path)


@pytest.mark.parametrize(
    ("addresses", "header", "reads"),
    [
        ([0, 60, 123], "", [(4, 0, 125)]),  # exactly 125 registers: one read
        ([0, 60, 124], "", [(4, 0, 62), (4, 124, 2)]),  # 126 would be too many
        ([0, 10, 200, 210], "", [(4, 0, 12), (4, 200, 12)]),
        ([0, 2, 10], "max_gap = 0\n", [(4, 0, 4), (4, 10, 2)]),
        ([0, 2, 10], "max_gap = 6\n", [(4, 0, 12)]),
    ],
)
def test_reads_are_the_fewest_blocks_of_at_most_125_registers(
    tmp_path: Path, monkeypatch, addresses: list[int], header: str, reads: list[tuple]
) -> None:
    _map_file(tmp_path, monkeypatch, addresses, header)
    planned = plan_reads(load_register_map("synthetic"))
    assert [(r.function_code, r.address, r.count) for r in planned] == reads


def test_a_negative_max_gap_is_refused(tmp_path: Path, monkeypatch) -> None:
    _map_file(tmp_path, monkeypatch, [0], "max_gap = -1\n")
    with pytest.raises(RegisterMapError, match="max_gap: expected an integer >= 0"):
        load_register_map("synthetic")
