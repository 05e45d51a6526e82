"""A fleet's report: its boxes, what the CSMS did (`FleetTraffic`) and the fleet's own load,
as one record that is written as JSON (`--summary`), merged across shards and processes,
and rendered as text lines or Prometheus text (`--metrics`)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pievse.firmware.fleet.fleet_traffic import ActionCounts, FleetTraffic
from pievse.firmware.fleet.latency_histogram import LatencyHistogram

OVERLOAD_LAG_S = 1.0
"""A fleet whose loop is this late (p99 over a report's interval) is overloaded: its boxes'
timings are the fleet's, not the CSMS's."""


@dataclass
class BoxCounts:
    planned: int = 0
    started: int = 0
    failed: int = 0
    registered: int = 0
    charging: int = 0
    faulted: int = 0
    meter_offline: int = 0
    plug_ins: int = 0

    def merge(self, other: BoxCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class OwnLoad:
    """The fleet's own health: if it lags, what its boxes report is not the CSMS's doing."""

    cpu_s: float = 0.0
    rss_mb: float = 0.0
    lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    meter_timeouts: int = 0
    overloaded: bool = False

    def merge(self, other: OwnLoad) -> None:
        self.cpu_s += other.cpu_s
        self.rss_mb += other.rss_mb
        self.lag.merge(other.lag)
        self.meter_timeouts += other.meter_timeouts
        self.overloaded = self.overloaded or other.overloaded


@dataclass
class FleetReport:
    elapsed_s: float = 0.0
    processes: int = 1
    boxes: BoxCounts = field(default_factory=BoxCounts)
    traffic: FleetTraffic = field(default_factory=FleetTraffic)
    own: OwnLoad = field(default_factory=OwnLoad)

    def to_json(self) -> dict[str, Any]:
        t = self.traffic
        return {
            "elapsed_s": self.elapsed_s,
            "processes": self.processes,
            "boxes": {f.name: getattr(self.boxes, f.name) for f in fields(self.boxes)},
            "sent": {
                action: {
                    "count": c.count,
                    "ok": c.ok,
                    "errors": dict(c.errors),
                    "timeouts": c.timeouts,
                    "lost": c.lost,
                    "latency": c.latency.to_json(),
                }
                for action, c in sorted(t.sent.items())
            },
            "received": dict(sorted(t.received.items())),
            "boots": dict(t.boots),
            "authorizations": dict(t.authorizations),
            "connections": t.connections,
            "reconnects": t.reconnects,
            "own": {
                "cpu_s": self.own.cpu_s,
                "rss_mb": self.own.rss_mb,
                "lag": self.own.lag.to_json(),
                "meter_timeouts": self.own.meter_timeouts,
                "overloaded": self.own.overloaded,
            },
        }

    @classmethod
    def from_json(cls, data: object) -> FleetReport:
        """Raises ValueError naming what is wrong: a summary file is read back, by a merge."""
        if not isinstance(data, Mapping):
            raise ValueError("a fleet summary is a JSON object")
        report = cls(_number(data, "elapsed_s"), int(_number(data, "processes")))
        boxes = _mapping(data, "boxes")
        for f in fields(report.boxes):
            setattr(report.boxes, f.name, int(_number(boxes, f.name)))
        for action, counts in _mapping(data, "sent").items():
            counts = _mapping({action: counts}, action)
            report.traffic.sent[str(action)] = ActionCounts(
                LatencyHistogram.from_json(_mapping(counts, "latency")),
                int(_number(counts, "ok")),
                _counter(counts, "errors"),
                int(_number(counts, "timeouts")),
                int(_number(counts, "lost")),
            )
        t = report.traffic
        t.received, t.boots = _counter(data, "received"), _counter(data, "boots")
        t.authorizations = _counter(data, "authorizations")
        t.connections = int(_number(data, "connections"))
        t.reconnects = int(_number(data, "reconnects"))
        own = _mapping(data, "own")
        report.own = OwnLoad(
            _number(own, "cpu_s"),
            _number(own, "rss_mb"),
            LatencyHistogram.from_json(_mapping(own, "lag")),
            int(_number(own, "meter_timeouts")),
            own.get("overloaded") is True,
        )
        return report


def merged(reports: Iterable[FleetReport]) -> FleetReport:
    """Shards and processes add up; the elapsed time is the longest of them."""
    total = FleetReport(processes=0)
    for report in reports:
        total.elapsed_s = max(total.elapsed_s, report.elapsed_s)
        total.processes += report.processes
        total.boxes.merge(report.boxes)
        total.traffic.merge(report.traffic)
        total.own.merge(report.own)
    return total


def read_summary(text: str, name: str) -> FleetReport:
    try:
        return FleetReport.from_json(json.loads(text))
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"{name}: not a fleet summary: {exc}") from None


def _mapping(data: Mapping[Any, Any], key: str) -> Mapping[Any, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected an object")
    return value


def _number(data: Mapping[Any, Any], key: str) -> float:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    if value < 0:
        raise ValueError(f"{key}: expected 0 or more, got {value!r}")
    return float(value)


def _counter(data: Mapping[Any, Any], key: str) -> Counter[str]:
    mapping = _mapping(data, key)
    return Counter({str(k): int(_number(mapping, k)) for k in mapping})
