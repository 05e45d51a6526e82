"""The loads `bench_fault_latency.py --reactions` runs beside a charging box, one at a time:
what a compromised CSMS, a page left open many times, a firmware update and a busy host do to
the loop the OCPP link, the API and the page share.

- `flood`: a CSMS (own process) sends schema-valid SetChargingProfile frames of 10 000
  periods (~330 KB) one after the other, each answered before the next;
- `events`: a client (own process) holds 1 000 `/api/events` streams open;
- `signature`: the update path's signature check of a 250 MB bundle, back to back, in the
  box's own process: a worker thread of its outside loop hashes the open file, as
  `FirmwareUpdates._check_signature` runs it;
- `cpu`: one busy loop per core at nice 0.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
LOADS = ("none", "flood", "events", "signature", "cpu")
FLOOD_PERIODS = 10_000
EVENT_STREAMS = 1_000
BUNDLE_BYTES = 250 * 1024 * 1024
BUNDLE_FILE = "bundle.tar"

FLOOD = """
import asyncio, json, signal, sys
sys.path.insert(0, sys.argv[1])
from ocpp.v16 import call
from tests.rigs.csms import TestCsms

async def main() -> None:
    csms = TestCsms()
    await csms.start_on(int(sys.argv[2]))
    print(csms.port, flush=True)
    await csms.connected(30)
    periods = [{"startPeriod": 60 * k, "limit": 16.0 + k % 8} for k in range(int(sys.argv[3]))]
    profile = {
        "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": periods},
    }
    print(len(json.dumps(profile, separators=(",", ":"))), flush=True)
    sent = 0
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    failed = 0
    while not stop.is_set():
        try:
            await csms.call(call.SetChargingProfile(1, profile))
            sent += 1
        except Exception as exc:  # the box reconnects; the flood goes on
            failed += 1
            print(repr(exc), file=sys.stderr, flush=True)
            await asyncio.sleep(0.1)
    print(f"{sent} answered, {failed} failed", flush=True)

asyncio.run(main())
"""

EVENTS = """
import asyncio, resource, signal, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[3]) + 100,) * 2)

async def stream(host: str, port: int, opened: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /api/events HTTP/1.1\\r\\nHost: box\\r\\n\\r\\n")
    await writer.drain()
    opened[0] += 1
    while await reader.read(65536):
        pass

async def main() -> None:
    opened = [0]
    tasks = []
    for _ in range(int(sys.argv[3])):
        tasks.append(asyncio.create_task(stream(sys.argv[1], int(sys.argv[2]), opened)))
        await asyncio.sleep(0.001)
    while opened[0] < len(tasks):
        await asyncio.sleep(0.05)
    print(opened[0], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()

asyncio.run(main())
"""

CPU = "import time\nwhile True: pass\n"


def normal_priority() -> None:
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def raise_file_limit(streams: int) -> None:
    """The box holds one socket per stream."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = streams + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def start_flood_csms() -> tuple[subprocess.Popen[str], str]:
    """The flooding CSMS in its own process; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", FLOOD, str(ROOT), "0", str(FLOOD_PERIODS)],
        stdout=subprocess.PIPE,
        stderr=None if os.environ.get("FLOOD_LOG") else subprocess.DEVNULL,
        text=True,
        preexec_fn=normal_priority,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"ws://127.0.0.1:{port}/ocpp"


def flood_frame_bytes(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    return int(process.stdout.readline())


def start_event_streams(host: str, port: int) -> tuple[subprocess.Popen[str], int]:
    """The client process and how many streams it opened."""
    process = subprocess.Popen(
        [sys.executable, "-c", EVENTS, host, str(port), str(EVENT_STREAMS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=normal_priority,
    )
    assert process.stdout is not None
    opened = process.stdout.readline().strip()  # once every stream is open
    return process, int(opened or 0)


def start_cpu_burners() -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", CPU],
            text=True,
            stderr=subprocess.DEVNULL,
            preexec_fn=normal_priority,
        )
        for _ in range(os.cpu_count() or 1)
    ]


def stop_processes(processes: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        outputs.append((out or "").strip())
    return outputs


def signed_bundle(directory: Path) -> Callable[[threading.Event], None]:
    """A 250 MB file, an EC key's certificate and its signature over the file's digest;
    returns one check of it the way the update path makes it (`stop` aborts it)."""
    from pievse.firmware.updates.bundle_signature import sha256_of, verify_signature

    bundle = directory / BUNDLE_FILE
    chunk = os.urandom(1024 * 1024)
    with bundle.open("wb") as out:
        for _ in range(BUNDLE_BYTES // len(chunk)):
            out.write(chunk)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench firmware signer")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with bundle.open("rb") as opened:
        digest = sha256_of(opened, threading.Event())
    signature = base64.b64encode(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))).decode()

    def check(stop: threading.Event) -> None:
        with bundle.open("rb") as opened:
            verify_signature(opened, signature, certificate, stop)

    return check


async def check_forever(
    check: Callable[[threading.Event], None], counter: list[int], stop: threading.Event
) -> None:
    """On the box's outside loop: one check after the other, each in a worker thread as the
    update runs it; a check that raises ends the load (and the bench reports it)."""
    while not stop.is_set():
        await asyncio.to_thread(check, stop)
        counter[0] += 1
