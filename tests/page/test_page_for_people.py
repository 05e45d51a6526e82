"""The page as owners and installers use it, in a real headless Chromium: the status in
words (the pure function fed documents of every kind, in English and German), the
controls showing the value in force after a reload, a fault cleared on the bench that the
box keeps latched and why, every bench fault and any card id, the commissioning run and its
kept report, the settings form (against a stub of the contract, and through the real route
and a restart of a real `pievse run`), and at 360, 390 and 1280 px
no sideways scrolling and no serious or critical axe-core finding. Screenshots go under
test-artifacts/."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from selenium.webdriver.support.ui import Select

from pievse.firmware.api.local_api import build_app
from tests.conftest import FAST_CONFIG, BenchClient
from tests.rigs.local_server import serving
from tests.rigs.page_browser import (
    ARTIFACTS,
    WIDTHS,
    at_width,
    click,
    fresh,
    module_browser,
    needs_chromium,
    run,
    severe_console,
    shows,
    text,
    text_of,
    type_into,
    until,
)
from tests.rigs.process import PIEVSE, free_port
from tests.rigs.settings_stub import SettingsStub
from tests.rigs.status_documents import charging, faulted, paused, shuffled_documents, variant

pytestmark = needs_chromium
TOKEN = "settings-token-24-chars"
CARD = "<iframe/onload=h=1>"
"""Anyone's card id (20 printable characters at most) as markup that runs in the page (the
page that holds the token) when the sessions table takes it as HTML, as it did."""


@pytest.fixture(scope="module")
def chromium_once() -> Iterator[Any]:
    yield from module_browser()


@pytest.fixture
def browser(chromium_once: Any) -> Any:
    return fresh(chromium_once)


def said(driver: Any, documents: list[dict[str, Any]], language: str) -> list[list[str]]:
    """The page's own function on each document: [tone, headline, sentence, limit]."""
    return driver.execute_script(
        """const words = window.pievse.translator(arguments[1]);
        return arguments[0].map((d) => {
          const s = window.pievse.describe(d, words);
          return [s.tone, s.headline, s.sentence, window.pievse.limitWords(d, words)];
        });""",
        documents,
        language,
    )


async def test_the_status_reads_as_a_sentence_for_every_kind_of_state(
    bench: BenchClient, browser: Any
) -> None:
    idle = await bench.status()
    await run(browser.get, f"{bench.base}/")
    await until(browser, shows(browser, "status", "Available"), "the page")
    documents = [
        charging(idle, [16.0, 16.0, 16.0], 11040.0),
        charging(idle, [15.9, 0.0, 0.0], 3660.0),
        idle,
        paused(idle, "charging_mode", "pv", None),
        paused(idle, "charging_mode", "pv", 2.34),
        paused(idle, "charging_mode", "off", None),
        paused(idle, "main_fuse", "fast", None),
        faulted(idle, ["rcd"], "1", "GroundFailure"),
        faulted(idle, ["overtemperature"], "0", "HighTemperature"),
        faulted(idle, ["overtemperature", "rcd"], "1", "GroundFailure"),
        variant(idle, connectors__0__status="Unavailable"),
        variant(idle, connectors={"error": "KeyError: a part the box could not build"}),
        variant(paused(idle, "board", "fast", None), site__phases__stage="pause"),
    ]
    english = await run(said, browser, documents, "en")
    assert english[0] == [
        "charging", "Charging", "Charging 11.0 kW · 16 A on L1 L2 L3 · 4.2 kWh this session",
        "16.0 A · set by your setpoint",
    ]  # fmt: skip
    assert english[1][2] == "Charging 3.7 kW · 16 A on L1 · 4.2 kWh this session"
    assert english[2] == [
        "idle", "Ready", "Waiting for the car",
        "Up to 32 A once a car is plugged in · the box's rating",
    ], "idle names no 0 A cable limit: it must not read like a fault"  # fmt: skip
    assert english[3][:3] == [
        "paused",
        "Paused",
        "Paused by the solar mode until the surplus reaches 6 A",
    ]
    assert english[4][2] == "Paused by the solar mode until the surplus reaches 6 A (now 2.3 A)"
    assert english[5][2] == "Paused: the charging mode is off"
    assert english[6][2] == "Paused by main fuse protection"
    assert english[7][:3] == [
        "fault",
        "Fault",
        "Fault: residual current — unplug the car to re-test",
    ]
    assert english[7][3] == "0.0 A · the cable's rating · nothing is offered during the fault"
    assert english[8][:2] == ["warn", "Too hot"], "over-temperature: a warning, not a fault"
    assert english[8][2].startswith("Paused: the box is too hot (86 °C)")
    assert english[9][2].startswith("Fault: residual current"), "the worst fault first"
    assert english[10][:2] == ["off", "Out of service"]
    assert english[11][:2] == ["idle", "Unknown"], "a part in error is no crash"
    assert english[12][2] == "Paused while the box switches the phases"
    german = await run(said, browser, documents, "de")
    assert german[0][2] == "Lädt 11,0 kW · 16 A auf L1 L2 L3 · 4,2 kWh in diesem Ladevorgang"
    assert german[7][2] == "Störung: Fehlerstrom — Auto abstecken für den erneuten Test"
    assert german[3][2] == "Vom Solarmodus pausiert, bis der Überschuss 6 A erreicht"
    chosen = await run(
        lambda: browser.execute_script(
            "const pick = window.pievse.pickLanguage;"
            "return [pick(['fr-FR', 'de-AT']), pick(['fr']), pick(['EN-gb', 'de']), pick([])]"
        )
    )
    assert chosen == ["de", "en", "en", "en"]
    keys = await run(
        lambda: browser.execute_script(
            "return [Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.de).sort()]"
        )
    )
    assert keys[0] == keys[1], "German has every English string"
    for language in ("en", "de"):
        for document, words in zip(documents := shuffled_documents(idle, 300), await run(
            said, browser, documents, language
        ), strict=True):  # fmt: skip
            assert all(w and not re.search(r"undefined|NaN|null|\{|\}", w) for w in words), (
                words, document,
            )  # fmt: skip


