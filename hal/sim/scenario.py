"""A day at a site, played back: house load per phase and PV power over time, from a CSV
(`t_s,house_l1_a,house_l2_a,house_l3_a,pv_w`, rows in ascending time, the value held until
the next row). The bench's grid meter reads it; benchmarks and scenario tests run it at any
speed through an injectable clock."""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
COLUMNS = ("t_s", "house_l1_a", "house_l2_a", "house_l3_a", "pv_w")


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class SiteMoment:
    house_a: tuple[float, float, float]
    pv_w: float


class Scenario:
    def __init__(self, name: str, times: list[float], moments: list[SiteMoment]) -> None:
        self.name = name
        self._times = times
        self._moments = moments

    @property
    def duration_s(self) -> float:
        return self._times[-1]

    def at(self, t_s: float) -> SiteMoment:
        index = max(0, bisect.bisect_right(self._times, t_s) - 1)
        return self._moments[index]

    @classmethod
    def load(cls, path: Path) -> Scenario:
        try:
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError as exc:
            raise ScenarioError(f"scenario {path}: {exc.strerror or exc}") from None
        if not rows or tuple(rows[0]) != COLUMNS:
            raise ScenarioError(f"scenario {path}: expected the columns {', '.join(COLUMNS)}")
        times: list[float] = []
        moments: list[SiteMoment] = []
        for line, row in enumerate(rows, start=2):
            try:
                t = float(row["t_s"])
                house = (
                    float(row["house_l1_a"]),
                    float(row["house_l2_a"]),
                    float(row["house_l3_a"]),
                )
                pv = float(row["pv_w"])
            except (TypeError, ValueError):
                raise ScenarioError(f"scenario {path}: line {line}: not a number") from None
            if times and t <= times[-1]:
                raise ScenarioError(f"scenario {path}: line {line}: time must ascend")
            if min(house) < 0 or pv < 0:
                raise ScenarioError(f"scenario {path}: line {line}: negative load or PV")
            times.append(t)
            moments.append(SiteMoment(house, pv))
        return cls(path.stem, times, moments)

    @classmethod
    def bundled(cls, name: str) -> Scenario:
        path = SCENARIOS / f"{name}.csv"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in SCENARIOS.glob("*.csv")))
            raise ScenarioError(f"no scenario {name!r}; bundled: {known}")
        return cls.load(path)

    @classmethod
    def named(cls, name: str) -> Scenario:
        """A bundled scenario's name, or the path of a CSV file."""
        if name.endswith(".csv") or "/" in name:
            return cls.load(Path(name))
        return cls.bundled(name)
