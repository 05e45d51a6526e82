"""What the OCPP fronts see of the charge controller, one small protocol per consumer: the
fronts never hold the whole controller (its step, its core, its listeners), only what
their handlers read and ask. `ChargeController` satisfies all of them."""

from __future__ import annotations

from typing import Protocol

from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.limits import Limit
from pievse.firmware.control.session_keeper import SessionKeeper
from pievse.firmware.session.sessions import Session
from pievse.hal.interfaces import Measurements


class SessionControl(Protocol):
    """Remote starts and stops, resets and unlocks (1.6 Core, 2.0.1 blocks B and F)."""

    @property
    def session(self) -> Session | None:
        """The running session, if any."""

    @property
    def sessions(self) -> SessionKeeper:
        """Starts, stops and their rules; each call decides at once."""

    async def unlock_confirmed(self, within_s: float = ...) -> bool | None:
        """None for a box without a lock, else whether it reported itself open in time."""


class ReservationView(Protocol):
    """What a reservation is judged on (1.6 Reservation, 2.0.1 block H)."""

    def box_status(self) -> ConnectorStatus: ...

    def connector_status(self) -> ConnectorStatus: ...

    def wake(self) -> None:
        """A reservation changed what the connector may do: step soon."""


class FaultView(Protocol):
    def faults(self) -> dict[Fault, float]:
        """Active faults with the monotonic time each was raised, most severe first."""


class Station(SessionControl, ReservationView, Protocol):
    """All a front reads of the controller: the above, the statuses, what it offers and
    what the meter reads."""

    @property
    def supervisor(self) -> FaultView: ...

    @property
    def offer(self) -> Limit:
        """The lowest limit now and its source."""

    @property
    def offered_a(self) -> float: ...

    @property
    def measurements(self) -> Measurements | None:
        """The last meter reading; None before the first."""

    def statuses(self) -> tuple[ConnectorStatus, ConnectorStatus]:
        """The box (connector 0) and its outlet (connector 1), in the domain's terms."""