async def test_an_owner_sees_the_values_in_force_and_why_a_cleared_fault_stays(
    bench: BenchClient, browser: Any
) -> None:
    await run(browser.get, f"{bench.base}/")
    await until(browser, shows(browser, "status", "Available"), "the page")
    options = await run(
        lambda: [
            o.get_attribute("value") for o in Select(browser.find_element("id", "fault")).options
        ]
    )
    assert len(options) == 14 and "tamper" in options, "every fault the bench takes"
    await type_into(browser, "setpoint", "10")
    await click(browser, "apply-mode")
    await until(browser, shows(browser, "mode-now", "setpoint 10 A"), "the setpoint in force")
    await run(lambda: Select(browser.find_element("id", "availability")).select_by_value("false"))
    await click(browser, "apply-availability")
    await until(browser, shows(browser, "state", "Out of service"), "inoperative")
    await run(browser.refresh)
    await until(browser, shows(browser, "availability-now", "inoperative"), "after a reload")

    def value(element_id: str) -> str:
        return browser.find_element("id", element_id).get_attribute("value")

    assert await run(value, "setpoint") == "10"
    assert await run(value, "availability") == "false", "the selector shows what is in force"
    await run(lambda: Select(browser.find_element("id", "availability")).select_by_value("true"))
    await click(browser, "apply-availability")
    await until(browser, shows(browser, "state", "Ready"), "operative again")

    await type_into(browser, "card-id", CARD)
    await click(browser, "plug-in")
    await until(browser, shows(browser, "status", "Preparing"), "plugged in")
    await click(browser, "present-card")
    await click(browser, "charge")
    await until(browser, shows(browser, "sentence", "10 A on L1 L2 L3"), "charging at 10 A")
    assert (await bench.status())["session"]["id_tag"] == CARD
    assert await text_of(browser, "limit") == "10.0 A · set by your setpoint"
    await run(browser.set_window_size, 390, 900)
    await run(browser.save_screenshot, str(ARTIFACTS / "charging-390.png"))

    await run(browser.set_window_size, 390, 900)
    await run(lambda: Select(browser.find_element("id", "fault")).select_by_value("rcd"))
    await click(browser, "fault-on")
    await until(browser, shows(browser, "state", "Fault"), "the trip")
    await click(browser, "fault-off")
    latched = "Cleared on the bench, but the box keeps “residual current” latched: unplug"
    await until(browser, shows(browser, "bench-result", latched), "why Clear does not clear")
    await run(lambda: browser.execute_script("document.getElementById('bench').scrollIntoView()"))
    await run(browser.save_screenshot, str(ARTIFACTS / "rcd-latched-390.png"))
    await click(browser, "unplug")
    await until(browser, shows(browser, "state", "Ready"), "the self-test passed", timeout=15)
    assert await text_of(browser, "bench-result") == "Cleared"

    await type_into(browser, "bench-temp", "90")
    await click(browser, "set-temp")
    await until(browser, shows(browser, "state", "Too hot"), "over-temperature")
    assert "tone-warn" in await run(
        lambda: browser.find_element("id", "state").get_attribute("class")
    )
    await type_into(browser, "bench-temp", "25")
    await click(browser, "set-temp")
    await until(browser, shows(browser, "state", "Ready"), "cooled down", timeout=15)
    await run(browser.refresh)
    await until(browser, lambda: CARD in text(browser, "sessions"), "the session listed")
    injected = await run(
        lambda: browser.execute_script(
            "return [document.querySelectorAll('#sessions iframe').length, window.h ?? null]"
        )
    )
    assert injected == [0, None], "a card id is text, never markup"
    assert (await text_of(browser, "sessions")).endswith("other"), "the RCD ended it: Other"
    assert "Times in UTC" in await text_of(browser, "sessions-zone")
    await run(lambda: browser.find_element("css selector", "#engineer summary").click())
    for width in WIDTHS:
        found = await run(at_width, browser, width, "after-session")
        assert found == {"overflow": 0, "a11y": []}, (width, found)
    assert await run(severe_console, browser) == []


