"""TransactionEvent Updated ChargingRateChanged when the offered current moves: on the wire
for a charging profile, and the debounce (LimitChangeSignificance, MIN_INTERVAL_S) over any
run of offers."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.ocpp201.charging_rate import MIN_INTERVAL_S, due, rate_moved
from tests.conftest import BenchClient
from tests.rigs.csms201 import TestCsms201, charging_profile


def rate_events(csms: TestCsms201, since: int = 0) -> list[dict]:
    return [e for e in csms.events(since) if e["trigger_reason"] == "ChargingRateChanged"]


def offered(event: dict) -> float:
    (value,) = [v for mv in event["meter_value"] for v in mv["sampled_value"]]
    assert value["measurand"] == "Current.Offered" and value["context"] == "Other"
    return float(value["value"])


async def test_a_profile_that_moves_the_offer_is_a_charging_rate_change(
    box: BenchClient, csms: TestCsms201
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Updated", "ChargingStateChanged")
    assert rate_events(csms) == [], "the Started event said the rate"
    mark = len(csms.received)
    assert await csms.set_charging_profile(1, charging_profile(3, limit=10.0)) == "Accepted"
    changed = await csms.wait_event("Updated", "ChargingRateChanged", since=mark)
    assert offered(changed) == 10.0
    mark = len(csms.received)
    # 10.5 A is 5 % from 10 A, within the default LimitChangeSignificance of 10 %
    assert await csms.set_charging_profile(1, charging_profile(3, limit=10.5)) == "Accepted"
    await box.wait_for(lambda s: s["pilot"]["offered_a"] == 10.5)
    assert await csms.set_charging_profile(1, charging_profile(3, limit=6.0)) == "Accepted"
    held = await csms.wait_event(
        "Updated", "ChargingRateChanged", since=mark, timeout=MIN_INTERVAL_S + 5
    )
    assert offered(held) == 6.0, "held back by the interval, then sent with the rate of then"
    assert len(rate_events(csms, mark)) == 1
    assert csms.protocol_errors == []


@given(
    told=st.floats(0, 80),
    offered_a=st.floats(0, 80),
    significance=st.integers(0, 100),
    last=st.floats(0, 1000),
    elapsed=st.floats(0, 100),
)
def test_due_only_past_the_significance_and_the_interval(
    told: float, offered_a: float, significance: int, last: float, elapsed: float
) -> None:
    sent = due(told, offered_a, significance, last, last + elapsed)
    if elapsed < MIN_INTERVAL_S or offered_a == told:
        assert not sent
    if sent:
        assert rate_moved(told, offered_a, significance)


@given(st.lists(st.floats(0, 32), min_size=1, max_size=200), st.floats(0.05, 2.0))
def test_a_ramp_sends_at_most_one_event_per_interval(offers: list[float], step_s: float) -> None:
    told, last, sent_at = offers[0], float("-inf"), []
    for n, offer in enumerate(offers):
        now = n * step_s
        if due(told, offer, 10, last, now):
            told, last = offer, now
            sent_at.append(now)
    assert all(b - a >= MIN_INTERVAL_S for a, b in itertools.pairwise(sent_at))
