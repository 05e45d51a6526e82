"""The box's MQTT connection: availability with a last will, Home Assistant discovery, the
state on change and at least every `state_interval_s`, and the command topics.

It runs as a task of its own and only reads the status and calls what the local API calls,
so a broker that is down, slow or refuses the login never reaches the control loop; it
reconnects with a doubling, jittered back-off. A command that fails its checks is logged
and changes nothing, and so is a retained message on a topic it listens to: commands and
site messages are meant for the moment they are sent, never for whoever subscribes later
(one retained `stop` would end every session after each reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import aiomqtt

from pievse.firmware.config import MqttConfig, key, parse_mqtt_url
from pievse.firmware.mqtt.commands import Command, CommandError, parse_command
from pievse.firmware.mqtt.home_assistant import Device, Topics, discovery
from pievse.firmware.mqtt.state import state_payload

log = logging.getLogger(__name__)
URL_KEY = key(lambda c: c.mqtt.url)
CHECK_S = 0.5
"""How often the state is compared with what was last published."""
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 60.0


class MqttPart(Protocol):
    """More that rides on the box's one connection (the site's sharing)."""

    subscriptions: list[str]

    def accepts(self, topic: str) -> bool:
        """Whether a message on `topic` is this part's."""

    def receive(self, topic: str, payload: bytes) -> None:
        """Checks the message; must not raise, and must return quickly."""

    async def run(self, client: aiomqtt.Client) -> None:
        """Publishes for as long as the connection lasts (cancelled when it ends)."""

    async def farewell(self, client: aiomqtt.Client) -> None:
        """On a clean stop, before the box says it is offline."""

    def mqtt_status(self) -> dict[str, Any]:
        """What it adds to `/api/status` `mqtt` (may be nothing)."""


def topic_level(text: str) -> str:
    """A charge point id as one topic level: no wildcards, no separators."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def box_topics(config: MqttConfig, charge_point_id: str) -> Topics:
    """The box's own topics: `<topic_prefix>/<charge point id as a level>/...`."""
    return Topics(f"{config.topic_prefix}/{topic_level(charge_point_id)}")


