"""Meter register maps as data: loading, read planning, and value (de)coding.

One table per meter model lives in `hal/meters/<name>.toml`; the meter driver decodes with
it and the simulated meter encodes with the same table, so both sides agree by construction.
"""

from __future__ import annotations

import math
import struct
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MAPS_DIR = Path(__file__).parent / "meters"
MAX_REGISTERS_PER_READ = 125

_TYPES: dict[str, tuple[str, int]] = {
    "float32": ("f", 2),
    "int32": ("i", 2),
    "uint32": ("I", 2),
    "int16": ("h", 1),
    "uint16": ("H", 1),
    "int64": ("q", 4),
    "uint64": ("Q", 4),
}
MEASURANDS = (
    "Voltage",
    "Current.Import",
    "Power.Active.Import",
    "Power.Factor",
    "Frequency",
    "Energy.Active.Import.Register",
)
PHASED_MEASURANDS = ("Voltage", "Current.Import", "Power.Active.Import", "Power.Factor")
"""Measurands a meter may report per phase; the others are totals and take no phase."""
PHASES = ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N")


class RegisterMapError(ValueError):
    pass


@dataclass(frozen=True)
class RegisterRow:
    address: int
    type: str
    measurand: str
    phase: str | None
    unit: str | None
    scale: float
    function_code: int
    word_order: str

    @property
    def width(self) -> int:
        return _TYPES[self.type][1]

    def decode(self, words: list[int]) -> float:
        if self.word_order == "little":
            words = list(reversed(words))
        raw = b"".join(w.to_bytes(2, "big") for w in words)
        value: float = struct.unpack(">" + _TYPES[self.type][0], raw)[0]
        return value * self.scale

    def encode(self, value: float) -> list[int]:
        """Raises ValueError for a value the register type cannot hold (NaN in an integer)."""
        code = _TYPES[self.type][0]
        raw_value: float | int = value / self.scale
        if code != "f":
            if not math.isfinite(raw_value):
                raise ValueError(f"{self.type} register cannot hold {value}")
            raw_value = round(raw_value)
        try:
            raw = struct.pack(">" + code, raw_value)
        except struct.error as exc:
            raise ValueError(f"{self.type} register cannot hold {value}: {exc}") from exc
        words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        return list(reversed(words)) if self.word_order == "little" else words


@dataclass(frozen=True)
class RegisterMap:
    name: str
    model: str
    rows: tuple[RegisterRow, ...]
    max_gap: int | None = None
    """Most unused registers one read may span; None: any (the meter answers every address
    in its range). A meter that refuses reads across undefined addresses sets 0."""
    served: tuple[RegisterRow, ...] = ()
    """Registers the meter documents that the driver does not read, for the emulator:
    `measurand` names the quantity shown (one of SERVED_QUANTITIES)."""
    settings: tuple[tuple[RegisterRow, float | str], ...] = ()
    """Holding registers of the meter's settings with the value it shows (a number, or
    "device_id"), for the emulator."""
    max_read: int = MAX_REGISTERS_PER_READ
    """The most registers the meter answers in one read (Modbus allows 125; an Eastron
    meter's manual restricts a request to 30 or 40 parameters); more gets an exception."""
    spans: tuple[tuple[int, int, int], ...] = ()
    """(function code, first, count) of the address space the meter answers: an address
    inside that no row names reads as zero, one outside is an illegal address. Empty: the
    driver's reads are the whole space."""

    def measurands(self) -> set[str]:
        return {row.measurand for row in self.rows}


@dataclass(frozen=True)
class BlockRead:
    function_code: int
    address: int
    count: int


