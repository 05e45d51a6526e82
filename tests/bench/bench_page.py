"""The status page and MQTT, measured on a `pievse run` process (bench-sim, its shipped
timing, registered with a local CSMS):

- page weight (the HTML, script and stylesheet as served);
- time to first render in headless Chromium on loopback (navigation start to the status
  shown, by the browser's clock and as the driver sees it);
- push latency from a status change (a bench plug-in) to the page showing it, over 20 changes;
- CPU and RSS of the box's process over 20 s idle with no page, with one open page, and
  (restarted) with MQTT connected to a local mosquitto.

Run: python tests/bench/bench_page.py   (needs chromium, chromium-driver and mosquitto)
"""

from __future__ import annotations

import asyncio
import gzip
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.firmware.demo.central_system import DemoCentralSystem  # noqa: E402
from tests.rigs.mosquitto import Broker, running_broker  # noqa: E402
from tests.rigs.page_browser import CHROMEDRIVER, CHROMIUM  # noqa: E402
from tests.rigs.proc_stats import cpu_s, rss_mb  # noqa: E402
from tests.rigs.process import free_port, run_with_csms  # noqa: E402

IDLE_S = 20.0
OBSERVE = """
const status = document.getElementById('status');
window.__seen = [];
new MutationObserver(() => window.__seen.push([Date.now(), status.textContent]))
  .observe(status, {childList: true, characterData: true, subtree: true});
"""


def browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class BoxProcess:
    """The box as systemd runs it; its cost read from /proc."""

    def __init__(self, process: subprocess.Popen[bytes], base: str) -> None:
        self.process = process
        self.base = base
        self._proc = Path(f"/proc/{process.pid}")

    def cpu_s(self) -> float:
        return cpu_s(self.process.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    async def idle_cost(self) -> tuple[float, float]:
        """Its CPU share of one core over IDLE_S, and its RSS at the end."""
        before, start = self.cpu_s(), time.monotonic()
        await asyncio.sleep(IDLE_S)
        return (self.cpu_s() - before) / (time.monotonic() - start), self.rss_mb()


@asynccontextmanager
async def box_process(
    data: Path, csms_url: str, extra_config: str = ""
) -> AsyncIterator[BoxProcess]:
    port = free_port()
    command = run_with_csms(csms_url, data, port)
    with (data / "security.toml").open("a") as config:
        config.write(extra_config)
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    box = BoxProcess(process, f"http://127.0.0.1:{port}")
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 20
            while True:
                try:
                    async with http.get(f"{box.base}/api/status") as response:
                        status = await response.json()
                    if status["ocpp"]["registration"] == "accepted":
                        break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the box did not come up registered")
                await asyncio.sleep(0.1)
        yield box
    finally:
        process.terminate()
        process.wait(timeout=10)


async def page_weight(http: aiohttp.ClientSession, base: str) -> tuple[int, int]:
    """The page and every script and stylesheet it names, as served, and the same each
    gzipped (what a compressing proxy in front would send)."""
    async with http.get(f"{base}/") as response:
        files = [await response.read()]
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', files[0].decode()):
        async with http.get(f"{base}{path}") as response:
            response.raise_for_status()
            files.append(await response.read())
    return sum(map(len, files)), sum(len(gzip.compress(f)) for f in files)


async def bench_ev(http: aiohttp.ClientSession, box: BoxProcess, state: str) -> None:
    async with http.post(f"{box.base}/api/bench/ev", json={"state": state}) as response:
        response.raise_for_status()


async def main() -> None:
    csms = DemoCentralSystem(lambda _frame, _sent: None)
    await csms.start()
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
        try:
            await measure(Path(tmp), csms.url, broker)
        finally:
            await csms.stop()


async def measure(data: Path, csms_url: str, broker: Broker) -> None:
    async with box_process(data / "box", csms_url) as box, aiohttp.ClientSession() as http:
        weight, zipped = await page_weight(http, box.base)
        print(
            f"page weight: {weight} bytes, {weight / 1024:.1f} KiB (HTML + scripts + stylesheet,"
            f" uncompressed; {zipped / 1024:.1f} KiB gzipped)"
        )
        cpu, rss = await box.idle_cost()
        print(f"box idle, no page:       {cpu:6.2%} of a core, RSS {rss:6.1f} MB")
        driver = await asyncio.to_thread(browser)
        try:
            started = time.monotonic()
            await asyncio.to_thread(driver.get, f"{box.base}/")
            while "Available" not in await asyncio.to_thread(
                lambda: driver.find_element("id", "status").get_attribute("textContent")
            ):
                await asyncio.sleep(0.005)
            render_ms = 1000 * (time.monotonic() - started)
            in_page = await asyncio.to_thread(
                driver.execute_script, "return window.pievse.page.firstShownMs"
            )
            print(
                f"first render: status shown {in_page:.0f} ms after navigation start (the"
                f" browser's clock; a browser just started); {render_ms:.0f} ms as the test"
                " driver sees it"
            )
            again = []
            for _ in range(5):
                await asyncio.to_thread(driver.refresh)
                await asyncio.sleep(1.0)
                again.append(
                    await asyncio.to_thread(
                        driver.execute_script, "return window.pievse.page.firstShownMs"
                    )
                )
            print(f"render on a reload (files cached): median {statistics.median(again):.0f} ms")
            cpu, rss = await box.idle_cost()
            print(f"box idle, one open page: {cpu:6.2%} of a core, RSS {rss:6.1f} MB")
            await asyncio.to_thread(driver.execute_script, OBSERVE)
            latencies = []
            for i in range(20):
                state, shown = ("B", "Preparing") if i % 2 == 0 else ("A", "Available")
                await asyncio.sleep(0.3)
                sent = time.time() * 1000
                await bench_ev(http, box, state)
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    seen = await asyncio.to_thread(driver.execute_script, "return window.__seen")
                    hits = [t for t, text in seen if text == shown and t >= sent]
                    if hits:
                        latencies.append(hits[0] - sent)
                        break
                    await asyncio.sleep(0.01)
            latencies.sort()
            print(
                f"push latency, status change to page ({len(latencies)} changes): "
                f"p50 {statistics.median(latencies):.0f} ms, max {latencies[-1]:.0f} ms"
            )
        finally:
            await asyncio.to_thread(driver.quit)
    mqtt = f'\n[mqtt]\nurl = "{broker.url}"\n'
    async with box_process(data / "mqtt", csms_url, mqtt) as box:
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"{box.base}/api/status") as response:
                    if (await response.json())["mqtt"]["connected"]:
                        break
                await asyncio.sleep(0.1)
        cpu, rss = await box.idle_cost()
        print(f"box idle, MQTT connected: {cpu:6.2%} of a core, RSS {rss:6.1f} MB (a fresh box)")


if __name__ == "__main__":
    asyncio.run(main())
