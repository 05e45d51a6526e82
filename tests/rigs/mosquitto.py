"""A real mosquitto broker on a free loopback port, for the MQTT tests: started and stopped
(and restarted on the same port) by the test, optionally with a password file."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt

from tests.rigs.process import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@contextlib.contextmanager
def running_broker(directory: Path) -> Iterator[Broker]:
    """A broker of its own in `directory` (made here), stopped at the end."""
    directory.mkdir(parents=True)
    broker = Broker(directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class Broker:
    def __init__(
        self,
        directory: Path,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
        acl: str | None = None,
    ) -> None:
        """`tls`: the server's certificate and key files; the listener is then mqtts only.
        `acl`: the text of a mosquitto acl_file (with `users`: who may do what)."""
        self.port = free_port()
        self._directory = directory
        self._tls = tls is not None
        # As root mosquitto would drop to its own user, who cannot read the test's files.
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",
            f"user {getpass.getuser()}",
        ]
        if tls is not None:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if users:
            passwords = directory / "passwords"
            passwords.write_text("")
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password], check=True
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        if acl is not None:
            (directory / "acl").write_text(acl)
            lines.append(f"acl_file {directory / 'acl'}")
        else:
            lines.append("allow_anonymous true")
        self._conf = directory / "mosquitto.conf"
        self._conf.write_text("\n".join(lines) + "\n")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def url(self) -> str:
        return f"{'mqtts' if self._tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self._directory / "mosquitto.log").open("ab")
        self._process = subprocess.Popen([MOSQUITTO, "-c", str(self._conf)], stderr=log)
        deadline = time.monotonic() + 5
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start listening")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    @contextlib.asynccontextmanager
    async def watch(
        self, topic: str = "#", login: tuple[str, str] | None = None, identifier: str = ""
    ) -> AsyncIterator[Watcher]:
        """A client of the test's own that records every message under `topic`."""
        user, password = login or (None, None)
        async with aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier=identifier or "test-watcher",
            username=user,
            password=password,
        ) as client:
            watcher = Watcher(client)
            await client.subscribe(topic)
            task = asyncio.create_task(watcher.collect())
            try:
                yield watcher
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


class Watcher:
    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes, bool]] = []

    async def collect(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            self.messages.append((str(message.topic), payload, message.retain))

    def last(self, topic: str) -> bytes | None:
        found = [p for t, p, _ in self.messages if t == topic]
        return found[-1] if found else None

    async def wait_for(self, topic: str, payload: bytes | None = None, timeout: float = 5) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            last = self.last(topic)
            if last is not None and (payload is None or last == payload):
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"no {payload!r} on {topic} within {timeout} s; got {last!r}")
            await asyncio.sleep(0.05)

    async def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain)
