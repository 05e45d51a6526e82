"""Each front names every word of the domain on its wire: every stop reason, connector
state and error code has a mapping in both, and both fronts offer all of `Front`."""

from __future__ import annotations

import inspect

import pytest

from pievse.firmware.control.connector_status import ConnectorState, ConnectorStatus
from pievse.firmware.control.faults import REPORTS, ErrorCode, Fault
from pievse.firmware.front.contract import Front
from pievse.firmware.ocpp16 import status_notifications as status16
from pievse.firmware.ocpp16 import transaction_messages
from pievse.firmware.ocpp16.profiles.front import Ocpp16Front
from pievse.firmware.ocpp201 import status_notifications as status201
from pievse.firmware.ocpp201 import transaction_events
from pievse.firmware.ocpp201.blocks.front import Ocpp201Front
from pievse.firmware.session.stop_reasons import StopReason

CONNECTOR_STATUSES_201 = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted"}


def test_every_stop_reason_has_its_words_in_both_fronts() -> None:
    assert set(transaction_messages.REASONS) == set(StopReason)
    assert set(transaction_events.STOPPED_REASONS) == set(StopReason)


def test_every_connector_state_and_error_code_is_named_on_1_6() -> None:
    assert set(status16.STATUSES) == set(ConnectorState)
    assert set(status16.ERROR_CODES) == set(ErrorCode)
    assert {report.error_code for report in REPORTS.values()} <= set(ErrorCode)


@pytest.mark.parametrize("state", list(ConnectorState))
def test_every_connector_state_is_one_of_the_five_of_2_0_1(state: ConnectorState) -> None:
    available = ConnectorStatus(ConnectorState.AVAILABLE)
    assert status201.connector_status(available, ConnectorStatus(state)) in (CONNECTOR_STATUSES_201)


@pytest.mark.parametrize("front", [Ocpp16Front, Ocpp201Front])
def test_both_fronts_offer_all_of_the_protocol(front: type) -> None:
    wanted = {
        name
        for name, _ in inspect.getmembers(Front)
        if not name.startswith("_") and name not in dir(object)
    } | set(Front.__annotations__)
    assert wanted <= set(dir(front())), wanted - set(dir(front()))


def test_a_fault_ends_a_session_in_the_domain_words_each_front_says_its_way() -> None:
    """The fault table names no wire's words; 2.0.1 has one for a ground fault and an
    overcurrent, 1.6's Reason has none (Other)."""
    stops = {fault: report.stop_reason for fault, report in REPORTS.items()}
    assert all(isinstance(reason, StopReason) for reason in stops.values())
    worded = {fault: transaction_events.STOPPED_REASONS[r] for fault, r in stops.items()}
    assert {f: w for f, w in worded.items() if w != "Other"} == {
        Fault.RCD: "GroundFault",
        Fault.OVERCURRENT: "OvercurrentFault",
    }
    assert {transaction_messages.REASONS[reason] for reason in stops.values()} == {"Other"}