class MqttBridge:
    def __init__(
        self,
        config: MqttConfig,
        charge_point_id: str,
        snapshot: Callable[[], dict[str, Any]],
        act: Callable[[Command], None],
        device: Device,
        monotonic: Callable[[], float],
        parts: Sequence[MqttPart] = (),
        shares_site: bool = False,
    ) -> None:
        """`snapshot`: the `/api/status` document; `act` carries a checked command out and
        raises ValueError where the box refuses it; `device`: what HA shows of the box;
        `shares_site`: the site's state and share are entities too."""
        parsed = parse_mqtt_url(config.url)
        if parsed is None:
            raise ValueError(f"{URL_KEY}: not an mqtt:// or mqtts:// URL: {config.url!r}")
        self._tls, self._host, self._port = parsed
        self._config = config
        self._node = topic_level(charge_point_id)
        self.topics = box_topics(config, charge_point_id)
        self._snapshot = snapshot
        self._act = act
        self._device = device
        self._monotonic = monotonic
        self._parts = tuple(parts)
        self._shares_site = shares_site
        self.connected = False
        self.published = 0
        self.refused_commands = 0
        self.ignored_retained = 0
        self.failed_messages = 0
        self.last_error: str | None = None

    def describe(self) -> dict[str, Any]:
        described = {
            "broker": f"{self._host}:{self._port}",
            "connected": self.connected,
            "base_topic": self.topics.base,
            "last_error": self.last_error,
            "refused_commands": self.refused_commands,
            "ignored_retained": self.ignored_retained,
            "failed_messages": self.failed_messages,
        }
        for part in self._parts:
            described |= part.mqtt_status()
        return described

    async def run(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            try:
                async with self._client() as client:
                    backoff = BACKOFF_MIN_S
                    await self._session(client)
            except aiomqtt.MqttError as exc:
                reason = str(exc) or type(exc).__name__
                if reason != self.last_error:
                    log.warning("MQTT broker %s:%d: %s", self._host, self._port, reason)
                self.last_error = reason
            finally:
                self.connected = False
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(BACKOFF_MAX_S, backoff * 2)

    def _client(self) -> aiomqtt.Client:
        config = self._config
        context = None
        if self._tls:
            context = ssl.create_default_context(cafile=config.ca_file or None)
        return aiomqtt.Client(
            self._host,
            self._port,
            username=config.username or None,
            password=config.password or None,
            identifier=f"pievse-{self._node}",
            will=aiomqtt.Will(self.topics.availability, "offline", qos=1, retain=True),
            tls_context=context,
            timeout=10,
            keepalive=30,
        )

    async def _session(self, client: aiomqtt.Client) -> None:
        topics = self.topics
        # listening before it says it is online: a command sent on "online" is heard
        await client.subscribe(topics.command("+"), qos=1)
        for part in self._parts:
            for topic in part.subscriptions:
                await client.subscribe(topic, qos=0)
        await client.publish(topics.availability, "online", qos=1, retain=True)
        if self._config.discovery_prefix:
            for topic, payload in discovery(
                self._config.discovery_prefix, topics, self._node, self._device, self._shares_site
            ):
                await client.publish(topic, json.dumps(payload), qos=1, retain=True)
        self.connected = True
        self.last_error = None
        log.info("MQTT connected to %s:%d as %s", self._host, self._port, topics.base)
        tasks = [asyncio.create_task(self._publish_state(client), name="mqtt-state")]
        tasks += [asyncio.create_task(part.run(client), name="mqtt-part") for part in self._parts]
        for task in tasks:
            task.add_done_callback(_log_failure)
        stopping = False
        try:
            async for message in client.messages:
                if message.retain:
                    self._ignore_retained(str(message.topic))
                    continue
                self._route(str(message.topic), message.payload)
        except asyncio.CancelledError:
            stopping = True
            raise
        finally:
            for task in tasks:
                task.cancel()
            # gather, not a suppressed await: a cancellation of this task itself must not
            # be swallowed here, or a stopped box would reconnect
            await asyncio.gather(*tasks, return_exceptions=True)
            # A clean stop says so itself; the broker's last will covers a dead process.
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(1.0):
                    if stopping:
                        for part in self._parts:
                            await part.farewell(client)
                    await client.publish(topics.availability, "offline", qos=1, retain=True)

    def _ignore_retained(self, topic: str) -> None:
        self.ignored_retained += 1
        if _worth_logging(self.ignored_retained):
            log.warning(
                "MQTT: retained message on %s ignored (%d so far): remove it from the broker",
                topic,
                self.ignored_retained,
            )

    def _route(self, topic: str, payload: Any) -> None:
        raw = payload if isinstance(payload, bytes) else str(payload or "").encode()
        for part in self._parts:
            if part.accepts(topic):
                try:
                    part.receive(topic, raw)
                except Exception:
                    # A part must refuse what it cannot take; one that raises instead is a
                    # defect, and must not end the connection every other part rides on.
                    self.failed_messages += 1
                    if _worth_logging(self.failed_messages):
                        log.exception("MQTT message on %s failed its part", topic[:120])
                return
        self._command(topic, raw)

    async def _publish_state(self, client: aiomqtt.Client) -> None:
        last: dict[str, Any] | None = None
        at = -float("inf")
        while True:
            state = state_payload(self._snapshot())
            now = self._monotonic()
            if state != last or now - at >= self._config.state_interval_s:
                await client.publish(self.topics.state, json.dumps(state), qos=0, retain=True)
                self.published += 1
                last, at = state, now
            await asyncio.sleep(CHECK_S)

    def _command(self, topic: str, raw: bytes) -> None:
        name = topic.rsplit("/", 1)[-1]
        try:
            self._act(parse_command(name, raw))
        except (CommandError, ValueError) as exc:
            self.refused_commands += 1
            if _worth_logging(self.refused_commands):
                log.warning("MQTT command on %s refused, nothing changed: %s", topic, exc)


def _worth_logging(count: int) -> bool:
    """The first few of a kind, then one in a thousand: a client flooding the box's topics
    cannot fill its log (the counts in `/api/status` say how many)."""
    return count <= 10 or count % 1000 == 0


def _log_failure(task: asyncio.Task[None]) -> None:
    """A publishing task that failed stops publishing: never silently."""
    if not task.cancelled() and task.exception() is not None:
        log.error("MQTT %s stopped", task.get_name(), exc_info=task.exception())
