"""Debian's headless Chromium driven by Selenium for the status page's tests: one browser per
test module (starting one costs a second or two of a loaded CI core), the waits, the checks
every width gets (no sideways scroll, axe-core's accessibility rules, a screenshot), and
the browser's language and time zone set over the DevTools protocol."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rigs.paths import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()) and not os.environ.get("CI"),
    reason="chromium and chromium-driver not installed (.ci/run installs them)",
)
ARTIFACTS = Path(os.environ.get("PIEVSE_ARTIFACTS", ROOT / "test-artifacts"))
WIDTHS = (360, 390, 1280)
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
)  # fmt: skip
SERIOUS = ("serious", "critical")


def chromium(*extra_flags: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *extra_flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def module_browser(*extra_flags: str) -> Iterator[Any]:
    """For a module-scoped fixture: one browser, back at the desktop width, English and
    UTC before each use (`fresh`)."""
    driver = chromium(*extra_flags)
    try:
        yield driver
    finally:
        driver.quit()


def fresh(driver: Any, language: str = "en-US", zone: str = "UTC") -> Any:
    """The browser as a test expects it: a desktop window, `language` first in
    navigator.languages, `zone` the local time zone (each for the pages loaded next)."""
    driver.set_window_size(1280, 900)
    agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd(
        "Network.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": language}
    )
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": zone})
    driver.get_log("browser")  # what earlier tests left
    return driver


async def run(function: Callable[..., Any], *args: Any) -> Any:
    """Selenium blocks; the box under test runs on this event loop."""
    return await asyncio.to_thread(function, *args)


def text(driver: Any, element_id: str) -> str:
    """The element's text whether shown or not (the engineer details are folded)."""
    return driver.find_element("id", element_id).get_attribute("textContent") or ""


async def text_of(driver: Any, element_id: str) -> str:
    return await run(text, driver, element_id)


async def until(driver: Any, check: Callable[[], bool], what: str, timeout: float = 8) -> None:
    deadline = time.monotonic() + timeout
    while not await run(check):
        if time.monotonic() > deadline:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"failed-{what.replace(' ', '-')}.png"
            await run(driver.save_screenshot, str(shot))
            raise AssertionError(f"page: {what} not within {timeout} s (screenshot {shot})")
        await asyncio.sleep(0.1)


def shows(driver: Any, element_id: str, wanted: str) -> Callable[[], bool]:
    return lambda: wanted in text(driver, element_id)


async def click(driver: Any, element_id: str) -> None:
    await run(lambda: driver.find_element("id", element_id).click())


async def type_into(driver: Any, element_id: str, value: str) -> None:
    def typed() -> None:
        field = driver.find_element("id", element_id)
        field.clear()
        field.send_keys(value)

    await run(typed)


def severe_console(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def overflow(driver: Any) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def accessibility_problems(driver: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now; the script ships
    with the test dependencies (axe-selenium-python), nothing is fetched."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    if not driver.execute_script("return typeof axe === 'object'"):
        axe.inject()
    found = axe.run(options="{resultTypes: ['violations']}")["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def at_width(driver: Any, width: int, name: str) -> dict[str, Any]:
    """The window `width` px wide and as tall as the page: sideways overflow, the
    accessibility problems, and a screenshot `<name>-<width>.png` under the artifacts."""
    driver.set_window_size(width, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(height + 120, 6000))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    return {"overflow": overflow(driver), "a11y": accessibility_problems(driver)}
