"""Block C, authorization: ClearCache (C11). Authorize itself is `ask_csms`: the rules of
when to ask are the shared Authorizer's."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.ocpp201.identity import id_tag_info, id_token
from pievse.firmware.rpc.routes import on
from pievse.firmware.session.id_tag_info import IdTagInfo


async def ask_csms(csms: CsmsSession, id_tag: str) -> IdTagInfo:
    answer = await csms.request("Authorize", {"idToken": id_token(id_tag)})
    return id_tag_info(answer["idTokenInfo"])


class AuthorizationBlock:
    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        self._authorizer.clear_cache()
        return call_result.ClearCache(status="Accepted")
