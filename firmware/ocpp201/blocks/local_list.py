"""Block D, local authorization list (D01, D02): SendLocalList and GetLocalListVersion on
the list 1.6 keeps (LocalAuthListCtrlr.Enabled is LocalAuthListEnabled). Entries are keyed
by the token's value, as the box's reader and 1.6 know them."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from ocpp.charge_point import snake_to_camel_case
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.local_list import Entries, send_local_list
from pievse.firmware.ocpp201.identity import ReceivedIdToken, id_tag_info
from pievse.firmware.rpc.routes import on
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore


class AuthorizationData(TypedDict):
    """One entry of SendLocalList's localAuthorizationList, as the library hands it."""

    id_token: ReceivedIdToken
    id_token_info: NotRequired[dict[str, Any]]


class LocalListBlock:
    def __init__(self, tags: IdTagStore, keys: ConfigurationKeys) -> None:
        self._tags = tags
        self._keys = keys

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        return call_result.GetLocalListVersion(version_number=self._tags.list_version())

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[AuthorizationData] | None = None,
        **_: Any,
    ) -> Any:
        entries = local_authorization_list or []

        def parse() -> Entries:
            return [(e["id_token"]["id_token"], _info(e.get("id_token_info"))) for e in entries]

        status = send_local_list(
            self._tags, self._keys, version_number, update_type == "Full", len(entries), parse
        )
        return call_result.SendLocalList(status="Failed" if status == "Disabled" else status)


def _info(raw: dict[str, Any] | None) -> IdTagInfo | None:
    """An IdTokenInfo as the ocpp library hands it to handlers (snake_case)."""
    return None if raw is None else id_tag_info(snake_to_camel_case(raw))
