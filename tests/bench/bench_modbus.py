"""Modbus figures for a full SDM630 poll through the real driver.

Run: python tests/bench/bench_modbus.py [--polls 30]

The meter is `pievse meter-emulator` in a child process, so this process's CPU time is the
driver's alone. RTU runs over the emulator's paced pty line (`--pty --baud B`), which moves
bytes at the rate the baud rate allows, half duplex, with the 3.5-character silence between
frames; TCP runs on loopback. Printed per poll: Modbus transactions, bytes on the wire,
polls/s measured against the wire limit for the same registers, and driver CPU time.
Target: >= 90 % of the wire limit at 9600 and 19200 baud.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.hal.devices.meter import ModbusMeter  # noqa: E402
from pievse.hal.modbus import ModbusRtuBus, ModbusTcpBus  # noqa: E402
from pievse.hal.register_map import load_register_map, plan_reads  # noqa: E402
from pievse.hal.sim.serial_wire import SILENT_CHARS, char_bits  # noqa: E402

REQUEST_BYTES = 8  # unit id, function, address, count, CRC
REPLY_HEADER_BYTES = 5  # unit id, function, byte count, CRC


async def _emulator(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pievse.firmware.cli.commands", "meter-emulator", "--map", "sdm630",
        "--current", "16", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
    return process, line.split()[2].rstrip(":")


async def _measure(meter: ModbusMeter, polls: int) -> tuple[float, float]:
    """(polls per second, driver CPU ms per poll) over `polls` back-to-back polls."""
    for _ in range(3):
        await meter.poll()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(polls):
        await meter.poll()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return polls / wall, 1000 * cpu / polls


def wire_limit(baud: int, counts: list[int]) -> tuple[int, float]:
    """(bytes per poll, polls/s) if the line never idles beyond the silences RTU requires."""
    wire_bytes = sum(REQUEST_BYTES + REPLY_HEADER_BYTES + 2 * n for n in counts)
    chars = wire_bytes + 2 * SILENT_CHARS * len(counts)
    return wire_bytes, baud / (char_bits() * chars)


async def main(polls: int) -> None:
    sdm630 = load_register_map("sdm630")
    counts = [block.count for block in plan_reads(sdm630)]
    print(f"SDM630 poll: {len(counts)} Modbus transaction(s), registers {counts}")
    print("| line | bytes/poll | polls/s | wire limit | of limit | driver CPU/poll |")
    print("|---|---|---|---|---|---|")
    for baud in (9600, 19200):
        process, device = await _emulator("--pty", "--baud", str(baud))
        try:
            bus = ModbusRtuBus(device, baud, timeout_s=1.0)
            meter = ModbusMeter(bus, sdm630, 1)
            rate, cpu_ms = await _measure(meter, polls)
            measured = (bus.bytes_sent + bus.bytes_received) / (polls + 3)
            wire_bytes, limit = wire_limit(baud, counts)
            assert measured == wire_bytes, (measured, wire_bytes)
            print(
                f"| RTU {baud} 8N1 | {wire_bytes} | {rate:.2f} | {limit:.2f} "
                f"| {100 * rate / limit:.1f} % | {cpu_ms:.2f} ms |"
            )
            await meter.close()
        finally:
            process.terminate()
            await process.wait()
    process, address = await _emulator("--tcp", "127.0.0.1:0")
    try:
        host, port = address.rsplit(":", 1)
        meter = ModbusMeter(ModbusTcpBus(host, int(port)), sdm630, 1)
        rate, cpu_ms = await _measure(meter, polls * 10)
        tcp_bytes = sum(12 + 9 + 2 * n for n in counts)  # MBAP headers instead of CRCs
        print(f"| TCP loopback | {tcp_bytes} | {rate:.0f} | - | - | {cpu_ms:.2f} ms |")
        await meter.close()
    finally:
        process.terminate()
        await process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=30)
    asyncio.run(main(parser.parse_args().polls))
