"""One emulated Modbus TCP line for the meters of many bench boxes in one process (a fleet's).

A box on its own starts a Modbus server for its meters; a fleet of a thousand would start a
thousand. Here a few servers on loopback serve every box instead, each box's meters under
unit ids of their own (247 a server: the Modbus range), as a TCP gateway serves the meters
on its RS485 lines. Each box still reads through its own client and the real driver; each
unit still answers from that box's emulator (its plant, its energy file, its bench faults),
so a fault one box shows reaches only its own units.

A box's board names its meters' unit ids as on its own line (1 and 2 on bench-sim); its seat
says which unit ids of which server they have here. A read for a unit the box's board does
not have goes to the one unit id a server never gives out, so it is answered as a gateway
answers for a unit that is not there.

The units of a server are fixed before it serves (the server builds each unit's register
image once), so each server is made with all its places, empty until a box takes one: a
place nobody holds answers "gateway target failed to respond". Servers start on the first
read (in the loop the boxes read from) and stop when the line closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from pievse.hal.modbus import GATEWAY_TARGET_FAILED, RegisterServer

UNITS_A_SERVER = 247
"""Unit ids 1..247: all a Modbus line addresses."""
NOBODY = UNITS_A_SERVER
"""Never given out: where a box's read for a unit it does not have goes."""


class ServedUnit(Protocol):
    """A meter a line serves (a MeterEmulator): its registers, and its answers."""

    @property
    def device_id(self) -> int:
        """The unit id its own board reads it by."""
        ...

    def ranges(self) -> list[tuple[int, int, int]]:
        """The registers that exist ((function code, first, count)); the same for every
        meter of one register map."""
        ...

    async def read(self, function_code: int, address: int, count: int) -> list[int] | int:
        """Register values, or a Modbus exception code."""
        ...

    def filter_reply(self, frame: bytes) -> bytes:
        """The encoded reply as it leaves the meter (b"" when it stays silent)."""
        ...


class _Place:
    """One unit id on a shared server, and the meter seated there, if any."""

    def __init__(self) -> None:
        self.unit: ServedUnit | None = None

    async def read(self, function_code: int, address: int, count: int) -> list[int] | int:
        unit = self.unit
        if unit is None:
            return GATEWAY_TARGET_FAILED
        return await unit.read(function_code, address, count)

    def filter_reply(self, frame: bytes) -> bytes:
        unit = self.unit
        return frame if unit is None else unit.filter_reply(frame)


class _LineServer:
    def __init__(self, ranges: list[tuple[int, int, int]], host: str) -> None:
        self.ranges = ranges
        self._host = host
        self.places = {unit_id: _Place() for unit_id in range(1, NOBODY)}
        first, *others = self.places.items()
        self._server = RegisterServer(first[0], ranges, first[1].read, first[1].filter_reply)
        for unit_id, place in others:
            self._server.add(unit_id, ranges, place.read, place.filter_reply)
        self._started: asyncio.Future[tuple[str, int]] | None = None

    def free(self) -> list[int]:
        return [unit_id for unit_id, place in self.places.items() if place.unit is None]

    async def address(self) -> tuple[str, int]:
        """Where it listens; the first caller starts it, the others wait for that."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._server.serve_tcp(self._host, 0))
        return await asyncio.shield(self._started)

    async def stop(self) -> None:
        if self._started is not None:
            await asyncio.gather(self._started, return_exceptions=True)
            self._started = None
        await self._server.stop()


class LineSeat:
    """A box's place on the line: one server, and its meters' unit ids there."""

    def __init__(self, server: _LineServer, units: dict[int, int]) -> None:
        self._server = server
        self.units = units
        """The box's own unit id -> the unit id on the line."""

    def unit_on_line(self, device_id: int) -> int:
        return self.units.get(device_id, NOBODY)

    async def address(self) -> tuple[str, int]:
        return await self._server.address()

    def leave(self) -> None:
        """The box's places answer as empty again, free for another box."""
        for unit_id in self.units.values():
            self._server.places[unit_id].unit = None
        self.units = {}


class MeterLine:
    """The servers one process's bench boxes share; made by the fleet, handed to each box's
    board, closed by the fleet after its boxes stopped."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._servers: list[_LineServer] = []

    @property
    def servers(self) -> int:
        return len(self._servers)

    def seat(self, units: Sequence[ServedUnit]) -> LineSeat:
        """Places for a box's meters, all on one server (its own client reaches them all);
        raises ValueError for two meters under one unit id or for more than a server has."""
        wanted = [unit.device_id for unit in units]
        if len(set(wanted)) != len(wanted) or not 0 < len(wanted) < UNITS_A_SERVER:
            raise ValueError(f"a box's meters need distinct unit ids, got {wanted}")
        ranges = units[0].ranges()
        if any(unit.ranges() != ranges for unit in units):
            raise ValueError("a box's meters on a shared line need one register map")
        server = self._server_with_room(ranges, len(units))
        places = dict(zip(wanted, server.free(), strict=False))
        for unit in units:
            server.places[places[unit.device_id]].unit = unit
        return LineSeat(server, places)

    def _server_with_room(self, ranges: list[tuple[int, int, int]], count: int) -> _LineServer:
        for server in self._servers:
            if server.ranges == ranges and len(server.free()) >= count:
                return server
        server = _LineServer(ranges, self._host)
        self._servers.append(server)
        return server

    async def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            await server.stop()
