"""NXP PN532 RFID reader on a serial line (HSU, 115200 8N1) as an ID-tag source.

The reader is polled: InListPassiveTarget for one ISO 14443-A card, with the passive
activation retries limited (RFConfiguration) so that "no card" comes back at once instead
of the command waiting forever. A card counts once when it appears; held on the reader it
is not presented again until it was taken away. Its UID, in upper-case hex, is the id tag.

Frames (PN532 user manual 6.2): 00 00 FF LEN LCS TFI DATA DCS 00, LEN + LCS = 0 and
TFI + DATA + DCS = 0 (mod 256); TFI D4 to the reader, D5 from it; ACK is 00 00 FF 00 FF 00.
"""

from __future__ import annotations

import asyncio
import logging

from pievse.hal.ports import ByteLink

log = logging.getLogger(__name__)
HOST_TO_PN532 = 0xD4
PN532_TO_HOST = 0xD5
START = b"\x00\xff"
ACK = b"\x00\x00\xff\x00\xff\x00"
WAKE_UP = b"\x55\x55" + bytes(14)
SAM_CONFIGURATION = 0x14
RF_CONFIGURATION = 0x32
IN_LIST_PASSIVE_TARGET = 0x4A
ANSWER_S = 0.5


def command_frame(command: int, data: bytes = b"") -> bytes:
    body = bytes([HOST_TO_PN532, command]) + data
    length = len(body)
    return (
        b"\x00\x00\xff"
        + bytes([length, (-length) & 0xFF])
        + body
        + bytes([(-sum(body)) & 0xFF, 0x00])
    )


class Pn532Error(OSError):
    """The reader does not answer, or answers what it should not."""


class Pn532TagReader:
    def __init__(self, link: ByteLink, poll_interval_s: float = 0.2) -> None:
        if not 0.05 <= poll_interval_s <= 5.0:
            raise ValueError(f"poll_interval_s: expected 0.05..5, got {poll_interval_s}")
        self._link = link
        self._poll_s = poll_interval_s
        self._buffer = bytearray()
        self._configured = False
        self._on_reader: str | None = None

    async def next_tag(self) -> str:
        if not self._configured:
            await self._configure()
        while True:
            uid = await self._card()
            if uid is not None and uid != self._on_reader:
                self._on_reader = uid
                return uid
            self._on_reader = uid
            await asyncio.sleep(self._poll_s)

    async def _configure(self) -> None:
        self._link.write(WAKE_UP)
        await self._command(SAM_CONFIGURATION, b"\x01\x14\x01")  # normal mode, no IRQ use
        # MxRtyATR, MxRtyPSL, MxRtyPassiveActivation: answer "no card" after 2 tries
        await self._command(RF_CONFIGURATION, b"\x05\xff\x01\x02")
        self._configured = True
        log.info("PN532 reader ready")

    async def _card(self) -> str | None:
        answer = await self._command(IN_LIST_PASSIVE_TARGET, b"\x01\x00")
        if not answer or answer[0] == 0:
            return None
        # Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1
        if len(answer) < 6 or len(answer) < 6 + answer[5]:
            raise Pn532Error(f"PN532 target data too short: {answer.hex()}")
        uid = answer[6 : 6 + answer[5]]
        if not 4 <= len(uid) <= 10:
            raise Pn532Error(f"PN532 reports a {len(uid)}-byte UID")
        return uid.hex().upper()

    async def _command(self, command: int, data: bytes) -> bytes:
        self._buffer.clear()
        self._link.write(command_frame(command, data))
        try:
            async with asyncio.timeout(ANSWER_S):
                if await self._frame() is not None:
                    raise Pn532Error("PN532 answered without acknowledging first")
                answer = await self._frame()
        except TimeoutError:
            # An OSError, not a TimeoutError: a dead reader is a failure, not a quiet wait.
            raise Pn532Error(f"PN532 did not answer command {command:#04x}") from None
        if answer is None or answer[:2] != bytes([PN532_TO_HOST, command + 1]):
            raise Pn532Error(f"PN532 answered {answer!r} to command {command:#04x}")
        return answer[2:]

    async def _frame(self) -> bytes | None:
        """The next frame: None for an ACK, else TFI + data (checksums verified)."""
        while True:
            start = self._buffer.find(START)
            if start >= 0 and len(self._buffer) >= start + 4:
                length, check = self._buffer[start + 2], self._buffer[start + 3]
                if length == 0 and check == 0xFF:
                    del self._buffer[: start + 4]
                    return None
                if (length + check) & 0xFF:
                    del self._buffer[: start + 2]
                    raise Pn532Error("PN532 frame length checksum wrong")
                end = start + 4 + length + 1
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[start + 4 : start + 4 + length])
                    if (sum(body) + self._buffer[end - 1]) & 0xFF:
                        del self._buffer[:end]
                        raise Pn532Error("PN532 frame data checksum wrong")
                    del self._buffer[:end]
                    return body
            self._buffer.extend(await self._link.read(64))
