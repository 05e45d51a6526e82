"""The MQTT bridge wired to the box: aiomqtt is the `mqtt` extra's, so a box without
`[mqtt] url` never imports it, and one with it but without the extra stops with one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pievse.firmware.config import Config, ConfigError
from pievse.firmware.site.charging_mode import ChargingMode

if TYPE_CHECKING:
    from pievse.firmware.mqtt.bridge import MqttBridge


def mqtt_bridge(
    config: Config,
    status: Callable[[], dict[str, Any]],
    mode: ChargingMode,
    stop: Callable[[], None],
    device: tuple[str, str],
    monotonic: Callable[[], float],
) -> MqttBridge:
    try:
        from pievse.firmware.mqtt.bridge import MqttBridge
    except ImportError as exc:
        raise ConfigError(
            f"[mqtt] url: MQTT needs pip install 'pievse[mqtt]' ({exc.name} is missing)"
        ) from None
    from pievse.firmware.mqtt.commands import Command, carry_out

    def act(command: Command) -> None:
        carry_out(command, mode, stop)

    return MqttBridge(config.mqtt, config.charge_point.id, status, act, device, monotonic)
