"""The session rules the CSMS may change at run time (ConnectionTimeOut and the
EV-side-disconnect and invalid-id rules), applied to the controller's policy at the start and
again at every change of their keys."""

from __future__ import annotations

from collections.abc import Callable

from pievse.firmware.control.session_keeper import SessionPolicy
from pievse.firmware.csms.configuration_keys import ConfigurationKeys, Key, T
from pievse.firmware.csms.key_table import (
    CONNECTION_TIME_OUT,
    STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
    STOP_TRANSACTION_ON_INVALID_ID,
    UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
)


def bind_session_policy(policy: SessionPolicy, keys: ConfigurationKeys) -> None:
    def bind(key: Key[T], apply: Callable[[T], None]) -> None:
        apply(keys.get(key))
        keys.on_change(key, lambda _value: apply(keys.get(key)))

    bind(CONNECTION_TIME_OUT, lambda s: setattr(policy, "connection_timeout_s", float(s)))
    bind(
        STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
        lambda on: setattr(policy, "stop_on_ev_disconnect", on),
    )
    bind(
        UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
        lambda on: setattr(policy, "unlock_on_ev_disconnect", on),
    )
    bind(STOP_TRANSACTION_ON_INVALID_ID, lambda on: setattr(policy, "stop_on_invalid_id", on))
