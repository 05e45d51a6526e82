"""Meter register maps as data: loading, read planning, and value (de)coding.

One table per meter model lives in `hal/meters/<name>.toml`; the meter driver decodes with
it and the simulated meter encodes with the same table, so both sides agree by construction.
"""

from __future__ import annotations

import math
import struct
import tomllib
from dataclasses import dataclass
from pathlib import Path

MAPS_DIR = Path(__file__).parent / "meters"
MAX_REGISTERS_PER_READ = 125
# Reading a few unused registers is cheaper than the request, reply header, CRC and the
# silent intervals of another transaction (about 20 registers' worth on RS485).
DEFAULT_MAX_GAP = 20

_TYPES: dict[str, tuple[str, int]] = {
    "float32": ("f", 2),
    "int32": ("i", 2),
    "uint32": ("I", 2),
    "int16": ("h", 1),
    "uint16": ("H", 1),
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
        return struct.unpack(">" + _TYPES[self.type][0], raw)[0] * self.scale

    def encode(self, value: float) -> list[int]:
        code = _TYPES[self.type][0]
        raw_value: float | int = value / self.scale
        if code != "f":
            raw_value = round(raw_value)
        raw = struct.pack(">" + code, raw_value)
        words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        return list(reversed(words)) if self.word_order == "little" else words


@dataclass(frozen=True)
class RegisterMap:
    name: str
    model: str
    rows: tuple[RegisterRow, ...]

    def measurands(self) -> set[str]:
        return {row.measurand for row in self.rows}


@dataclass(frozen=True)
class BlockRead:
    function_code: int
    address: int
    count: int


def known_maps() -> list[str]:
    return sorted(p.stem for p in MAPS_DIR.glob("*.toml"))


def load_register_map(name: str) -> RegisterMap:
    path = MAPS_DIR / f"{name}.toml"
    if not path.is_file():
        raise RegisterMapError(f"unknown meter map {name!r}; known: {', '.join(known_maps())}")
    with path.open("rb") as f:
        data = tomllib.load(f)
    where = path.name
    default_fc = data.get("function_code", 4)
    default_order = data.get("word_order", "big")
    rows = []
    for i, entry in enumerate(data.get("register", [])):
        at = f"{where}: register #{i + 1}"
        row = RegisterRow(
            address=entry.get("address", -1),
            type=entry.get("type", ""),
            measurand=entry.get("measurand", ""),
            phase=entry.get("phase"),
            unit=entry.get("unit"),
            scale=float(entry.get("scale", 1.0)),
            function_code=entry.get("function_code", default_fc),
            word_order=entry.get("word_order", default_order),
        )
        if not isinstance(row.address, int) or not 0 <= row.address <= 0xFFFF:
            raise RegisterMapError(f"{at}: address: expected 0..65535")
        if row.type not in _TYPES:
            raise RegisterMapError(f"{at}: type: expected one of {', '.join(_TYPES)}")
        if row.measurand not in MEASURANDS:
            raise RegisterMapError(f"{at}: measurand: expected one of {', '.join(MEASURANDS)}")
        if row.phase is not None and row.phase not in PHASES:
            raise RegisterMapError(f"{at}: phase: expected one of {', '.join(PHASES)}")
        if row.phase is not None and row.measurand not in PHASED_MEASURANDS:
            raise RegisterMapError(f"{at}: phase: {row.measurand} is a total and takes no phase")
        if row.function_code not in (3, 4):
            raise RegisterMapError(f"{at}: function_code: expected 3 or 4")
        if row.word_order not in ("big", "little"):
            raise RegisterMapError(f"{at}: word_order: expected big or little")
        if row.scale == 0 or not math.isfinite(row.scale):
            raise RegisterMapError(f"{at}: scale: expected a finite non-zero number")
        rows.append(row)
    if not rows:
        raise RegisterMapError(f"{where}: no [[register]] rows")
    return RegisterMap(name, str(data.get("model", name)), tuple(rows))


def plan_reads(rows: tuple[RegisterRow, ...], max_gap: int = DEFAULT_MAX_GAP) -> list[BlockRead]:
    """Fewest block reads covering every row: neighbours merge across gaps of <= max_gap."""
    reads: list[BlockRead] = []
    for row in sorted(rows, key=lambda r: (r.function_code, r.address)):
        end = row.address + row.width
        if reads:
            last = reads[-1]
            last_end = last.address + last.count
            if (
                last.function_code == row.function_code
                and row.address - last_end <= max_gap
                and end - last.address <= MAX_REGISTERS_PER_READ
            ):
                reads[-1] = BlockRead(
                    last.function_code, last.address, max(last_end, end) - last.address
                )
                continue
        reads.append(BlockRead(row.function_code, row.address, row.width))
    return reads
