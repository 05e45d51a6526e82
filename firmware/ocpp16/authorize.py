"""Authorize as OCPP 1.6 asks it: an idTag, answered by an IdTagInfo."""

from __future__ import annotations

from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.session.id_tag_info import IdTagInfo


async def ask_csms(csms: CsmsSession, id_tag: str) -> IdTagInfo:
    answer = await csms.request("Authorize", {"idTag": id_tag})
    return IdTagInfo.from_wire(answer["idTagInfo"])
