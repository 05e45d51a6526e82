"""The status page and MQTT, measured on a bench-sim box in this process:

- page weight (the HTML, script and stylesheet as served);
- time to first render in headless Chromium on loopback (navigation start to the status
  shown);
- push latency from a status change (a bench plug-in) to the page showing it, over 20 changes;
- CPU and RSS the box spends idle for 20 s with no page, with one open page, and with MQTT
  connected to a local mosquitto.

Run: python tests/bench/bench_page.py   (needs chromium, chromium-driver and mosquitto)
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import FAST_CONFIG, running_wallbox  # noqa: E402
from tests.page.test_status_page import CHROMEDRIVER, CHROMIUM  # noqa: E402
from tests.rigs.mosquitto import Broker  # noqa: E402

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


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def idle_cost() -> tuple[float, float]:
    """CPU share of one core and RSS after IDLE_S of this process doing what it does."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    await asyncio.sleep(IDLE_S)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu / (time.monotonic() - start), rss_mb()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "broker").mkdir()
        broker = Broker(data / "broker")
        broker.start()
        try:
            await measure(data, broker)
        finally:
            broker.stop()


async def measure(data: Path, broker: Broker) -> None:
    async with running_wallbox(data / "box", FAST_CONFIG) as box:
        async with aiohttp.ClientSession() as http:
            weight = 0
            for path in ("/", "/static/status.js", "/static/status.css"):
                async with http.get(f"{box.base}{path}") as response:
                    weight += len(await response.read())
        print(f"page weight: {weight / 1024:.1f} KiB (HTML + script + stylesheet, uncompressed)")
        cpu, rss = await idle_cost()
        print(f"idle, no page:      {cpu:6.2%} of a core, RSS {rss:6.1f} MB")
        driver = await asyncio.to_thread(browser)
        try:
            started = time.monotonic()
            await asyncio.to_thread(driver.get, f"{box.base}/")
            while "Available" not in await asyncio.to_thread(
                lambda: driver.find_element("id", "status").text
            ):
                await asyncio.sleep(0.005)
            render_ms = 1000 * (time.monotonic() - started)
            print(f"first render (navigation to status shown): {render_ms:.0f} ms")
            await asyncio.to_thread(driver.execute_script, OBSERVE)
            latencies = []
            for i in range(20):
                state, shown = ("B", "Preparing") if i % 2 == 0 else ("A", "Available")
                await asyncio.sleep(0.3)
                sent = time.time() * 1000
                await box.bench("ev", state=state)
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
            cpu, rss = await idle_cost()
            print(f"idle, one open page: {cpu:6.2%} of a core, RSS {rss:6.1f} MB")
        finally:
            await asyncio.to_thread(driver.quit)
    config = FAST_CONFIG + f'\n[mqtt]\nurl = "{broker.url}"\n'
    async with running_wallbox(data / "mqtt", config) as box:
        await box.wait_for(lambda s: s["mqtt"]["connected"], timeout=10)
        cpu, rss = await idle_cost()
        print(f"idle, MQTT connected: {cpu:6.2%} of a core, RSS {rss:6.1f} MB (a fresh box)")
    print("(the box runs FAST_CONFIG: 20 ms ticks, 0.1 s meter polls)")


if __name__ == "__main__":
    asyncio.run(main())
