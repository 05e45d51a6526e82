"""The site's sources under a CSMS: OCPP limits rank above the owner's mode, so a
ChargePointMaxProfile still caps a PV charge, and an OCPP limit of 0 A pauses a transaction
that a higher one resumes; a stale grid reading is reported on the connector."""

from __future__ import annotations

from pathlib import Path

from ocpp.v16 import call

from tests.conftest import charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.charging_profiles import profile
from tests.rigs.csms import TestCsms
from tests.rigs.site_rig import house, sunny

SITE = """
[site]
grid_timeout_s = 2.0
pv_smoothing_s = 0.0
"""


async def test_a_charge_point_max_profile_caps_a_pv_charge_and_zero_pauses(
    tmp_path: Path, csms: TestCsms
) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms, extra=SITE)) as box:
        await csms.wait_status(1, "Available")
        code, _ = await box.put("/api/mode", {"mode": "min_pv"})
        assert code == 200
        async with sunny(box, pv_w=12_000.0, house_w=960.0):  # 16 A of surplus
            started = await charge_under_csms(box, csms)
            await box.wait_for(lambda s: s["limit"]["source"] == "charging_mode", timeout=5)
            cap = profile(3, "ChargePointMaxProfile", kind="Absolute", periods=[(0, 8.0)])
            answer = await csms.call(call.SetChargingProfile(0, cap))
            assert answer.status == "Accepted"
            status = await box.wait_for(lambda s: s["limit"]["source"] == "charging_profile")
            assert status["limit"]["current_a"] == 8.0
            assert status["limit"]["sources"]["charging_mode"] > 8.0
            zero = profile(4, "ChargePointMaxProfile", 1, kind="Absolute", periods=[(0, 0.0)])
            assert (await csms.call(call.SetChargingProfile(0, zero))).status == "Accepted"
            await csms.wait_status(1, "SuspendedEVSE")
            answer = await csms.call(call.ClearChargingProfile(id=4))
            assert answer.status == "Accepted"
            await csms.wait_status(1, "Charging")
            assert not csms.of("StopTransaction"), "the same transaction went on"
            assert started["id_tag"] == "CARD-1"


async def test_a_stale_grid_reading_is_reported_on_the_connector_while_it_charges_on(
    tmp_path: Path, csms: TestCsms
) -> None:
    fuse = "\n[site]\nmain_fuse_a = 25.0\ngrid_timeout_s = 2.0\nramp_up_a_per_s = 100.0\n"
    async with running_wallbox(tmp_path, ocpp_config(csms, extra=fuse)) as box:
        async with house(box, [0.0] * 3):
            await charge_under_csms(box, csms)
            await box.wait_for(lambda s: s["pilot"]["offered_a"] >= 24.5, timeout=5)
        mark = len(csms.received)
        stale = await csms.wait_for(
            "StatusNotification",
            lambda p: p["connector_id"] == 1 and p["error_code"] == "OtherError",
            since=mark,
        )
        assert (stale["status"], stale["vendor_error_code"]) == ("Charging", "GridMeterStale")
        await box.wait_for(lambda s: s["pilot"]["offered_a"] == 6.0, timeout=3)
        mark = len(csms.received)
        async with house(box, [0.0] * 3):
            back = await csms.wait_for(
                "StatusNotification",
                lambda p: p["connector_id"] == 1 and p["error_code"] == "NoError",
                since=mark,
            )
            assert back["status"] == "Charging"
