"""Grid readings over MQTT for a box alone on its supply (`[mqtt] grid_readings`): a home
energy system publishes the grid's currents on `<base>/set/mains_meter`, as SmartEVSE
users feed its MainsMeter, and the box takes them as it takes `PUT /api/site/grid`.

Two forms: SmartEVSE's `L1:L2:L3` (whole deci-amperes, import positive), or the local
API's JSON `{"current_a": [L1, L2, L3], "export_w"?: W, "time"?: ISO-8601}`. Every message
is anyone's on the broker: one that is not a reading, out of range, not finite, too old or
too frequent is refused, counted by kind and logged the first time of each kind; none
stops anything. What a reading can steer is bounded where it is used: the house is never
taken below 0 A (`energy/site_allocation.house_load_a`), so no reading, an export of 500 A
or a grid current under the EV's own draw, lifts the fuse's limit above `main_fuse_a`."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.mqtt.home_assistant import Topics
from pievse.firmware.site.grid_readings import MQTT_ORIGIN, GridReadingError, GridReadings
from pievse.hal.declared import (
    FieldError,
    as_float,
    declared,
    numbers_or_null,
    read,
    required,
    rule,
)

log = logging.getLogger(__name__)
COMMAND = "mains_meter"
MAX_PAYLOAD = 256
MIN_INTERVAL_S = 0.2
"""Readings closer together are refused: a feeder sends one a second or so, and a flood
must not wake the control loop at its pace."""
MAX_AHEAD_S = 120.0
"""A reading's `time` may be this far ahead of the box's clock (the two clocks differ)."""
MAX_CURRENT_A = 1000.0
DECI_AMPERES = re.compile(r"-?\d{1,5}")


class GridFeedError(ValueError):
    """`kind` names the refusal for the counts (`not_text`, `malformed`, `out_of_range`,
    `stale`, `too_often`, `too_large`)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class GridInput:
    current_a: tuple[float | None, float | None, float | None]
    export_w: float | None = None


def parse_grid_reading(payload: bytes, now_wall: float, max_age_s: float) -> GridInput:
    """A reading, or GridFeedError saying why not; `max_age_s`: how old a reading that
    names its `time` may be (older is stale where it arrives)."""
    if len(payload) > MAX_PAYLOAD:
        raise GridFeedError("too_large", f"{len(payload)} bytes; at most {MAX_PAYLOAD}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise GridFeedError("not_text", "not UTF-8 text") from None
    if text.startswith("{"):
        return _from_json(text, now_wall, max_age_s)
    parts = text.split(":")
    if len(parts) != 3 or not all(DECI_AMPERES.fullmatch(p.strip()) for p in parts):
        raise GridFeedError(
            "malformed",
            f"expected L1:L2:L3 in whole deci-amperes or a JSON object, got {text[:40]!r}",
        )
    currents = tuple(int(p) / 10 for p in parts)
    return GridInput((_current(currents[0]), _current(currents[1]), _current(currents[2])))


def _three_readings(values: list[Any]) -> bool:
    return len(values) == 3 and numbers_or_null(values)


@dataclass(frozen=True, kw_only=True)
class GridMessage:
    """The JSON form, declared as the local API's bodies and the config file's keys are:
    what each field is. Its ranges are checked after it, as `out_of_range` refusals, which
    are counted apart from messages that are no reading at all (`malformed`)."""

    current_a: list[float | None] = required(
        "per phase in A, import positive; null for a phase it does not measure",
        rule("a list of 3 numbers (or null)", _three_readings, says_type=True),
    )
    export_w: float | None = declared(None, "W exported to the grid, 0..1000000")
    time: str | None = declared(None, "when it was taken: ISO 8601 with a zone")


def _from_json(text: str, now_wall: float, max_age_s: float) -> GridInput:
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise GridFeedError("malformed", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise GridFeedError("malformed", "expected a JSON object")
    try:
        message = read(GridMessage, body)
    except FieldError as exc:
        raise GridFeedError("malformed", str(exc)) from None
    currents = [None if c is None else _current(as_float(c)) for c in message.current_a]
    export = message.export_w
    if export is not None and not 0 <= export <= 1e6:
        raise GridFeedError("out_of_range", f"export_w: {export} W is not 0..1000000")
    if message.time is not None:
        _check_time(message.time, now_wall, max_age_s)
    return GridInput((currents[0], currents[1], currents[2]), export)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _current(value: float) -> float:
    if not -MAX_CURRENT_A <= value <= MAX_CURRENT_A:  # also what no float holds (inf)
        raise GridFeedError("out_of_range", f"current_a: {value} A is not -1000..1000")
    return value


def _check_time(value: object, now_wall: float, max_age_s: float) -> None:
    try:
        taken = parse_ocpp_datetime(value).timestamp()  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise GridFeedError("malformed", "time: not an ISO 8601 date-time with a zone") from None
    if taken < now_wall - max_age_s:
        raise GridFeedError("stale", f"taken {now_wall - taken:.0f} s ago; at most {max_age_s:.0f}")
    if taken > now_wall + MAX_AHEAD_S:
        raise GridFeedError("stale", f"taken {taken - now_wall:.0f} s ahead of the box's clock")


class GridFeed:
    """The readings' part of the box's MQTT connection (an `MqttPart`)."""

    def __init__(
        self,
        topics: Topics,
        grid: GridReadings,
        wall: Callable[[], float],
        monotonic: Callable[[], float],
        max_age_s: float,
    ) -> None:
        """`max_age_s`: `[site] grid_timeout_s` (an older reading is stale anyway)."""
        self._topic = topics.command(COMMAND)
        self._grid = grid
        self._wall = wall
        self._monotonic = monotonic
        self._max_age_s = max_age_s
        self._last_at = -math.inf
        self.subscriptions: list[str] = []
        """The bridge listens on its command topics already."""
        self.accepted = 0
        self.refused: dict[str, int] = {}
        self.last_refusal: str | None = None

    def accepts(self, topic: str) -> bool:
        return topic == self._topic

    def receive(self, topic: str, payload: bytes) -> None:
        now = self._monotonic()
        try:
            if now - self._last_at < MIN_INTERVAL_S:
                raise GridFeedError("too_often", f"less than {MIN_INTERVAL_S} s after the last")
            reading = parse_grid_reading(payload, self._wall(), self._max_age_s)
            self._grid.feed(reading.current_a, reading.export_w, origin=MQTT_ORIGIN)
        except GridFeedError as exc:
            self._refuse(exc.kind, str(exc))
            return
        except GridReadingError as exc:
            self._refuse("out_of_range", str(exc))
            return
        self._last_at = now
        self.accepted += 1

    def _refuse(self, kind: str, reason: str) -> None:
        self.refused[kind] = self.refused.get(kind, 0) + 1
        self.last_refusal = f"{kind}: {reason}"
        if self.refused[kind] == 1:
            log.warning(
                "MQTT grid reading on %s refused (%s), the last one stays: %s; later ones of "
                "this kind are only counted (/api/status mqtt.grid_readings)",
                self._topic,
                kind,
                reason,
            )

    def mqtt_status(self) -> dict[str, Any]:
        return {
            "grid_readings": {
                "topic": self._topic,
                "accepted": self.accepted,
                "refused": dict(self.refused),
                "last_refusal": self.last_refusal,
            }
        }

    async def run(self, client: aiomqtt.Client) -> None:
        """Nothing to publish: the readings only come in."""
        await asyncio.Event().wait()

    async def farewell(self, client: aiomqtt.Client) -> None:
        """Nothing to take back."""
