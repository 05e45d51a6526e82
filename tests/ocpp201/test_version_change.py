"""A box that changes OCPP version keeps what it had: the CSMS's settings (1.6 keys are 2.0.1
variables) and its queue, whose messages wait for the version they were made
in instead of being guessed into the other."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.csms201 import TestCsms201


async def test_settings_carry_over_and_a_1_6_queue_waits_for_1_6(tmp_path: Path) -> None:
    old, new = TestCsms(), TestCsms201()
    await old.start()
    await new.start()
    try:
        async with running_wallbox(tmp_path, ocpp_config(old)) as box:
            await old.wait_status(1, "Available")
            await old.configure(MeterValueSampleInterval="17", AllowOfflineTxForUnknownId="true")
            await old.stop()
            await old.drop_connection()
            await box.wait_for(lambda s: s["ocpp"]["connected"] is False)
            await box.bench("ev", state="C")
            await box.bench("tag", id_tag="LOCAL")
            await box.wait_for(lambda s: s["ocpp"]["queued"] >= 1)
            await box.bench("ev", state="A")
            await box.wait_for(lambda s: s["session"] is None)
        async with running_wallbox(tmp_path, ocpp_config(new)) as box:
            await new.wait_status(1, "Available")
            status = await box.status()
            assert status["ocpp"]["version"] == "2.0.1"
            assert status["ocpp"]["held"] >= 1 and status["ocpp"]["queued"] == 0
            got = await new.get_variable({"name": "SampledDataCtrlr"}, "TxUpdatedInterval")
            assert got == "17"
            assert new.events() == [], "no 1.6 message goes out as 2.0.1"
            assert new.protocol_errors == []
        await old.start_on(old.port)
        async with running_wallbox(tmp_path, ocpp_config(old)):
            started = await old.wait_for("StartTransaction", timeout=8)
            assert started["id_tag"] == "LOCAL"
    finally:
        await old.stop()
        await new.stop()


async def test_auto_offers_both_and_follows_the_csms(tmp_path: Path) -> None:
    """A fresh box offers 2.0.1 first; a 1.6-only CSMS picks 1.6, and the box restarts
    speaking 1.6 (and offers 1.6 first from then on)."""
    old = TestCsms()
    await old.start()
    try:
        auto = ocpp_config(old).replace('version = "1.6"', 'version = "auto"')
        async with running_wallbox(tmp_path, auto) as box:
            await box.wait_for(lambda _s: bool(box.resets), timeout=8)
            assert box.resets == ["Soft"]
            assert old.offered[0] == "ocpp2.0.1, ocpp1.6"
            assert old.of("BootNotification") == [], "nothing is said in the wrong version"
        async with running_wallbox(tmp_path, auto) as box:
            await old.wait_status(1, "Available")
            assert old.offered[-1] == "ocpp1.6, ocpp2.0.1"
            assert (await box.status())["ocpp"]["version"] == "1.6"
            assert box.resets == []
    finally:
        await old.stop()


async def test_auto_speaks_2_0_1_to_a_csms_that_speaks_both(tmp_path: Path) -> None:
    new = TestCsms201()
    new.SUBPROTOCOL = "ocpp2.0.1"
    await new.start()
    try:
        auto = ocpp_config(new).replace('version = "2.0.1"', 'version = "auto"')
        async with running_wallbox(tmp_path, auto) as box:
            await new.wait_status(1, "Available")
            assert new.subprotocols == ["ocpp2.0.1"]
            assert (await box.status())["ocpp"]["version"] == "2.0.1"
    finally:
        await new.stop()


async def test_a_switch_to_2_0_1_boots_with_the_reason_local_reset(tmp_path: Path) -> None:
    """`auto` on a box that speaks 1.6, then a 2.0.1-only CSMS: the box restarts on its own
    (no Reset came from the CSMS), so its first 2.0.1 BootNotification says LocalReset."""
    old, new = TestCsms(), TestCsms201()
    await old.start()
    await new.start()
    try:
        to_old = ocpp_config(old).replace('version = "1.6"', 'version = "auto"')
        async with running_wallbox(tmp_path, to_old) as box:
            await box.wait_for(lambda _s: bool(box.resets), timeout=8)
        to_new = ocpp_config(new).replace('version = "2.0.1"', 'version = "auto"')
        async with running_wallbox(tmp_path, to_new) as box:
            await box.wait_for(lambda _s: bool(box.resets), timeout=8)
            assert new.offered[0] == "ocpp1.6, ocpp2.0.1"
        async with running_wallbox(tmp_path, to_new) as box:
            booted = await new.wait_for("BootNotification", timeout=8)
            assert booted["reason"] == "LocalReset"
            assert (await box.status())["ocpp"]["version"] == "2.0.1"
        assert new.protocol_errors == []
    finally:
        await old.stop()
        await new.stop()
