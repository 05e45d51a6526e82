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
        return struct.unpack(">" + _TYPES[self.type][0], raw)[0] * self.scale

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
    max_gap = data.get("max_gap")
    if max_gap is not None and (not isinstance(max_gap, int) or max_gap < 0):
        raise RegisterMapError(f"{where}: max_gap: expected an integer >= 0")
    return RegisterMap(name, str(data.get("model", name)), tuple(rows), max_gap)


def plan_reads(register_map: RegisterMap) -> list[BlockRead]:
    """Fewest block reads covering every row.

    Rows sorted by address merge into the current read while it stays within 125 registers
    (and within the map's max_gap); starting a new read only when the next row does not fit
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
                and end - last.address <= MAX_REGISTERS_PER_READ
            ):
                reads[-1] = BlockRead(
                    last.function_code, last.address, max(last_end, end) - last.address
                )
                continue
        reads.append(BlockRead(row.function_code, row.address, row.width))
    return reads
