"""The status page in a real headless Chromium (Debian's chromium and chromium-driver, driven
with Selenium): it loads with no console errors, follows the bench EV through the pushed
status in words, its plot gains points while charging, a fault shows with its code, and
beyond loopback the token is demanded. Screenshots at desktop and phone width are saved
under test-artifacts/ (or $PIEVSE_ARTIFACTS)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from pievse.firmware.api.access import ApiAccess
from pievse.firmware.api.local_api import build_app
from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms
from tests.rigs.local_server import serving
from tests.rigs.mosquitto import Broker
from tests.rigs.page_browser import (
    ARTIFACTS,
    click,
    fresh,
    module_browser,
    needs_chromium,
    overflow,
    run,
    severe_console,
    shows,
    text,
    text_of,
    until,
)
from tests.rigs.shared_site import site_of

pytestmark = needs_chromium
TOKEN = "page-token-of-24-chars-x"


@pytest.fixture(scope="module")
def chromium_once() -> Iterator[Any]:
    yield from module_browser()


@pytest.fixture
def browser(chromium_once: Any) -> Any:
    return fresh(chromium_once)


async def test_the_page_follows_the_bench_session_and_its_plot_grows(
    bench: BenchClient, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await run(browser.get, f"{bench.base}/")
    await until(browser, shows(browser, "status", "Available"), "Available shown")
    assert await text_of(browser, "state") == "Ready"
    assert await text_of(browser, "sentence") == "Waiting for the car"
    await until(browser, shows(browser, "link", "live"), "the event stream")
    await click(browser, "plug-in")
    await until(browser, shows(browser, "status", "Preparing"), "plug in")
    assert await text_of(browser, "sentence") == "Present your card to start charging"
    await click(browser, "present-card")
    await until(browser, shows(browser, "status", "SuspendedEV"), "card")
    await click(browser, "charge")
    await until(browser, shows(browser, "status", "Charging"), "charging")
    await until(browser, shows(browser, "contactor", "closed"), "contactor closed")
    await until(
        browser, lambda: text(browser, "sentence").startswith("Charging 21."), "the sentence"
    )
    assert "32 A on L1 L2 L3" in await text_of(browser, "sentence")

    def points() -> int:
        return int(browser.find_element("id", "plot").get_attribute("data-points") or 0)

    before = await run(points)
    await until(browser, lambda: points() >= before + 3, "plot gaining points")
    await until(browser, shows(browser, "measured", "L1 32.0 A"), "amps")
    drawn = await run(
        lambda: [
            p.get_attribute("data-series")
            for p in browser.find_elements("css selector", "#plot path")
            if p.get_attribute("d")
        ]
    )
    assert drawn == ["offered", "l1", "l2", "l3", "power"]
    axis = await run(
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('#plot text.xa')].map((t) =>"
            " [t.textContent, t.getBoundingClientRect().height])"
        )
    )
    assert len(axis) >= 2 and all(":" in label for label, _ in axis), "a time axis"
    assert min(height for _, height in axis) >= 11, "axis labels readable (12 px text)"
    await until(browser, shows(browser, "plot", "L1\u20133 32.0 A"), "the phases named at the end")
    await run(browser.save_screenshot, str(ARTIFACTS / "status-desktop.png"))
    await run(browser.set_window_size, 390, 844)
    await run(browser.save_screenshot, str(ARTIFACTS / "status-phone.png"))
    assert await run(overflow, browser) == 0, "nothing wider than a phone's screen"

    await run(lambda: browser.find_element("id", "fault").send_keys("rcd"))
    await click(browser, "fault-on")
    await until(browser, shows(browser, "status", "Faulted"), "the fault")
    assert await text_of(browser, "error-code") == "GroundFailure"
    assert "rcd" in await text_of(browser, "faults")
    assert await text_of(browser, "state") == "Fault"
    assert (
        await text_of(browser, "sentence") == "Fault: residual current — unplug the car to re-test"
    )
    await run(lambda: browser.execute_script("window.scrollTo(0, 0)"))
    await run(browser.save_screenshot, str(ARTIFACTS / "status-faulted-phone.png"))
    assert await run(severe_console, browser) == []


async def test_beyond_loopback_the_page_asks_for_the_token(
    bench: BenchClient, browser: Any
) -> None:
    """The box's handlers behind the token check (served on loopback: the check is the
    object the box uses when it listens beyond)."""
    box = bench.wallbox
    app = build_app(
        box.status,
        box.board.bench,
        box.grid,
        box.charging_mode,
        ApiAccess(TOKEN),
        box.session_log,
        (box.history, box.status_changes, lambda: None),
    )
    async with serving(app) as base:
        await run(browser.get, f"{base}/")
        await run(lambda: browser.find_element("id", "mode").send_keys("off"))
        await click(browser, "apply-mode")
        await until(browser, shows(browser, "control-result", "401"), "401 shown")
        assert box.charging_mode.mode == "fast", "nothing changed"
        assert await text_of(browser, "status") == "\u2013", "no status without the token"
        await run(lambda: browser.find_element("id", "token").send_keys(TOKEN))
        await click(browser, "apply-mode")
        await until(browser, lambda: box.charging_mode.mode == "off", "with the token")
        await until(browser, shows(browser, "status", "Available"), "the stream, token entered")
        await run(
            lambda: browser.execute_script(
                "localStorage.setItem('pievse-token', arguments[0])", TOKEN
            )
        )
        await run(browser.refresh)
        await until(browser, shows(browser, "status", "Available"), "the stream with the token")
        await run(lambda: browser.execute_script("localStorage.clear()"))  # the next test's port


async def test_a_csms_connected_box_shows_its_link_and_its_plot_looks_back_an_hour_and_a_day(
    box: BenchClient, csms: TestCsms, browser: Any
) -> None:
    """The stored minute means (as an earlier run left them) fill the longer windows; the
    pushed status still follows a session the CSMS sees."""
    now = time.time()
    minutes_ago = [*range(11, 41), 300]
    with box.wallbox.store.atomic():
        box.wallbox.store.db.executemany(
            "INSERT INTO plot_history VALUES (?, 16.0, 15.5, 15.5, 15.5, 10700.0)",
            [(now - 60 * m,) for m in minutes_ago],
        )
    await run(browser.get, f"{box.base}/")
    await until(browser, shows(browser, "csms-registration", "accepted"), "registration")
    assert await text_of(browser, "csms-connected") == "yes"
    assert await text_of(browser, "csms-profile") == "0"
    assert await text_of(browser, "csms-queued") == "0"

    def points() -> int:
        return int(browser.find_element("id", "plot").get_attribute("data-points") or 0)

    def choose(minutes: str) -> None:
        Select(browser.find_element("id", "window")).select_by_value(minutes)

    in_memory = await run(points)
    assert in_memory < 30, "ten minutes hold only what this run sampled"
    await run(choose, "60")
    await until(browser, lambda: points() >= in_memory + 30, "an hour of stored minutes")
    await until(browser, lambda: points() < in_memory + 31 + 5, "the hour leaves out 5 h ago")
    await run(choose, "1440")
    await until(browser, lambda: points() >= in_memory + 31, "a day reaches 5 h ago")
    await run(browser.save_screenshot, str(ARTIFACTS / "status-day.png"))

    await charge_under_csms(box, csms)
    await until(browser, shows(browser, "status", "Charging"), "charging under the CSMS")
    assert await run(severe_console, browser) == []


async def test_a_box_sharing_a_site_shows_the_site_boxes_with_their_draw_and_share(
    tmp_path: Path, broker: Broker, browser: Any
) -> None:
    async with site_of(tmp_path, broker, ["box-a", "box-b"], "main_fuse_a = 32.0") as rig:
        await rig.charge_all()
        await rig.settle(lambda o: sorted(o.values()) == [16.0, 16.0])
        await run(browser.get, f"{rig.boxes['box-a'].base}/")
        await until(browser, shows(browser, "site-state", "shared"), "the site shown")

        def rows() -> list[str]:
            found = browser.find_elements("css selector", "#site-boxes tbody tr")
            return [r.text for r in found]

        await until(browser, lambda: len(rows()) == 2 and "16.0" in rows()[1], "the boxes")
        assert rows()[0].startswith("box-a L1L2L3 32.0")
        await run(browser.save_screenshot, str(ARTIFACTS / "status-site.png"))
