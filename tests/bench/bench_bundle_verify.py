"""What verifying a large bundle's signature costs the box: peak RSS growth and how long the
event loop went without a tick while the worker hashed it.

Run: python tests/bench/bench_bundle_verify.py [--mb 256] [--json]

The bundle is a sparse file of that size (its bytes are zeros, read like any other file),
signed here with a fresh P-256 key; `bundle_signature.verify_signature` then runs in a
worker thread, as the update does, while a task on the loop ticks every 10 ms. Printed:
bundle size, verification time, peak RSS growth (VmHWM), ticks during verification and the
longest gap between two. Target: RSS growth far below the bundle size (chunks, not the
whole file), and a loop that keeps ticking.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402

from pievse.firmware.updates.bundle_signature import verify_signature  # noqa: E402
from tests.rigs.pki import Pki  # noqa: E402

TICK_S = 0.01


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def sparse_bundle(directory: Path, size_mb: int) -> Path:
    path = directory / "large.bundle"
    with path.open("wb") as f:
        f.truncate(size_mb * 1_000_000)
    return path


def sign(path: Path, key: ec.EllipticCurvePrivateKey) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    signature = key.sign(digest.digest(), ec.ECDSA(Prehashed(hashes.SHA256())))
    return base64.b64encode(signature).decode()


async def verify_while_ticking(
    path: Path, signature: str, pki: Pki, key: ec.EllipticCurvePrivateKey
) -> dict[str, float]:
    certificate = pki.issue("firmware", key.public_key(), code_signing=True)
    ticks: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(TICK_S)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.05)
    before, started = peak_rss_mb(), time.perf_counter()
    count = len(ticks)
    with path.open("rb") as bundle:
        await asyncio.to_thread(verify_signature, bundle, signature, certificate, threading.Event())
    took = time.perf_counter() - started
    during = ticks[count:]
    done.set()
    await ticker
    gaps = [b - a for a, b in itertools.pairwise(during)]
    return {
        "verify_s": took,
        "peak_rss_growth_mb": peak_rss_mb() - before,
        "ticks_during": len(during),
        "longest_gap_ms": 1000 * max(gaps, default=took),
    }


def measure(size_mb: int) -> dict[str, float]:
    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory() as scratch:
        path = sparse_bundle(Path(scratch), size_mb)
        signature = sign(path, key)
        figures = asyncio.run(verify_while_ticking(path, signature, Pki("Bench Maker"), key))
    return {"bundle_mb": float(size_mb), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--json", action="store_true", help="one JSON line (for tests)")
    args = parser.parse_args()
    figures = measure(args.mb)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"bundle                 {figures['bundle_mb']:.0f} MB (sparse)")
    print(f"verification           {figures['verify_s']:.2f} s in a worker thread")
    print(f"peak RSS growth        {figures['peak_rss_growth_mb']:.1f} MB")
    print(f"loop ticks meanwhile   {figures['ticks_during']:.0f} (every {TICK_S * 1000:.0f} ms)")
    print(f"longest loop gap       {figures['longest_gap_ms']:.0f} ms")


if __name__ == "__main__":
    main()
