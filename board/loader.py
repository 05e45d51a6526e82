"""Board file loader: a bundled board's name or a path -> a validated BoardSpec.

Every error names the file, the section and the key, and what was expected, because board
files are written by hand for field installs.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pievse.board.claims import check_claims
from pievse.board.drivers import (
    DEVICE_DRIVERS,
    DEVICE_ID_RANGE,
    PORT_DRIVERS,
    REQUIRED_DEVICES,
    Driver,
    Param,
)
from pievse.hal.declared import (
    PLAIN_TYPE_NAMES,
    Check,
    Declaration,
    Entry,
    FieldError,
    Missing,
    Unknown,
    converted,
    declared,
    read,
    required,
    within,
)
from pievse.hal.interfaces import Ratings
from pievse.hal.register_map import RegisterMapError, known_maps, load_register_map
from pievse.hal.sim.plant import PlantSettings
from pievse.hal.sim.scenario import Scenario, ScenarioError

BOARDS_DIR = Path(__file__).parent / "boards"
"""How a board file's errors name the scalar types."""


@dataclass(frozen=True, kw_only=True)
class BoardTable:
    """`[board]`: what the board is rated for (checked in this order)."""

    max_current_a: float = required("the most the board may offer, A per phase", within(6.0, 80.0))
    phases: float = required(
        "phases wired to the outlet",
        Check("one of (1, 3)", lambda v: v in (1, 3), bounds="1..3"),
    )
    nominal_voltage_v: float = required("line to neutral, V", within(100.0, 300.0))
    frequency_hz: float = required("the grid's frequency, Hz", within(45.0, 65.0))
    name: str | None = declared(None, "the board's name; not given: the file's name")


BOARD_KEYS = ("name", "max_current_a", "phases", "nominal_voltage_v", "frequency_hz")
"""In the order an unknown key's error lists them."""
PARAM_KINDS: dict[str, tuple[type, Check | None]] = {
    "str": (str, None),
    "int": (int, None),
    "float": (float, None),
    "bool": (bool, None),
    "unit_id": (
        int,
        within(
            *DEVICE_ID_RANGE,
            text="a Modbus unit id {}..{}".format(*DEVICE_ID_RANGE),
            says_type=True,
        ),
    ),
}
"""Driver parameter kinds that are declared values (the others name things in the board
file or the package: ports, meter maps, data files, derating steps)."""
SECTIONS = ("board", "plant", "ports", "derating", *DEVICE_DRIVERS)
"""Every table a board file may have: anything else is a misspelling (a `[deratng]` that
was silently skipped left a board without derating)."""


class BoardError(ValueError):
    pass


@dataclass(frozen=True)
class Section:
    driver: str
    params: dict[str, object]
    name: str = ""
    """Where it is in the board file ("pilot", "ports.pilot_pwm"), for error messages."""


@dataclass(frozen=True)
class BoardSpec:
    path: Path
    name: str
    ratings: Ratings
    derating: tuple[tuple[float, float], ...]
    plant: PlantSettings | None
    ports: dict[str, Section]
    devices: dict[str, Section]


