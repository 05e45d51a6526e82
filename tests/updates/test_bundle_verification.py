"""Verifying and installing a bundle in bounded memory, off the event loop, and only while
its job lives: the benchmark's figures for a large generated bundle, and a real bundle's
install stopped by its job's cancellation."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pievse.firmware.updates.release_bundle import Canceled
from pievse.firmware.updates.releases import Releases
from tests.rigs.paths import ROOT
from tests.rigs.release_rig import UPDATE, Bundles

BUNDLE_MB = 200


def test_a_large_bundle_is_verified_in_chunks_while_the_loop_ticks() -> None:
    """In a child process, so its peak RSS is the verification's alone (the bundle read
    whole would add 200 MB)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "bench" / "bench_bundle_verify.py"),
         "--mb", str(BUNDLE_MB), "--json"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    figures = json.loads(done.stdout)
    assert figures["peak_rss_growth_mb"] < BUNDLE_MB / 8, figures
    assert figures["ticks_during"] > 0, f"the loop stood still: {figures}"


def test_a_canceled_install_stops_and_leaves_no_release(tmp_path: Path, bundles: Bundles) -> None:
    releases = Releases(tmp_path / "opt" / "pievse")
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    started = time.monotonic()
    with bundles.path(UPDATE).open("rb") as bundle, pytest.raises(Canceled):
        releases.install(bundle, stop)
    timer.cancel()
    assert time.monotonic() - started < 30, "stopped soon after the job was canceled"
    assert not releases.directory(UPDATE).exists()
    assert releases.current() is None
