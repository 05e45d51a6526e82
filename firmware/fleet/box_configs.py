"""Each fleet box's configuration: the base one, with its own charge point id, the fleet's
CSMS, timing and, optionally, the shared site."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from pievse.firmware.config import Config, Key, key, with_values


@dataclass(frozen=True)
class FleetSite:
    id: str
    mqtt_url: str
    main_fuse_a: float
    max_boxes: int
    secret: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    """The fleet's boxes sign their site's messages with one secret of their own."""


@dataclass(frozen=True)
class FleetTiming:
    tick_ms: int = 500
    """The control loop's period; events (a pilot change, a fault) wake it at once."""
    meter_poll_s: float = 10.0
    """As often as the CSMS sees MeterValues: a faster poll would only cost CPU."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` runs every count-th box from `index` on: the shards of one
    fleet (on several machines, or the processes of one) take disjoint charge point ids."""

    index: int = 0
    count: int = 1

    def indices(self, boxes: int) -> range:
        return range(self.index, boxes, self.count)

    def split(self, parts: int) -> list[Shard]:
        """This shard as `parts` shards (one per process), together the same boxes."""
        return [Shard(self.index + self.count * k, self.count * parts) for k in range(parts)]


def parse_shard(text: str) -> Shard:
    """ "I/N" with 0 <= I < N; raises ValueError naming what is expected."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 0 <= int(index) < int(count)):
        raise ValueError(f"expected I/N with 0 <= I < N (e.g. 0/2), got {text!r}")
    return Shard(int(index), int(count))


VERSION_CHOICES = ("1.6", "2.0.1", "mixed")


def box_version(choice: str | None, index: int) -> str | None:
    """The OCPP version a box speaks: the fleet's, or by turns for "mixed"; None leaves the
    base configuration's."""
    if choice == "mixed":
        return ("1.6", "2.0.1")[index % 2]
    return choice


def box_id(prefix: str, index: int) -> str:
    return f"{prefix}{index + 1:04d}"


def box_config(
    base: Config,
    charge_point_id: str,
    csms_url: str,
    timing: FleetTiming,
    site: FleetSite | None,
    ocpp_version: str | None = None,
) -> Config:
    """Raises ConfigError where the flags do not make a valid box (checked like a file)."""
    values: dict[Key[Any], object] = {
        key(lambda c: c.charge_point.id): charge_point_id,
        key(lambda c: c.ocpp.csms_url): csms_url,
        key(lambda c: c.control.tick_ms): timing.tick_ms,
        key(lambda c: c.meter.poll_interval_s): timing.meter_poll_s,
        key(lambda c: c.api.listen): "127.0.0.1:0",
    }
    if ocpp_version is not None:
        values[key(lambda c: c.ocpp.version)] = ocpp_version
    if site is not None:
        values |= {
            key(lambda c: c.site.id): site.id,
            key(lambda c: c.site.main_fuse_a): site.main_fuse_a,
            key(lambda c: c.site.max_boxes): site.max_boxes,
            key(lambda c: c.site.secret): site.secret,
            key(lambda c: c.mqtt.url): site.mqtt_url,
            key(lambda c: c.mqtt.discovery_prefix): "",
        }
    return with_values(base, values, "fleet flags")