SERVED_QUANTITIES = (
    *(f"{m}/{p}" for m in PHASED_MEASURANDS for p in ("L1", "L2", "L3") if m != "Voltage"),
    *(f"Voltage/{p}" for p in ("L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")),
    *(m for m in MEASURANDS if m not in ("Voltage", "Current.Import")),
    *(
        f"{m}/{p}"
        for m in ("Power.Apparent", "Power.Reactive", "Phase.Angle")
        for p in ("L1", "L2", "L3")
    ),
    "Power.Apparent",
    "Power.Reactive",
    "Phase.Angle",
    "Voltage.Average",
    "Voltage.LineAverage",
    "Current.Average",
    "Current.Sum",
    "Current.Neutral",
    "Power.Active.Export",
    "Energy.Active.Export.Register",
    "Energy.Active.Total",
    "Energy.Active.Net",
    *(
        f"{m}/{p}"
        for m in (
            "Energy.Active.Import.Register",
            "Energy.Active.Export.Register",
            "Energy.Active.Total",
        )
        for p in ("L1", "L2", "L3")
    ),
    "unmodelled",
)
"""What an emulated meter can show in a served register ("unmodelled": a quantity the
emulator does not compute, such as harmonic distortion, demand or reactive energy, which
reads as zero)."""


def known_maps() -> list[str]:
    return sorted(p.stem for p in MAPS_DIR.glob("*.toml"))


def load_register_map(name: str) -> RegisterMap:
    path = MAPS_DIR / f"{name}.toml"
    if not path.is_file():
        raise RegisterMapError(f"unknown meter map {name!r}; known: {', '.join(known_maps())}")
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@cache
def _parsed(path: Path, _mtime_ns: int, _size: int) -> RegisterMap:
    """Once per file as it is: a `RegisterMap` is frozen, and a fleet's boxes (or a board's
    meter and grid meter) would each parse the same file again."""
    name = path.stem
    with path.open("rb") as f:
        data = tomllib.load(f)
    where = path.name
    defaults = (data.get("function_code", 4), data.get("word_order", "big"))
    rows = [
        _row(entry, f"{where}: register #{i + 1}", defaults, MEASURANDS)
        for i, entry in enumerate(data.get("register", []))
    ]
    if not rows:
        raise RegisterMapError(f"{where}: no [[register]] rows")
    max_gap = data.get("max_gap")
    if max_gap is not None and (not isinstance(max_gap, int) or max_gap < 0):
        raise RegisterMapError(f"{where}: max_gap: expected an integer >= 0")
    served = tuple(
        _row(entry, f"{where}: served #{i + 1}", defaults, SERVED_QUANTITIES)
        for i, entry in enumerate(data.get("served", []))
    )
    if (served or data.get("setting")) and not data.get("span"):
        raise RegisterMapError(f"{where}: [[served]] and [[setting]] rows need [[span]]s")
    settings = tuple(
        _setting(entry, f"{where}: setting #{i + 1}", defaults)
        for i, entry in enumerate(data.get("setting", []))
    )
    spans = tuple(
        _span(entry, f"{where}: span #{i + 1}") for i, entry in enumerate(data.get("span", []))
    )
    _check_spans(where, [*rows, *served, *(row for row, _ in settings)], spans)
    max_read = data.get("max_read_registers", MAX_REGISTERS_PER_READ)
    if not isinstance(max_read, int) or not 2 <= max_read <= MAX_REGISTERS_PER_READ:
        raise RegisterMapError(f"{where}: max_read_registers: expected 2..125")
    model = str(data.get("model", name))
    return RegisterMap(name, model, tuple(rows), max_gap, served, settings, max_read, spans)


def _check_spans(
    where: str, rows: list[RegisterRow], spans: tuple[tuple[int, int, int], ...]
) -> None:
    """With spans, every row lies inside one; without, there may be no served or setting
    rows (the driver's reads are then the whole address space)."""
    if not spans:
        return
    for row in rows:
        if not any(
            code == row.function_code and first <= row.address <= first + count - row.width
            for code, first, count in spans
        ):
            raise RegisterMapError(
                f"{where}: register {row.address:#06x} (function {row.function_code}) lies "
                "outside every [[span]]"
            )