async def test_an_installer_runs_the_commissioning_checks_in_german(
    bench: BenchClient, browser: Any
) -> None:
    """German browser in Berlin: the page's words in German, times with the zone's name."""
    fresh(browser, "de-DE,de", "Europe/Berlin")
    await run(browser.get, f"{bench.base}/")
    await until(browser, shows(browser, "state", "Bereit"), "the page in German")
    assert await text_of(browser, "sentence") == "Wartet auf das Auto"
    await run(lambda: browser.find_element("css selector", "#commission-open summary").click())
    await until(browser, shows(browser, "commission-summary", "Noch kein Bericht"), "no report")
    await click(browser, "commission-run")
    await until(browser, shows(browser, "commission-summary", "bestanden"), "the run", timeout=20)
    assert "MEZ" in await text_of(browser, "commission-summary"), "the time with its zone"

    def rows() -> list[list[str]]:
        found = browser.find_elements("css selector", "#commission-steps tbody tr")
        return [
            [td.get_attribute("textContent") for td in r.find_elements("tag name", "td")]
            for r in found
        ]

    steps = await run(rows)
    meter = next(r for r in steps if r[0] == "meter")
    assert meter[1] == "bestanden" and "L1 230.0 V" in meter[2]
    assert len(steps) >= 10
    await run(browser.refresh)
    await run(lambda: browser.find_element("css selector", "#commission-open summary").click())
    await until(browser, lambda: len(rows()) == len(steps), "the kept report after a reload")
    for width in WIDTHS:
        found = await run(at_width, browser, width, "commissioning-de")
        assert found == {"overflow": 0, "a11y": []}, (width, found)


