"""What the CSMS may ask under the OCPP 1.6 Local Auth List Management profile."""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import LOCAL_AUTH_LIST_ENABLED
from pievse.firmware.csms.local_list import send_local_list
from pievse.firmware.rpc.routes import on
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore


def _info(raw: dict[str, Any] | None) -> IdTagInfo | None:
    """An idTagInfo as the ocpp library hands it to handlers (snake_case)."""
    return None if raw is None else IdTagInfo.from_wire(snake_to_camel_case(raw))


class LocalAuthListProfile:
    def __init__(self, tags: IdTagStore, keys: ConfigurationKeys) -> None:
        self._tags = tags
        self._keys = keys

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self) -> Any:
        """0: no list installed yet; -1: the local list is disabled (LocalAuthListEnabled)."""
        if not self._keys.get(LOCAL_AUTH_LIST_ENABLED):
            return call_result.GetLocalListVersion(list_version=-1)
        return call_result.GetLocalListVersion(list_version=self._tags.list_version())

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> Any:
        entries = local_authorization_list or []
        status = send_local_list(
            self._tags,
            self._keys,
            list_version,
            update_type == "Full",
            len(entries),
            lambda: [(e["id_tag"], _info(e.get("id_tag_info"))) for e in entries],
        )
        return call_result.SendLocalList(status="NotSupported" if status == "Disabled" else status)
