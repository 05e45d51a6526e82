"""Who may charge: the CSMS when it can be asked, the local list and cache when it cannot.

The rules of OCPP 1.6 (3.5, 5.15), which 2.0.1's C use cases keep (its AuthCtrlr and
AuthCacheCtrlr variables share the keys' storage); `Ask` is the version's Authorize:
- online: Authorize, unless LocalPreAuthorize and the local list (LocalAuthListEnabled)
  or the cache (AuthorizationCacheEnabled) already holds the tag as valid;
- offline (or no usable answer): LocalAuthorizeOffline lets a locally known tag decide by
  its status; an unknown tag charges only with AllowOfflineTxForUnknownId;
- every idTagInfo the CSMS sends (Authorize, StartTransaction, StopTransaction answers)
  updates the cache, except for tags on the local list, which the list governs, and except
  ConcurrentTx, which says the tag was busy elsewhere at that moment, not what it is.
The answer is the whole IdTagInfo: its parent decides reservations and who may stop whom.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pievse.firmware.clock import Clock
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import (
    ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID,
    AUTHORIZATION_CACHE_ENABLED,
    LOCAL_AUTH_LIST_ENABLED,
    LOCAL_AUTHORIZE_OFFLINE,
    LOCAL_PRE_AUTHORIZE,
)
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.rpc.connection import RequestFailed
from pievse.firmware.session.id_tag_info import CONCURRENT_TX, IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore

log = logging.getLogger(__name__)
UNKNOWN = IdTagInfo("Invalid")
Ask = Callable[[CsmsSession, str], Awaitable[IdTagInfo]]
"""(session, tag) -> the CSMS's answer; RequestFailed or ValueError when there is none."""


class Authorizer:
    def __init__(
        self,
        csms: CsmsSession,
        ask: Ask,
        tags: IdTagStore,
        keys: ConfigurationKeys,
        clock: Clock,
    ) -> None:
        self._csms = csms
        self._ask = ask
        self._tags = tags
        self._keys = keys
        self._clock = clock

    async def authorize(self, id_tag: str) -> IdTagInfo:
        local = self.local(id_tag)
        if self._csms.accepted:
            if self._keys.get(LOCAL_PRE_AUTHORIZE) and local is not None and local.accepted:
                log.info("tag %s pre-authorized locally", id_tag)
                return local
            try:
                info = await self._ask(self._csms, id_tag)
            except (RequestFailed, ValueError) as exc:
                log.warning("Authorize for %s failed (%s): deciding locally", id_tag, exc)
            else:
                self.learn(id_tag, info)
                if not info.accepted:
                    log.info("CSMS refused tag %s: %s", id_tag, info.status)
                return info
        return self._offline(id_tag, local)

    def _offline(self, id_tag: str, local: IdTagInfo | None) -> IdTagInfo:
        if local is not None:
            if not self._keys.get(LOCAL_AUTHORIZE_OFFLINE):
                log.info("tag %s: offline and LocalAuthorizeOffline is off: refused", id_tag)
                return UNKNOWN
            log.info("tag %s offline: %s locally", id_tag, local.status)
            return local
        if self._keys.get(ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID):
            log.info("tag %s unknown offline: allowed (AllowOfflineTxForUnknownId)", id_tag)
            return IdTagInfo("Accepted")
        log.info("tag %s unknown offline: refused", id_tag)
        return UNKNOWN

    def local(self, id_tag: str) -> IdTagInfo | None:
        """The tag as the local list, else the cache, knows it now (expiry applied)."""
        now = self._clock.now()
        if self._keys.get(LOCAL_AUTH_LIST_ENABLED):
            listed = self._tags.list_entry(id_tag)
            if listed is not None:
                return listed.at(now)
        if self._keys.get(AUTHORIZATION_CACHE_ENABLED):
            cached = self._tags.cached(id_tag, now)
            if cached is not None:
                return cached.at(now)
        return None

    def learn(self, id_tag: str, info: IdTagInfo | dict[str, Any]) -> None:
        """An idTagInfo from the CSMS: the cache keeps it (see the module's rules)."""
        if not self._keys.get(AUTHORIZATION_CACHE_ENABLED):
            return
        if isinstance(info, dict):
            try:
                info = IdTagInfo.from_wire(info)
            except ValueError as exc:
                log.warning("idTagInfo for %s not cached: %s", id_tag, exc)
                return
        if info.status == CONCURRENT_TX:
            return
        if self._keys.get(LOCAL_AUTH_LIST_ENABLED) and self._tags.list_entry(id_tag) is not None:
            return
        self._tags.remember(id_tag, info, self._clock.now())

    def clear_cache(self) -> None:
        self._tags.clear_cache()
