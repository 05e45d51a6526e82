"""Each fleet box's configuration: the base one, with its own charge point id, the fleet's
CSMS, timing and, optionally, the shared site."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pievse.firmware.config import Config, with_overrides


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


def box_id(prefix: str, index: int) -> str:
    return f"{prefix}{index + 1:04d}"


def box_config(
    base: Config,
    charge_point_id: str,
    csms_url: str,
    timing: FleetTiming,
    site: FleetSite | None,
) -> Config:
    """Raises ConfigError where the flags do not make a valid box (checked like a file)."""
    overrides: dict[str, dict[str, object]] = {
        "charge_point": {"id": charge_point_id},
        "ocpp": {"csms_url": csms_url},
        "control": {"tick_ms": timing.tick_ms},
        "meter": {"poll_interval_s": timing.meter_poll_s},
        "api": {"listen": "127.0.0.1:0"},
    }
    if site is not None:
        overrides["site"] = {
            "id": site.id,
            "main_fuse_a": site.main_fuse_a,
            "max_boxes": site.max_boxes,
            "secret": site.secret,
        }
        overrides["mqtt"] = {"url": site.mqtt_url, "discovery_prefix": ""}
    return with_overrides(base, overrides, "fleet flags")
