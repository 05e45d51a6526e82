"""Block G, availability (G03, G04): ChangeAvailability of the station or of the EVSE.

The station is 1.6's connector 0 and the box's one EVSE its connector 1, so what either
version set is kept in the same place and survives a restart and a change of version.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.rpc.routes import on
from pievse.firmware.session.availability import Availability


class AvailabilityBlock:
    def __init__(self, availability: Availability) -> None:
        self._availability = availability

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        if evse is None:
            connector = 0
        elif evse.get("id") == 1 and evse.get("connector_id", 1) == 1:
            connector = 1
        else:
            return call_result.ChangeAvailability(status="Rejected")
        status = self._availability.change(connector, operational_status == "Operative")
        return call_result.ChangeAvailability(status=status)
