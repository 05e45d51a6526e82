"""SendLocalList in either OCPP version: the same checks on the same list; the fronts only
read their entries (`parse`, which may raise ValueError) and name the answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import (
    LOCAL_AUTH_LIST_ENABLED,
    LOCAL_AUTH_LIST_MAX_LENGTH,
    SEND_LOCAL_LIST_MAX_LENGTH,
)
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore, LocalListError

log = logging.getLogger(__name__)
Entries = list[tuple[str, IdTagInfo | None]]


def send_local_list(
    tags: IdTagStore,
    keys: ConfigurationKeys,
    version: int,
    full: bool,
    count: int,
    parse: Callable[[], Entries],
) -> str:
    """Accepted, Failed or VersionMismatch; "Disabled" when LocalAuthListEnabled is off
    (1.6 answers NotSupported, 2.0.1 Failed)."""
    if not keys.get(LOCAL_AUTH_LIST_ENABLED):
        return "Disabled"
    if count > keys.get(SEND_LOCAL_LIST_MAX_LENGTH):
        log.warning("SendLocalList with %d entries: more than allowed", count)
        return "Failed"
    try:
        tags.update_list(version, full, parse(), keys.get(LOCAL_AUTH_LIST_MAX_LENGTH))
    except LocalListError as exc:
        log.warning("SendLocalList %s: %s", exc.status, exc)
        return exc.status
    except ValueError as exc:
        log.warning("SendLocalList Failed: %s", exc)
        return "Failed"
    log.info(
        "local list at version %d (%s, %d entries)",
        version,
        "Full" if full else "Differential",
        count,
    )
    return "Accepted"