def bundled_boards() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def resolve_board(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or "/" in name_or_path:
        if not candidate.is_file():
            raise BoardError(f"board file {name_or_path}: not found")
        return candidate
    bundled = BOARDS_DIR / f"{name_or_path}.toml"
    if not bundled.is_file():
        raise BoardError(
            f"unknown board {name_or_path!r}; bundled boards: {', '.join(bundled_boards())} "
            "(or give the path of a board file)"
        )
    return bundled


def load_board(name_or_path: str) -> BoardSpec:
    path = resolve_board(name_or_path)
    return _BoardReader(path.name, _extended(_read_toml(path), path, {path})).read(path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"board file {path.name}: not valid TOML: {exc}") from exc


def _extended(data: dict[str, Any], path: Path, seen: set[Path]) -> dict[str, Any]:
    """`[board] extends`: a board that is another with a few parts added or changed (an
    installer's Pi with a grid meter). Each table of the child updates the parent's, key by
    key; a port or a device key given again replaces the parent's."""
    board = data.get("board")
    parent_name = board.get("extends") if isinstance(board, dict) else None
    if parent_name is None:
        return data
    if not isinstance(parent_name, str) or not parent_name:
        raise BoardError(f"board file {path.name}: [board] extends: expected a board's name")
    relative = parent_name.endswith(".toml") or "/" in parent_name
    try:
        parent_path = resolve_board(str(path.parent / parent_name) if relative else parent_name)
    except BoardError as exc:
        raise BoardError(f"board file {path.name}: [board] extends: {exc}") from None
    if parent_path.resolve() in {p.resolve() for p in seen}:
        raise BoardError(f"board file {path.name}: [board] extends: {parent_name} extends it")
    parent = _extended(_read_toml(parent_path), parent_path, seen | {parent_path})
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in parent.items()}
    for key, value in data.items():
        old = merged.get(key)
        merged[key] = (
            {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
        )
    merged["board"].pop("extends")
    merged["board"]["name"] = data["board"].get("name", path.stem)
    return merged


class _BoardReader:
    def __init__(self, filename: str, data: dict[str, object]) -> None:
        self.filename = filename
        self.data = data

    def fail(self, section: str, key: str | None, message: str) -> BoardError:
        where = f"[{section}] {key}" if key else f"[{section}]"
        return BoardError(f"board file {self.filename}: {where}: {message}")

    def table(self, name: str, required: bool = True) -> dict[str, object] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, None, "section missing")
            return None
        if not isinstance(value, dict):
            raise self.fail(name, None, "expected a table")
        return value

    def value(self, section: str, table: dict[str, object], key: str, param: Param) -> object:
        if key not in table:
            if param.required:
                raise self.fail(section, key, f"missing (expected {_describe(param.kind)})")
            return param.default
        raw = table[key]
        kind = param.kind
        if kind in PARAM_KINDS:
            value_type, check = PARAM_KINDS[kind]
            entry = Entry(key, value_type, param.default, Declaration("", check))
            try:
                return converted(entry, raw, PLAIN_TYPE_NAMES, show_raw=True)
            except FieldError as exc:
                raise self.fail(section, key, exc.message) from None
        if kind == "map":
            if not isinstance(raw, str):
                raise self.fail(section, key, f"expected a meter map name, got {raw!r}")
            try:
                load_register_map(raw)
            except RegisterMapError as exc:
                raise self.fail(section, key, str(exc)) from exc
            return raw
        if kind == "steps":
            return self.steps(section, key, raw)
        if kind == "data_file":
            if not isinstance(raw, str) or not raw or "/" in raw or raw.startswith("."):
                raise self.fail(section, key, f"expected {_describe(kind)}, got {raw!r}")
            return raw
        return self.port_ref(section, key, raw, kind.removeprefix("port:"))

    def steps(self, section: str, key: str, raw: object) -> tuple[tuple[float, float], ...]:
        expected = "a list of [above_c, max_current_a] pairs with rising temperatures"
        if not isinstance(raw, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p)
            for p in raw
        ):
            raise self.fail(section, key, f"expected {expected}, got {raw!r}")
        pairs = tuple((float(a), float(b)) for a, b in raw)
        if [a for a, _ in pairs] != sorted(a for a, _ in pairs):
            raise self.fail(section, key, f"expected {expected}")
        return pairs

    def port_ref(self, section: str, key: str, raw: object, kind: str) -> str:
        ports = self.table("ports") or {}
        if not isinstance(raw, str) or raw not in ports:
            raise self.fail(
                section, key, f"expected the name of a {kind} port in [ports], got {raw!r}"
            )
        port = ports[raw]
        driver = PORT_DRIVERS.get(port.get("driver", "")) if isinstance(port, dict) else None
        if driver is not None and driver.port_kind != kind:
            raise self.fail(section, key, f"port {raw!r} is a {driver.port_kind} port, not {kind}")
        return raw

    def section(
        self, section: str, table: dict[str, object], drivers: dict[str, Driver]
    ) -> Section:
        name = table.get("driver")
        if name not in drivers:
            raise self.fail(
                section, "driver", f"unknown driver {name!r}; known: {', '.join(sorted(drivers))}"
            )
        driver = drivers[str(name)]
        unknown = sorted(set(table) - set(driver.params) - {"driver"})
        if unknown:
            raise self.fail(
                section,
                unknown[0],
                f"not a parameter of driver {name!r} "
                f"(known: {', '.join(sorted(driver.params)) or 'none'})",
            )
        params = {
            key: self.value(section, table, key, param) for key, param in driver.params.items()
        }
        return Section(str(name), params, section)

    def known_keys(self, section: str, table: dict[str, object], known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                raise self.fail(section, key, f"unknown key (known: {', '.join(known)})")

    def read(self, path: Path) -> BoardSpec:
        for section in self.data:
            if section not in SECTIONS:
                raise self.fail(section, None, f"unknown section (known: {', '.join(SECTIONS)})")
        board = self.board_table()
        ratings = Ratings(
            max_current_a=board.max_current_a,
            phases=int(board.phases),
            nominal_voltage_v=board.nominal_voltage_v,
            frequency_hz=board.frequency_hz,
        )
        name = path.stem if board.name is None else board.name

        port_tables = self.table("ports") or {}
        ports = {}
        for port_name, port_table in port_tables.items():
            if not isinstance(port_table, dict):
                raise self.fail("ports", port_name, "expected an inline table with a driver")
            ports[port_name] = self.section(f"ports.{port_name}", port_table, PORT_DRIVERS)

        devices = {}
        for device, drivers in DEVICE_DRIVERS.items():
            table = self.table(device, required=device in REQUIRED_DEVICES)
            if table is not None:
                devices[device] = self.section(device, table, drivers)

        derating_table = self.table("derating", required=False) or {}
        self.known_keys("derating", derating_table, ("steps",))
        derating = self.value("derating", derating_table, "steps", Param("steps", False, []))

        check_claims(
            {n: (p.driver, p.params) for n, p in ports.items()},
            {k: (d.driver, d.params) for k, d in devices.items()},
            self.fail,
        )
        if "phase_contactor" in devices and ratings.phases != 3:
            raise self.fail("phase_contactor", None, "needs a 3-phase board ([board] phases = 3)")
        uses_sim = any(p.driver.startswith("sim.") for p in ports.values())
        plant = self.plant(ratings, "phase_contactor" in devices) if uses_sim else None
        if plant is None and "plant" in self.data:
            raise self.fail("plant", None, "only boards with simulated ports have a plant")
        return BoardSpec(path, name, ratings, tuple(derating), plant, ports, devices)  # type: ignore[arg-type]

    def board_table(self) -> BoardTable:
        table = self.table("board")
        assert table is not None
        self.known_keys("board", table, BOARD_KEYS)
        try:
            return read(BoardTable, table, PLAIN_TYPE_NAMES, show_raw=True, in_declared_order=True)
        except Missing as exc:
            check = exc.entry.check()
            bounds = check.bounds if check is not None else ""
            expected = f"{PLAIN_TYPE_NAMES[exc.entry.kind]} {bounds}".strip()
            raise self.fail("board", exc.name, f"missing (expected {expected})") from None
        except Unknown as exc:  # known_keys said it first, in its words
            raise AssertionError(exc) from None
        except FieldError as exc:
            raise self.fail("board", exc.name, exc.message) from None

    def plant(self, ratings: Ratings, phase_switched: bool) -> PlantSettings:
        table = self.table("plant", required=False) or {}
        fields = {f.name: f for f in dataclasses.fields(PlantSettings)}
        from_board = {"phases", "nominal_voltage_v", "grid_frequency_hz", "phase_switched"}
        values: dict[str, object] = {}
        for key in table:
            if key not in fields or key in from_board:
                settable = sorted(set(fields) - from_board)
                raise self.fail("plant", key, f"unknown key (known: {', '.join(settable)})")
            kind = {"int": "int", "str": "data_file", "bool": "bool"}.get(
                str(fields[key].type), "float"
            )
            kind = "str" if key == "scenario" else kind
            values[key] = self.value("plant", table, key, Param(kind))
        if values.get("cable_rating_a", 32.0) not in (13.0, 20.0, 32.0, 63.0):
            raise self.fail("plant", "cable_rating_a", "expected 13, 20, 32 or 63")
        scenario = values.get("scenario")
        if isinstance(scenario, str) and scenario:
            try:
                Scenario.named(scenario)
            except ScenarioError as exc:
                raise self.fail("plant", "scenario", str(exc)) from None
        speed = values.get("scenario_speed", 60.0)
        if not isinstance(speed, float) or not 0 < speed <= 10_000:
            raise self.fail("plant", "scenario_speed", "expected a number above 0, at most 10000")
        return PlantSettings(
            phases=ratings.phases,
            nominal_voltage_v=ratings.nominal_voltage_v,
            grid_frequency_hz=ratings.frequency_hz,
            phase_switched=phase_switched,
            **values,  # type: ignore[arg-type]
        )


def _describe(kind: str) -> str:
    value_type, check = PARAM_KINDS.get(kind, (None, None))
    if value_type is not None and check is None:
        return PLAIN_TYPE_NAMES[value_type]
    return {
        "map": f"a meter map name ({', '.join(known_maps())})",
        "data_file": "a file name (no directory) kept in the data directory",
    }.get(kind, kind)
