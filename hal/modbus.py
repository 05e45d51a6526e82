"""The one module that imports pymodbus: register buses (clients) and a register server.

pymodbus moves its API between minor releases (the server datastore is being replaced by
SimData/SimDevice for 4.0), so every call into it sits here, behind the RegisterBus port and
a small server class. The client never retries by itself: the meter decides what a failed
transaction means, and each failure is classified (timeout, crc, exception, connection) so
it can be counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerRTU, FramerType

from pievse.hal.ports import RegisterBusError

PARITIES = ("N", "E", "O")
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
EXCEPTION_NAMES = {code.value: code.name.lower().replace("_", " ") for code in ExcCodes}

# pymodbus logs every missed reply at ERROR; the meter logs each failed poll once itself.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def _keep_cancellation(exc: BaseException | None = None) -> None:
    """pymodbus waits with `asyncio.wait_for`, which on Python 3.11 can return a reply that
    arrived together with a cancellation, or turn the cancellation into one of its own
    exceptions; either way the polling task would never end. A cancelled task stays
    cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc


class _ClientBus:
    """Shared read path of the TCP and RTU buses."""

    def __init__(self, describe: str) -> None:
        self._describe = describe
        self._client: Any = None
        self._lock = asyncio.Lock()

    def _make_client(self) -> Any:
        raise NotImplementedError

    def _classify_timeout(self) -> str:
        return "timeout"

    async def read_registers(
        self, function_code: int, address: int, count: int, device_id: int
    ) -> list[int]:
        async with self._lock:
            if self._client is None:
                self._client = self._make_client()
            client = self._client
            if not client.connected:
                try:
                    connected = await client.connect()
                except (OSError, ModbusException) as exc:
                    _keep_cancellation(exc)
                    raise RegisterBusError("connection", f"{self._describe}: {exc}") from exc
                if not connected:
                    raise RegisterBusError("connection", f"{self._describe}: cannot connect")
            read = (
                client.read_input_registers if function_code == 4 else client.read_holding_registers
            )
            try:
                reply = await read(address, count=count, device_id=device_id)
            except ModbusException as exc:
                _keep_cancellation(exc)
                raise self._bus_error(exc, device_id) from exc
            _keep_cancellation()
            if reply.isError():
                code = getattr(reply, "exception_code", 0)
                name = EXCEPTION_NAMES.get(code, "unknown")
                raise RegisterBusError(
                    "exception", f"{self._describe}: exception reply {code} ({name})"
                )
            return list(reply.registers)

    def _bus_error(self, exc: ModbusException, device_id: int) -> RegisterBusError:
        if isinstance(exc, ConnectionException):
            return RegisterBusError("connection", f"{self._describe}: {exc}")
        if isinstance(exc, ModbusIOException):
            kind = self._classify_timeout()
            return RegisterBusError(
                kind, f"{self._describe}: no valid reply from device {device_id} ({kind})"
            )
        return RegisterBusError("timeout", f"{self._describe}: {exc}")

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class ModbusTcpBus(_ClientBus):
    def __init__(self, host: str, port: int = 502, timeout_s: float = 1.0) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1..65535, got {port}")
        if not 0 < timeout_s <= 60:
            raise ValueError(f"timeout_s must be in (0, 60], got {timeout_s}")
        super().__init__(f"modbus tcp {host}:{port}")
        self._host, self._port, self._timeout_s = host, port, timeout_s

    def _make_client(self) -> Any:
        return AsyncModbusTcpClient(
            self._host, port=self._port, timeout=self._timeout_s, retries=0, reconnect_delay=0
        )


@dataclass(frozen=True)
class _LineSettings:
    baudrate: int
    parity: str
    stop_bits: int
    timeout_s: float


class ModbusRtuBus(_ClientBus):
    """Modbus RTU over a serial line (an RS485 adapter, or a pseudo-terminal on the bench).

    pymodbus drops a reply whose CRC does not match and then times out; the bytes that did
    arrive are kept here so such a failure is counted as a CRC error, not a timeout. (Its
    receive hook sees the whole unconsumed buffer each time, which starts empty at each
    request.)
    """

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        parity: str = "N",
        stop_bits: int = 1,
        timeout_s: float = 0.5,
    ) -> None:
        if baudrate not in BAUD_RATES:
            raise ValueError(f"baudrate must be one of {BAUD_RATES}, got {baudrate}")
        if parity not in PARITIES:
            raise ValueError(f"parity must be one of {', '.join(PARITIES)}, got {parity!r}")
        if stop_bits not in (1, 2):
            raise ValueError(f"stop_bits must be 1 or 2, got {stop_bits}")
        if not 0 < timeout_s <= 60:
            raise ValueError(f"timeout_s must be in (0, 60], got {timeout_s}")
        super().__init__(f"modbus rtu {device}")
        self._device = device
        self._settings = _LineSettings(baudrate, parity, stop_bits, timeout_s)
        self._received = b""
        self.bytes_sent = 0
        self.bytes_received = 0
        """Bytes on the line since start, both directions (for diagnostics and benchmarks)."""

    def _make_client(self) -> Any:
        return AsyncModbusSerialClient(
            self._device,
            framer=FramerType.RTU,
            baudrate=self._settings.baudrate,
            bytesize=8,
            parity=self._settings.parity,
            stopbits=self._settings.stop_bits,
            timeout=self._settings.timeout_s,
            retries=0,
            reconnect_delay=0,
            trace_packet=self._trace,
        )

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._received = b""
            self.bytes_sent += len(data)
        else:
            self.bytes_received += len(data) - len(self._received)
            self._received = bytes(data)
        return data

    def _classify_timeout(self) -> str:
        frame = self._received
        if len(frame) >= 4 and not FramerRTU.check_CRC(
            frame[:-2], int.from_bytes(frame[-2:], "big")
        ):
            return "crc"
        return "timeout"


