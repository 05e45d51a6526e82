"""ID-tag reader for readers that send each card's UID as one ASCII line (hex digits)."""

from __future__ import annotations

import logging

from pievse.hal.ports import ByteLink

log = logging.getLogger(__name__)
MAX_ID_TAG_LENGTH = 20  # OCPP 1.6 IdToken is CiString20


class AsciiLineTagReader:
    def __init__(self, link: ByteLink) -> None:
        self._link = link
        self._buffer = bytearray()

    async def next_tag(self) -> str:
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline]).strip()
                del self._buffer[: newline + 1]
                tag = self._decode(line)
                if tag:
                    return tag
                continue
            self._buffer.extend(await self._link.read(64))

    @staticmethod
    def _decode(line: bytes) -> str | None:
        try:
            tag = line.decode("ascii")
        except UnicodeDecodeError:
            log.warning("tag reader sent a non-ASCII line; ignored")
            return None
        if not tag or len(tag) > MAX_ID_TAG_LENGTH or not tag.isprintable():
            log.warning("tag reader sent %r, not an id tag of 1-20 printable characters", tag)
            return None
        return tag
