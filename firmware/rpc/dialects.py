"""The two OCPP-J dialects the box speaks: what differs on the wire between 1.6 and 2.0.1.

The RPC framework is the same (CALL, CALLRESULT, CALLERROR over one WebSocket); the
subprotocol, the schemas, the actions and some CALLERROR codes differ. OCPP-J 2.0.1 renamed
FormationViolation to FormatViolation, fixed OccurenceConstraintViolation's spelling and
added RpcFrameworkError (a frame that is no RPC message: not JSON, no readable messageId)
and MessageTypeNotSupported; a 1.6 peer gets FormationViolation for both. A required field
missing is an occurrence (0 where 1..1 is required) to 2.0.1, OccurrenceConstraintViolation,
and "payload for action is incomplete" to 1.6, ProtocolError.

Codes are named here in their 2.0.1 spelling, and `Dialect.code` gives the dialect's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

_CODES_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    "RpcFrameworkError": "FormationViolation",
    "MessageTypeNotSupported": "FormationViolation",
}


def _actions(version: str, request_suffix: str) -> frozenset[str]:
    """The actions the library has schemas for, read off its schema files' names: the
    library's Action enums would cost a box 1 MB (1.6) or 3 MB (2.0.1) of resident memory
    for the version it does not speak."""
    folder = files("ocpp") / f"v{version.replace('.', '')}" / "schemas"
    names = (entry.name.removesuffix(".json") for entry in folder.iterdir())
    return frozenset(
        name.removesuffix(request_suffix)
        for name in names
        if not name.endswith("Response") and name.endswith(request_suffix)
    )


@dataclass(frozen=True)
class Dialect:
    version: str
    """As the `ocpp` library names its schema folders and `[ocpp] version` names it."""
    subprotocol: str
    known_actions: frozenset[str]
    decimal_calls: frozenset[str]
    """Schemas with multipleOf 0.1 are checked on decimals, not binary floats."""
    decimal_results: frozenset[str]
    missing_field: str = "OccurrenceConstraintViolation"
    """The code for a required property that is missing (2.0.1 spelling)."""
    renamed_codes: tuple[tuple[str, str], ...] = ()

    def code(self, name: str) -> str:
        """The dialect's spelling of a CALLERROR code named as 2.0.1 names it."""
        return dict(self.renamed_codes).get(name, name)


OCPP16 = Dialect(
    version="1.6",
    subprotocol="ocpp1.6",
    known_actions=_actions("1.6", ""),
    decimal_calls=frozenset({"SetChargingProfile", "RemoteStartTransaction"}),
    decimal_results=frozenset({"GetCompositeSchedule"}),
    missing_field="ProtocolError",
    renamed_codes=tuple(_CODES_16.items()),
)
OCPP201 = Dialect(
    version="2.0.1",
    subprotocol="ocpp2.0.1",
    known_actions=_actions("2.0.1", "Request"),
    decimal_calls=frozenset(),
    decimal_results=frozenset(),
)
DIALECTS = {dialect.version: dialect for dialect in (OCPP16, OCPP201)}