async def test_settings_are_changed_through_the_form_and_the_page_waits_out_the_restart(
    bench: BenchClient, browser: Any
) -> None:
    """Against a stub of the settings contract (the backend is built beside this page),
    mounted on the box's own API so the page is the box's."""
    box = bench.wallbox
    app = build_app(
        box.status, box.board.bench, box.grid, box.charging_mode, None, box.session_log,
        (box.history, box.status_changes, lambda: None), box.availability,
    )  # fmt: skip
    stub = SettingsStub(TOKEN)
    stub.routes(app)
    async with serving(app) as base:
        await run(browser.get, f"{base}/")
        await until(browser, shows(browser, "status", "Available"), "the page")
        await run(lambda: browser.find_element("css selector", "#settings-open summary").click())
        await until(browser, shows(browser, "settings-result", "401"), "the token asked for")
        await type_into(browser, "token", TOKEN)
        await run(lambda: browser.find_element("id", "plot-title").click())  # the change event
        await until(browser, lambda: bool(browser.find_elements("id", "set-ocpp-csms_url")), "form")
        label = await run(
            lambda: browser.find_element("css selector", "label[for=set-site-main_fuse_a]").text
        )
        assert label == "Main fuse (A)"
        secret = await run(lambda: browser.find_element("id", "set-security-authorization_key"))
        assert await run(secret.get_attribute, "placeholder") == "not set"
        await type_into(browser, "set-site-main_fuse_a", "3")
        await type_into(browser, "set-ocpp-csms_url", "wss://new.example/ocpp")
        await click(browser, "settings-save")
        await until(
            browser, shows(browser, "set-site-main_fuse_a-error", "expected 0 (off) or 6..1000"),
            "the config file's message at its field",
        )  # fmt: skip
        invalid = await run(
            lambda: browser.find_element("id", "set-site-main_fuse_a").get_attribute("aria-invalid")
        )
        assert invalid == "true" and stub.writes == []
        await run(at_width, browser, 360, "settings-error")
        await type_into(browser, "set-site-main_fuse_a", "40")
        await run(
            lambda: Select(browser.find_element("id", "set-ocpp-version")).select_by_value("2.0.1")
        )
        await click(browser, "settings-save")
        await until(
            browser, shows(browser, "settings-result", "Applied: the box restarted"), "applied"
        )
        assert stub.writes == [
            {"ocpp.csms_url": "wss://new.example/ocpp", "ocpp.version": "2.0.1",
             "site.main_fuse_a": 40},
        ], "only what changed; the unset secret left out"  # fmt: skip
        value = await run(
            lambda: browser.find_element("id", "set-ocpp-csms_url").get_attribute("value")
        )
        assert value == "wss://new.example/ocpp", "the form shows the box's values after it"
        for width in WIDTHS:
            found = await run(at_width, browser, width, "settings")
            assert found == {"overflow": 0, "a11y": []}, (width, found)
        stub.next_start_refuses = "[security] profile: profile 2 needs a wss:// URL"
        await type_into(browser, "set-site-main_fuse_a", "32")
        await click(browser, "settings-save")
        await until(
            browser, shows(browser, "settings-result", "Not applied: the box could not start"),
            "a change the start refused is not called applied",
        )  # fmt: skip
        value = await run(
            lambda: browser.find_element("id", "set-site-main_fuse_a").get_attribute("value")
        )
        assert value == "40", "the form shows the settings the box went back to"


async def test_a_setting_changed_on_the_page_applies_through_a_restart_of_the_box(
    tmp_path: Path, browser: Any
) -> None:
    """The real settings route on a real `pievse run`: a refused value named at its field
    and nothing written, then the form's change written to the config file and the box
    restarted (the same process) with it; the page waits it out and shows the new value."""
    config = tmp_path / "pievse.toml"
    config.write_text(FAST_CONFIG + "\n[site]\nmain_fuse_a = 25\n")
    port = free_port()
    command = [*PIEVSE, "run", "--board", "bench-sim", "--config", str(config)]
    command += ["--data-dir", str(tmp_path / "data"), "--api", f"127.0.0.1:{port}"]
    process = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        await until(browser, lambda: _answers(f"{base}/api/settings"), "the box up", timeout=45)
        await run(browser.get, f"{base}/")
        await until(browser, shows(browser, "status", "Available"), "the page")
        await run(lambda: browser.find_element("css selector", "#settings-open summary").click())
        fuse = "set-site-main_fuse_a"
        await until(browser, lambda: bool(browser.find_elements("id", fuse)), "the form")
        shown = await run(lambda: browser.find_element("id", fuse).get_attribute("value"))
        assert float(shown) == 25.0
        await type_into(browser, fuse, "3")
        await click(browser, "settings-save")
        await until(browser, shows(browser, f"{fuse}-error", "6..1000"), "refused at its field")
        assert "main_fuse_a = 25" in config.read_text(), "nothing written"
        await type_into(browser, fuse, "16")
        await click(browser, "settings-save")
        await until(
            browser, shows(browser, "settings-result", "Applied: the box restarted"), "applied",
            timeout=45,
        )  # fmt: skip
        async with aiohttp.ClientSession() as http, http.get(f"{base}/api/status") as response:
            status = await response.json()
        assert status["site"]["main_fuse"]["main_fuse_a"] == 16.0
        assert process.returncode is None, "the same process goes on"
        assert (
            float(await run(lambda: browser.find_element("id", fuse).get_attribute("value"))) == 16
        )
        await until(browser, shows(browser, "link", "live"), "the stream back", timeout=15)
        found = await run(at_width, browser, 390, "settings-applied")
        assert found == {"overflow": 0, "a11y": []}, found
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
