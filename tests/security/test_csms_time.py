"""A CSMS's time is believed only inside the plausible window (after this release, before
2100): year 9999 used to make every control step raise, `/api/status` answer 500, and the
right time sent again could not recover, because setting it read the overflowing clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from pievse.firmware.clock import (
    BUILD_DATE,
    LATEST_WALL,
    ManualClock,
    SystemClock,
    implausible_wall_time,
    iso_utc,
    parse_ocpp_datetime,
)
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.persistence.store import Store
from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.csms201 import TestCsms201
from tests.rigs.security_rig import serving

LAST_SECOND = datetime(9999, 12, 31, 23, 59, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rig", "trigger"),
    [
        (TestCsms, call16.TriggerMessage(requested_message="Heartbeat")),
        (TestCsms201, call201.TriggerMessage(requested_message="Heartbeat")),
    ],
    ids=["1.6", "2.0.1"],
)
async def test_year_9999_is_refused_as_a_security_event_and_the_box_keeps_working(
    tmp_path: Path, rig: type[TestCsms], trigger: object
) -> None:
    csms = rig()
    csms.script.time_offset = LAST_SECOND - datetime.now(UTC)
    async with serving(csms), running_wallbox(tmp_path, ocpp_config(csms)) as box:
        refused = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidMessages", timeout=8
        )
        assert "CSMS time refused" in refused["tech_info"]
        assert "9999-12-31" in refused["tech_info"]
        await asyncio.sleep(2.5)  # past the last second of 9999 in the CSMS's reckoning
        status = await box.status()
        assert status["faults"] == []
        assert status["connectors"]["0"]["status"] == "Available"
        assert abs(box.wallbox.clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
        csms.script.time_offset = timedelta(hours=2)
        await csms.call(trigger)
        found = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "SettingSystemTime"
        )
        assert "+7200" in found["tech_info"]
        assert box.wallbox.clock.now() - datetime.now(UTC) > timedelta(hours=1.9)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+05:00",
        "1970-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
    ],
)
def test_a_time_outside_the_window_leaves_the_clock_alone(text: str, tmp_path: Path) -> None:
    clock = ManualClock(datetime(2027, 3, 1, tzinfo=UTC))
    heard: list[str] = []
    session = CsmsSession(
        {}, ConfigurationKeys(Store(tmp_path / "db"), ()), clock, on_time_refused=[heard.append]
    )
    session.set_time(text)
    assert clock.now() == datetime(2027, 3, 1, tzinfo=UTC)
    assert len(heard) == 1 and text[:10] in heard[0]


@given(st.datetimes(timezones=st.just(UTC)))
def test_the_system_clock_takes_only_plausible_times_and_never_overflows(
    moment: datetime,
) -> None:
    clock = SystemClock()
    if implausible_wall_time(moment) is None:
        clock.set_wall(moment)
        assert BUILD_DATE <= clock.now() < LATEST_WALL + timedelta(days=1)
    else:
        with pytest.raises(ValueError, match="wall time refused"):
            clock.set_wall(moment)
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=OFFSETS))
def test_any_date_time_from_outside_parses_to_utc_or_is_refused(moment: datetime) -> None:
    """Then `iso_utc` and comparisons never overflow on it (9999-12-31T23:00-05:00 did)."""
    text = moment.isoformat()
    try:
        parsed = parse_ocpp_datetime(text)
    except ValueError as exc:
        assert "out of range" in str(exc)
        return
    assert parsed.utcoffset() == timedelta() and parsed == moment
    assert parse_ocpp_datetime(iso_utc(parsed)) == parsed.replace(
        microsecond=parsed.microsecond // 1000 * 1000
    )