ReadHandler = Callable[[int, int, int], Awaitable[list[int] | int]]
"""(function_code, address, count) -> register values, or a Modbus exception code."""

ReplyFilter = Callable[[bytes], bytes]
"""Rewrites an encoded reply before it goes on the wire (b"" sends nothing)."""


GATEWAY_TARGET_FAILED = 0x0B
"""Modbus exception 0x0B, Gateway Target Device Failed to Respond."""


class RegisterServer:
    """A Modbus server for devices whose register values are computed on each read: one
    unit, or several sharing the line (an RS485 bus with a charger's and a grid meter, or
    one TCP gateway in front of them).

    `ranges` says which registers exist ((function code, first, count)); a read outside
    them is answered with illegal address, as a real meter does. A request for a unit not
    served gets no answer on a serial line and, over TCP, exception 0x0B, as from a
    gateway whose target does not answer. The server half of
    pymodbus is imported here, not at module level: a wallbox that only reads a meter
    does not carry it (about 0.5 MB).
    """

    def __init__(
        self,
        device_id: int,
        ranges: list[tuple[int, int, int]],
        on_read: ReadHandler,
        reply_filter: ReplyFilter | None = None,
    ) -> None:
        self._devices: dict[int, tuple[Any, ReplyFilter | None]] = {}
        self._server: Any = None
        self.add(device_id, ranges, on_read, reply_filter)

    def add(
        self,
        device_id: int,
        ranges: list[tuple[int, int, int]],
        on_read: ReadHandler,
        reply_filter: ReplyFilter | None = None,
    ) -> None:
        """Another unit on the same line; before serving starts."""
        from pymodbus.simulator import DataType, SimData, SimDevice

        if device_id in self._devices:
            raise ValueError(f"unit {device_id} is already served on this line")
        if self._server is not None:
            raise RuntimeError("units are added before the server starts")
        blocks: dict[int, list[SimData]] = {3: [], 4: []}
        for function_code, first, count in ranges:
            blocks[function_code].append(
                SimData(first, count=count, values=0, datatype=DataType.REGISTERS)
            )
        for block in blocks.values():
            if not block:
                block.append(SimData(0, datatype=DataType.INVALID))
        bits = [SimData(0, values=False, datatype=DataType.BITS)]

        async def action(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            if set_values is not None:
                return ExcCodes.ILLEGAL_FUNCTION
            values = await on_read(function_code, address, count)
            if isinstance(values, int):
                return ExcCodes(values)
            offset = address - start_address
            registers[offset : offset + count] = values
            return None

        device = SimDevice(
            device_id, simdata=(bits, list(bits), blocks[3], blocks[4]), action=action
        )
        self._devices[device_id] = (device, reply_filter)

    def _filtered(self, unit: int, data: bytes) -> bytes:
        served = self._devices.get(unit)
        if served is None or served[1] is None:
            return data
        return served[1](data)

    def _trace(self, sending: bool, data: bytes) -> bytes:
        # MBAP header: transaction (2), protocol (2), length (2), unit id; then the PDU.
        if not sending or len(data) < 8:
            return data
        unit = data[6]
        if unit not in self._devices:
            # As a TCP gateway answers for a unit that does not answer on its line.
            pdu = bytes([unit, data[7] | 0x80, GATEWAY_TARGET_FAILED])
            return data[:4] + len(pdu).to_bytes(2, "big") + pdu
        return self._filtered(unit, data)

    def _trace_serial(self, sending: bool, data: bytes) -> bytes:
        # On a shared RS485 line a request for another unit id is not ours to answer at all.
        if not sending or not data:
            return data
        if data[0] not in self._devices:
            return b""
        return self._filtered(data[0], data)

    async def serve_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Listens and returns the bound address (port 0 picks a free one)."""
        from pymodbus.server import ModbusTcpServer

        devices = [device for device, _ in self._devices.values()]
        server = ModbusTcpServer(devices, address=(host, port), trace_packet=self._trace)
        self._server = server
        await server.serve_forever(background=True)
        transport = server.transport
        sockets = getattr(transport, "sockets", None) or ()
        bound = sockets[0].getsockname() if sockets else (host, port)
        return str(bound[0]), int(bound[1])

    async def serve_rtu(
        self, device: str, baudrate: int = 9600, parity: str = "N", stop_bits: int = 1
    ) -> None:
        from pymodbus.server import ModbusSerialServer

        server = ModbusSerialServer(
            [device for device, _ in self._devices.values()],
            framer=FramerType.RTU,
            port=device,
            baudrate=baudrate,
            parity=parity,
            stopbits=stop_bits,
            trace_packet=self._trace_serial,
        )
        self._server = server
        await server.serve_forever(background=True)

    async def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.shutdown()
            self._server = None
