"""Who may charge: the CSMS when it can be asked, the local list and cache when it cannot.

Without a CSMS configured every tag is accepted (a private wallbox). With one, the OCPP 1.6
rules apply (3.5, 5.15):
- online: Authorize.req, unless LocalPreAuthorize and the local list (LocalAuthListEnabled)
  or the cache (AuthorizationCacheEnabled) already holds the tag as valid;
- offline (or no answer): LocalAuthorizeOffline lets a locally known tag decide by its
  status; an unknown tag charges only with AllowOfflineTxForUnknownId;
- every idTagInfo the CSMS sends (Authorize, StartTransaction, StopTransaction answers)
  updates the cache, except for tags on the local list, which the list governs.
"""

from __future__ import annotations

import logging
from typing import Any

from firmware.clock import Clock
from firmware.configuration_keys import ConfigurationKeys
from firmware.csms_connection import RequestFailed
from firmware.csms_link import CsmsLink
from firmware.id_tag_store import IdTagInfo, IdTagStore

log = logging.getLogger(__name__)


class Authorizer:
    def __init__(
        self,
        link: CsmsLink | None,
        tags: IdTagStore | None = None,
        keys: ConfigurationKeys | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._link = link
        self._tags = tags
        self._keys = keys
        self._clock = clock

    async def authorize(self, id_tag: str) -> bool:
        link = self._link
        if link is None:
            return True
        local = self.local(id_tag)
        if link.accepted:
            if self._flag("LocalPreAuthorize") and local is not None and local.status == "Accepted":
                log.info("tag %s pre-authorized locally", id_tag)
                return True
            try:
                answer = await link.request("Authorize", {"idTag": id_tag})
            except RequestFailed as exc:
                log.warning("Authorize for %s failed (%s): deciding locally", id_tag, exc)
            else:
                info = IdTagInfo.from_wire(answer["idTagInfo"])
                self.learn(id_tag, info)
                if info.status != "Accepted":
                    log.info("CSMS refused tag %s: %s", id_tag, info.status)
                return info.status == "Accepted"
        return self._offline(id_tag, local)

    def _offline(self, id_tag: str, local: IdTagInfo | None) -> bool:
        if local is not None:
            if not self._flag("LocalAuthorizeOffline"):
                log.info("tag %s: offline and LocalAuthorizeOffline is off: refused", id_tag)
                return False
            log.info("tag %s offline: %s locally", id_tag, local.status)
            return local.status == "Accepted"
        if self._flag("AllowOfflineTxForUnknownId"):
            log.info("tag %s unknown offline: allowed (AllowOfflineTxForUnknownId)", id_tag)
            return True
        log.info("tag %s unknown offline: refused", id_tag)
        return False

    def local(self, id_tag: str) -> IdTagInfo | None:
        """The tag as the local list, else the cache, knows it now (expiry applied)."""
        tags, clock = self._tags, self._clock
        if tags is None or clock is None:
            return None
        now = clock.now()
        if self._flag("LocalAuthListEnabled"):
            listed = tags.list_entry(id_tag)
            if listed is not None:
                return listed.at(now)
        if self._flag("AuthorizationCacheEnabled"):
            cached = tags.cached(id_tag, now)
            if cached is not None:
                return cached.at(now)
        return None

    def learn(self, id_tag: str, info: IdTagInfo | dict[str, Any]) -> None:
        """An idTagInfo from the CSMS: the cache keeps it (not for tags on the local list)."""
        tags, clock = self._tags, self._clock
        if tags is None or clock is None or not self._flag("AuthorizationCacheEnabled"):
            return
        if isinstance(info, dict):
            info = IdTagInfo.from_wire(info)
        if self._flag("LocalAuthListEnabled") and tags.list_entry(id_tag) is not None:
            return
        tags.remember(id_tag, info, clock.now())

    def clear_cache(self) -> None:
        if self._tags is not None:
            self._tags.clear_cache()

    def _flag(self, name: str) -> bool:
        return self._keys is not None and self._keys.flag(name)
