"""The network profiles' slots and fallback as plain logic over a real SQLite store: which
slot the box tries after any run of failures and successes, and what a change of the config
file's connection does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pievse.firmware.ocpp201.network_profiles import NetworkProfile, NetworkProfiles
from pievse.firmware.persistence.store import Store

CONFIGURED = NetworkProfile("ws://a.example/ocpp", 1, 30)


def profiles(tmp_path: Path, configured: NetworkProfile = CONFIGURED) -> NetworkProfiles:
    return NetworkProfiles(Store(tmp_path / "pievse.db"), configured)


def test_a_new_order_waits_for_the_next_start(tmp_path: Path) -> None:
    network = profiles(tmp_path)
    assert network.put(2, NetworkProfile("ws://b.example/ocpp", 1, 10)) is None
    assert network.set_priority("2,1") == "RebootRequired"
    assert network.current()[0] == 1
    assert profiles(tmp_path).current() == (2, NetworkProfile("ws://b.example/ocpp", 1, 10))


def test_the_config_files_new_connection_takes_slot_1_and_the_head(tmp_path: Path) -> None:
    network = profiles(tmp_path)
    network.put(2, NetworkProfile("ws://b.example/ocpp", 1, 10))
    network.set_priority("2,1")
    moved = NetworkProfile("ws://c.example/ocpp", 1, 30)
    again = profiles(tmp_path, moved)
    assert again.current() == (1, moved)
    assert again.priority() == [1, 2]
    assert profiles(tmp_path, moved).priority() == [1, 2], "only a change moves it"


def test_refusals_name_their_reason(tmp_path: Path) -> None:
    network = profiles(tmp_path)
    assert "does not exist" in (network.put(0, CONFIGURED) or "")
    assert "in use" in (network.put(1, CONFIGURED) or "")
    assert "below" in (network.put(2, NetworkProfile("ws://b.example/ocpp", 0, 10)) or "")
    assert "wss://" in (network.put(2, NetworkProfile("ws://b.example/ocpp", 2, 10)) or "")
    assert network.set_attempts("0") == network.set_attempts("x") == "Rejected"
    assert network.set_attempts("4") == "Accepted" and network.attempts() == 4


@settings(max_examples=200, deadline=None)
@given(
    slot_profiles=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    attempts=st.integers(1, 4),
    events=st.lists(st.sampled_from(["fail", "connect"]), max_size=40),
)
def test_fallback_walks_the_order_and_never_goes_below_the_floor(
    tmp_path_factory: pytest.TempPathFactory,
    slot_profiles: list[int],
    attempts: int,
    events: list[str],
) -> None:
    tmp = tmp_path_factory.mktemp("slots")
    network = profiles(tmp)
    for slot, security_profile in enumerate(slot_profiles, start=2):
        scheme = "wss" if security_profile >= 2 else "ws"
        url = f"{scheme}://s{slot}.example/ocpp"
        assert network.put(slot, NetworkProfile(url, security_profile, 10)) is None
    order = [*range(2, 2 + len(slot_profiles)), 1]
    security_profiles = {1: CONFIGURED.security_profile} | dict(enumerate(slot_profiles, 2))
    assert network.set_priority(",".join(map(str, order))) == "RebootRequired"
    network.set_attempts(str(attempts))
    network = profiles(tmp)
    failures = 0
    for event in events:
        before = network.current()[0]
        if event == "connect":
            network.connected()
            failures = 0
            continue
        network.failed()
        failures += 1
        usable = [s for s in order if security_profiles[s] >= network.floor]
        if failures == attempts and len(usable) > 1:
            assert network.current()[0] != before, "enough failures move on"
            failures = 0
        elif failures == attempts:
            failures = 0
        else:
            assert network.current()[0] == before, "fewer do not"
        current = network.current()[1]
        assert current.security_profile >= network.floor or not usable
