"""The serial protocol between pievse and the pilot co-processor (RP2040, MicroPython).

This one file runs on both sides: the host driver imports it and `pievse flash-pilot` copies
it onto the co-processor, so the two can never disagree about a frame. It is therefore
written in the subset MicroPython runs: no dataclasses, typing or __future__ imports
(MicroPython ignores annotations, but evaluates a subscript such as `tuple[int]`: those stay
strings here).

Frame: A5 5A | seq u8 | type u8 | length u8 | payload | CRC-16/CCITT-FALSE over seq..payload,
big endian. Each side numbers its frames; the receiver counts gaps as lost frames. A reader
resynchronises on the next A5 5A; a frame with a bad CRC or a length over MAX_PAYLOAD is
counted and dropped, never acted on.
"""

import struct

try:
    from binascii import crc_hqx
except ImportError:  # MicroPython has no crc_hqx; this loop is its stand-in
    # (the stdlib's parameters are positional-only, a syntax MicroPython does not parse)
    def crc_hqx(data: bytes, crc: int) -> int:  # type: ignore[misc]
        for byte in data:
            crc ^= byte << 8
            for _ in range(8):
                crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        return crc


PROTOCOL_VERSION = 1
SYNC = b"\xa5\x5a"
HEADER = 5
MAX_PAYLOAD = 48

# host -> co-processor
HELLO = 0x01
"""payload: the host's protocol version (u8). Answered by HELLO_ACK."""
HEARTBEAT = 0x02
"""No payload. When these stop for HEARTBEAT_TIMEOUT_MS the co-processor drops the
contactor and stops offering (steady +12 V): a hung or dead host never leaves power on."""
SET_PILOT = 0x03
"""payload: duty in 0.1 % (u16): DUTY_STEADY_HIGH, DUTY_STATE_F, or 100..970 (10-97 %)."""
DUTY_STEADY_HIGH = 1000
"""+12 V, no PWM: nothing offered (states A, B1, C1)."""
DUTY_STATE_F = 0
"""-12 V: state F, the EV must stop drawing."""
SET_CONTACTOR = 0x04
"""payload: u8, 1 = close when safe, 0 = open."""
RCD_TEST = 0x05
"""payload: u8, 1 = inject the RCD module's test current, 0 = end it."""

# co-processor -> host
HELLO_ACK = 0x81
"""payload: protocol version (u8) + firmware version (ASCII)."""
STATUS = 0x82
"""payload: STATUS_FORMAT, sent every STATUS_EVERY_MS and at once on a change."""

HEARTBEAT_TIMEOUT_MS = 500
STATUS_EVERY_MS = 50
STATUS_FORMAT = ">BhhHBBHH"
"""state (ASCII A-F), pilot high mV, pilot low mV, duty 0.1 %, flags, trip reason,
bad frames received, frames lost (sequence gaps)."""
STATUS_SIZE = struct.calcsize(STATUS_FORMAT)

FLAG_CONTACTOR_ENABLED = 0x01
"""The co-processor's own contactor-enable output is on."""
FLAG_CONTACTOR_CLOSED = 0x02
"""The contactor's mirror contact reads closed (measured)."""
FLAG_RCD_TRIPPED = 0x04
FLAG_DIODE_OK = 0x08
FLAG_PWM_ACTIVE = 0x10
"""The last sample pair was taken with the PWM running (measured, not the duty asked for)."""
FLAG_HOST_LOST = 0x20
"""The heartbeat stopped: the co-processor took the box to its safe state by itself."""

TRIP_NONE = 0
TRIP_PILOT = 1
"""The EV left state C/D (A, B, E or F) while the contactor was enabled."""
TRIP_RCD = 2
TRIP_HEARTBEAT = 3
TRIP_DIODE = 4
TRIP_NAMES = {
    TRIP_NONE: "none",
    TRIP_PILOT: "pilot",
    TRIP_RCD: "rcd",
    TRIP_HEARTBEAT: "heartbeat",
    TRIP_DIODE: "diode",
}


def encode(seq: int, kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload longer than {MAX_PAYLOAD} bytes")
    body = bytes([seq & 0xFF, kind, len(payload)]) + bytes(payload)
    return SYNC + body + struct.pack(">H", crc_hqx(body, 0xFFFF))


def status_payload(
    state: str,
    high_mv: int,
    low_mv: int,
    duty_permille: int,
    flags: int,
    trip: int,
    bad: int,
    lost: int,
) -> bytes:
    return struct.pack(
        STATUS_FORMAT,
        ord(state),
        high_mv,
        low_mv,
        duty_permille,
        flags,
        trip,
        min(bad, 0xFFFF),
        min(lost, 0xFFFF),
    )


def parse_status(payload: bytes) -> "tuple[str, int, int, int, int, int, int, int]":
    """(state, high_mv, low_mv, duty_permille, flags, trip, bad, lost)."""
    state, high, low, duty, flags, trip, bad, lost = struct.unpack(STATUS_FORMAT, payload)
    return chr(state), high, low, duty, flags, trip, bad, lost


class FrameReader:
    """Bytes in, whole frames out: (seq, kind, payload) tuples."""

    def __init__(self) -> None:
        self._buffer = b""
        self._last_seq = -1
        self.bad_frames = 0
        self.lost_frames = 0

    def feed(self, data: bytes) -> "list[tuple[int, int, bytes]]":
        buffer = self._buffer + bytes(data)
        at = 0
        frames = []
        while True:
            start = buffer.find(SYNC, at)
            if start < 0:
                # a trailing A5 may be the first half of the next SYNC
                at = len(buffer) - 1 if buffer.endswith(SYNC[:1]) else len(buffer)
                break
            at = start
            if len(buffer) - at < HEADER:
                break
            length = buffer[at + 4]
            if length > MAX_PAYLOAD:
                self.bad_frames += 1
                at += 2
                continue
            end = at + HEADER + length + 2
            if len(buffer) < end:
                break
            body = buffer[at + 2 : at + HEADER + length]
            if buffer[end - 2] << 8 | buffer[end - 1] != crc_hqx(body, 0xFFFF):
                self.bad_frames += 1
                at += 2
                continue
            at = end
            seq = body[0]
            if self._last_seq >= 0:
                self.lost_frames += (seq - self._last_seq - 1) & 0xFF
            self._last_seq = seq
            frames.append((seq, body[1], body[3:]))
        self._buffer = buffer[at:]
        return frames
