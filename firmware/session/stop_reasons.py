"""Why a session ended, in the domain's words; each OCPP front maps them to its wire
(1.6 StopTransaction's Reason, 2.0.1 TransactionEvent's stoppedReason and triggerReason).
The values are the names the session log has always stored."""

from __future__ import annotations

from enum import StrEnum


class StopReason(StrEnum):
    LOCAL = "Local"
    """The driver stopped it: a tag, the page, the API, MQTT."""
    REMOTE = "Remote"
    """The CSMS stopped it."""
    EV_DISCONNECTED = "EVDisconnected"
    DE_AUTHORIZED = "DeAuthorized"
    """The CSMS refused the token of a running session."""
    POWER_LOSS = "PowerLoss"
    """The box lost power (or was killed) while it ran: found on the next start."""
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    REBOOT = "Reboot"
    """The box restarted itself (a firmware switch, a version change)."""
    UNLOCK_COMMAND = "UnlockCommand"
    OTHER = "Other"
    """A plain stop of the box, or a fault that ends the session."""
    GROUND_FAULT = "GroundFault"
    """An RCD trip ended it: the fault table's reason for that fault (`control/faults.py`);
    the session log keeps Other for every fault, a front that can say which tells it."""
    OVERCURRENT = "Overcurrent"
    """Overcurrent ended it (as GROUND_FAULT)."""