def _row(
    entry: dict[str, Any], at: str, defaults: tuple[int, str], quantities: tuple[str, ...]
) -> RegisterRow:
    """A [[register]] row (`measurand` and `phase`) or a [[served]] one (`shows`)."""
    shows = entry.get("shows")
    row = RegisterRow(
        address=entry.get("address", -1),
        type=entry.get("type", ""),
        measurand=entry.get("measurand", "") if shows is None else shows,
        phase=entry.get("phase"),
        unit=entry.get("unit"),
        scale=float(entry.get("scale", 1.0)),
        function_code=entry.get("function_code", defaults[0]),
        word_order=entry.get("word_order", defaults[1]),
    )
    what = "measurand" if shows is None else "shows"
    if not isinstance(row.address, int) or not 0 <= row.address <= 0xFFFF:
        raise RegisterMapError(f"{at}: address: expected 0..65535")
    if row.type not in _TYPES:
        raise RegisterMapError(f"{at}: type: expected one of {', '.join(_TYPES)}")
    if row.measurand not in quantities:
        raise RegisterMapError(f"{at}: {what}: expected one of {', '.join(quantities)}")
    if row.phase is not None and row.phase not in PHASES:
        raise RegisterMapError(f"{at}: phase: expected one of {', '.join(PHASES)}")
    if row.phase is not None and (shows is not None or row.measurand not in PHASED_MEASURANDS):
        raise RegisterMapError(f"{at}: phase: {row.measurand} is a total and takes no phase")
    if row.function_code not in (3, 4):
        raise RegisterMapError(f"{at}: function_code: expected 3 or 4")
    if row.word_order not in ("big", "little"):
        raise RegisterMapError(f"{at}: word_order: expected big or little")
    if row.scale == 0 or not math.isfinite(row.scale):
        raise RegisterMapError(f"{at}: scale: expected a finite non-zero number")
    return row


def _setting(
    entry: dict[str, Any], at: str, defaults: tuple[int, str]
) -> tuple[RegisterRow, float | str]:
    value = entry.get("value")
    if not (
        value == "device_id" or (isinstance(value, int | float) and not isinstance(value, bool))
    ):
        raise RegisterMapError(f'{at}: value: expected a number or "device_id"')
    fields = {k: v for k, v in entry.items() if k not in ("value", "name")}
    row = _row({"shows": "unmodelled", "function_code": 3, **fields}, at, defaults, ("unmodelled",))
    return row, value


def _span(entry: dict[str, Any], at: str) -> tuple[int, int, int]:
    code, first, last = entry.get("function_code"), entry.get("first"), entry.get("last")
    if code not in (3, 4):
        raise RegisterMapError(f"{at}: function_code: expected 3 or 4")
    if not (isinstance(first, int) and isinstance(last, int) and 0 <= first <= last <= 0xFFFF):
        raise RegisterMapError(f"{at}: first, last: expected 0 <= first <= last <= 65535")
    return code, first, last - first + 1


def plan_reads(register_map: RegisterMap) -> list[BlockRead]:
    """Fewest block reads covering every row.

    Rows sorted by address merge into the current read while it stays within the map's
    max_read registers (and its max_gap); starting a new read only when the next row does not fit
    gives the fewest reads for rows in address order.
    """
    max_gap = register_map.max_gap
    reads: list[BlockRead] = []
    for row in sorted(register_map.rows, key=lambda r: (r.function_code, r.address)):
        end = row.address + row.width
        if reads:
            last = reads[-1]
            last_end = last.address + last.count
            if (
                last.function_code == row.function_code
                and (max_gap is None or row.address - last_end <= max_gap)
                and end - last.address <= register_map.max_read
            ):
                reads[-1] = BlockRead(
                    last.function_code, last.address, max(last_end, end) - last.address
                )
                continue
        reads.append(BlockRead(row.function_code, row.address, row.width))
    return reads
