"""A PN532 on the far end of a serial line: it acknowledges and answers the commands the
driver sends, with a card on it or not."""

from __future__ import annotations

import os
import select
import threading


def _frame(body: bytes) -> bytes:
    length = len(body)
    return (
        b"\x00\x00\xff" + bytes([length, (-length) & 0xFF]) + body + bytes([(-sum(body)) & 0xFF, 0])
    )


class FakePn532:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.card: bytes | None = None
        self.commands: list[int] = []
        self._buffer = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not select.select([self._fd], [], [], 0.02)[0]:
                continue
            self._buffer += os.read(self._fd, 256)
            while True:
                start = self._buffer.find(b"\x00\xff")
                if start < 0 or len(self._buffer) < start + 4:
                    break
                length = self._buffer[start + 2]
                end = start + 4 + length + 2
                if len(self._buffer) < end:
                    break
                body = self._buffer[start + 4 : start + 4 + length]
                self._buffer = self._buffer[end:]
                self._answer(body)

    def _answer(self, body: bytes) -> None:
        command = body[1]
        self.commands.append(command)
        reply = bytes([0xD5, command + 1])
        if command == 0x4A:
            card = self.card
            reply += (
                b"\x00" if card is None else b"\x01\x01\x00\x04\x08" + bytes([len(card)]) + card
            )
        os.write(self._fd, b"\x00\x00\xff\x00\xff\x00" + _frame(reply))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)
