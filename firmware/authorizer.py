"""Who may charge: the CSMS decides (Authorize) when it can be asked.

Without a CSMS configured every tag is accepted (a private wallbox). With one configured but
unreachable, a tag is refused: the authorization cache and local list that would decide
offline are not built yet, and refusing is the safe answer.
"""

from __future__ import annotations

import logging

from firmware.csms_connection import RequestFailed
from firmware.csms_link import CsmsLink

log = logging.getLogger(__name__)


class Authorizer:
    def __init__(self, link: CsmsLink | None) -> None:
        self._link = link

    async def authorize(self, id_tag: str) -> bool:
        link = self._link
        if link is None:
            return True
        if not link.accepted:
            log.info("tag %s: CSMS not reachable, no local authorization: refused", id_tag)
            return False
        try:
            answer = await link.request("Authorize", {"idTag": id_tag})
        except RequestFailed as exc:
            log.warning("Authorize for %s failed (%s): refused", id_tag, exc)
            return False
        status = answer["idTagInfo"]["status"]
        if status != "Accepted":
            log.info("CSMS refused tag %s: %s", id_tag, status)
        return status == "Accepted"
