"""Every bench fault reaches the CSMS as the fault table's error code on its connector, and
the connector reports what it really is once the fault is gone."""

from __future__ import annotations

import pytest

from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms


@pytest.mark.parametrize(
    ("fault", "connector_id", "status", "error_code"),
    [
        ("rcd", 1, "Faulted", "GroundFailure"),
        ("overtemperature", 0, "Faulted", "HighTemperature"),
        ("meter_offline", 1, "Faulted", "PowerMeterFailure"),
        ("contactor_weld", 1, "Faulted", "PowerSwitchFailure"),
        ("contactor_stuck_open", 1, "Faulted", "PowerSwitchFailure"),
        ("diode", 1, "Faulted", "EVCommunicationError"),
        ("lock", 1, "Faulted", "ConnectorLockFailure"),
        ("reader", 0, "Available", "ReaderFailure"),
        ("tamper", 0, "Faulted", "OtherError"),
    ],
)
async def test_fault_reaches_the_csms_and_clears(
    box: BenchClient,
    csms: TestCsms,
    fault: str,
    connector_id: int,
    status: str,
    error_code: str,
) -> None:
    if fault not in ("lock", "reader"):
        await charge_under_csms(box, csms)
    mark = len(csms.received)
    await box.bench("fault", fault=fault, active=True)
    if fault == "lock":
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="CARD-1")
    if fault == "contactor_weld":
        # Welded contacts read closed either way: seen at the next opening (local stop).
        await box.bench("tag", id_tag="CARD-1")
    report = await csms.wait_for(
        "StatusNotification",
        lambda p: p["connector_id"] == connector_id and p["error_code"] == error_code,
        since=mark,
        timeout=6,
    )
    assert report["status"] == status
    if fault == "tamper":
        assert report["vendor_error_code"] == "Tamper"
        assert (await box.status())["contactor"] == "open", "an open lid stops charging"
    if status == "Faulted":
        assert (await box.status())["connectors"][str(connector_id)]["status"] == "Faulted"
    mark = len(csms.received)
    await box.bench("fault", fault=fault, active=False)
    await box.bench("ev", state="A")
    # Faulted -> (Finishing while the EV is still plugged) -> Available, without error.
    await csms.wait_for(
        "StatusNotification",
        lambda p: (
            p["connector_id"] == connector_id
            and p["error_code"] == "NoError"
            and p["status"] == "Available"
        ),
        since=mark,
        timeout=15,
    )


async def test_a_failing_control_step_is_an_internal_error_on_connector_zero(
    box: BenchClient, csms: TestCsms, monkeypatch: pytest.MonkeyPatch
) -> None:
    await charge_under_csms(box, csms)
    controller = box.wallbox.controller

    def broken(_now: float) -> None:
        raise RuntimeError("a bug in the control step")

    monkeypatch.setattr(controller.core, "act", broken)
    report = await csms.wait_status(0, "Faulted")
    mark = len(csms.received)
    assert report["error_code"] == "InternalError"
    assert (await box.status())["contactor"] == "open"
    monkeypatch.undo()
    await csms.wait_status(0, "Available", since=mark, timeout=5)
