"""The MQTT bridge wired to the box: aiomqtt is the `mqtt` extra's, so a box without
`[mqtt] url` never imports it, and one with it but without the extra stops with one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pievse.firmware.app.run_options import firmware_version
from pievse.firmware.clock import Clock
from pievse.firmware.config import Config, ConfigError, key
from pievse.firmware.session.stop_reasons import StopReason
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.site_share import SiteShare

if TYPE_CHECKING:
    from pievse.firmware.app.wallbox import Wallbox
    from pievse.firmware.mqtt.bridge import MqttBridge


def mqtt_bridge(
    config: Config,
    status: Callable[[], dict[str, Any]],
    mode: ChargingMode,
    stop: Callable[[], object],
    model_and_version: tuple[str, str],
    clock: Clock,
    site: tuple[SiteShare, GridReadings] | None = None,
    grid_feed: GridReadings | None = None,
) -> MqttBridge:
    """`site`: the box's share of a site's supply, and the grid readings it shares;
    `grid_feed`: where readings on the box's own topic go with `[mqtt] grid_readings`
    (the same readings `PUT /api/site/grid` and a grid meter of the board's feed)."""
    try:
        from pievse.firmware.mqtt.bridge import MqttBridge, MqttPart, box_topics
    except ImportError as exc:
        raise ConfigError(
            f"{key(lambda c: c.mqtt.url)}: MQTT needs pip install 'pievse[mqtt]' "
            f"({exc.name} is missing)"
        ) from None
    from pievse.firmware.mqtt.commands import Command, carry_out
    from pievse.firmware.mqtt.grid_feed import GridFeed
    from pievse.firmware.mqtt.home_assistant import Device, page_url
    from pievse.firmware.mqtt.site_link import SiteLink
    from pievse.firmware.site.site_messages import SiteCodec

    def act(command: Command) -> None:
        carry_out(command, mode, stop)

    parts: list[MqttPart] = []
    if site is not None:
        share, grid = site
        codec = SiteCodec(config.site.id, config.site.secret)
        parts.append(SiteLink(share, codec, config.mqtt.topic_prefix, grid, clock))
    if config.mqtt.grid_readings and grid_feed is not None:

        def wall() -> float:
            return clock.now().timestamp()

        topics = box_topics(config.mqtt, config.charge_point.id)
        grid_timeout_s = config.site.grid_timeout_s
        parts.append(GridFeed(topics, grid_feed, wall, clock.monotonic, grid_timeout_s))
    device = Device(*model_and_version, page_url(config.api.listen, config.api.allowed_hosts))
    return MqttBridge(
        config.mqtt,
        config.charge_point.id,
        status,
        act,
        device,
        clock.monotonic,
        parts,
        shares_site=site is not None,
    )


def box_mqtt_bridge(box: Wallbox) -> MqttBridge:
    """The bridge of a box with `[mqtt] url`: its status, its mode, a local stop, and its
    share of a site with the readings it shares."""
    config, controller = box.config, box.controller
    return mqtt_bridge(
        config,
        box.status,
        box.charging_mode,
        lambda: controller.sessions.stop_session(StopReason.LOCAL),
        (config.charge_point.model or box.board.name, firmware_version()),
        box.clock,
        None if box.site_share is None else (box.site_share, box.grid),
        box.grid,
    )
