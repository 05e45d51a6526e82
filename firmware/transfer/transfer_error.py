"""How a transfer fails: with the status word OCPP reports the failure with, so each caller
(GetLog, GetDiagnostics, firmware downloads) says the same thing for the same failure."""

from __future__ import annotations


class TransferError(Exception):
    """`status`: BadMessage (not a usable location), NotSupportedOperation (a scheme this box
    does not speak), PermissionDenied (the server refused us, or the box refuses the
    destination), TransferFailure (anything else: the network, the server, the file, the
    size cap, the deadline)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


FINAL_FAILURES = ("BadMessage", "NotSupportedOperation", "PermissionDenied")
"""Failures a retry cannot mend."""
