"""Block F, remote control: RequestStartTransaction, RequestStopTransaction (F01-F04),
UnlockConnector (F05), TriggerMessage (F06), and E14's GetTransactionStatus.

A remote start is answered first and started after, as in 1.6: with AuthorizeRemoteStart
the CSMS is asked about the token before the session may begin. Its remoteStartId goes in
the Started event of the transaction it begins.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.charging.profiles import ProfileError
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.ocpp201.charging_profiles import to_kept
from pievse.firmware.ocpp201.identity import TAG_TYPE
from pievse.firmware.ocpp201.transaction_events import TransactionEvents, transaction_id
from pievse.firmware.rpc.connection import RequestFailed

log = logging.getLogger(__name__)


class RemoteControlBlock:
    def __init__(
        self,
        controller: ChargeController,
        keys: ConfigurationKeys,
        authorizer: Authorizer,
        events: TransactionEvents,
        outbox: Outbox,
        csms: CsmsSession,
        smart: SmartCharging,
        triggers: Mapping[str, Callable[[dict[str, Any] | None], Awaitable[None]]],
    ) -> None:
        self._controller = controller
        self._keys = keys
        self._authorizer = authorizer
        self._events = events
        self._outbox = outbox
        self._csms = csms
        self._smart = smart
        self.triggers = dict(triggers)
        """TriggerMessage requestedMessage -> what sends it (evse as asked)."""
        self._start: tuple[str, str, int] | None = None
        self._triggered: str | None = None

    # --- transactions --------------------------------------------------------------------

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: Any = None,
        **_: Any,
    ) -> Any:
        self._start = None
        self._smart.forget_remote_start_profile()
        sessions = self._controller.sessions
        tag = id_token["id_token"]
        refused = (
            evse_id not in (None, 1)
            or not sessions.can_start()
            or sessions.reserved_for_another(tag, self._authorizer.local(tag))
            or (charging_profile is not None and not self._takes(charging_profile))
        )
        if refused:
            running = self._controller.session
            return call_result.RequestStartTransaction(
                status="Rejected",
                transaction_id=None if running is None else transaction_id(running),
            )
        self._start = (tag, id_token.get("type", TAG_TYPE), remote_start_id)
        return call_result.RequestStartTransaction(status="Accepted")

    def _takes(self, profile: dict[str, Any]) -> bool:
        """The TxProfile a remote start brings, kept for the session it begins (F01.FR.08)."""
        try:
            kept = to_kept(profile)
        except ProfileError as exc:
            log.warning("RequestStartTransaction profile rejected: %s", exc)
            return False
        return self._smart.accept_remote_start_profile(kept)

    @after(Action.request_start_transaction)
    async def after_request_start_transaction(self, **_: Any) -> None:
        if self._start is None:
            return
        tag, token_type, remote_start_id = self._start
        self._start = None
        info = self._authorizer.local(tag)
        if self._keys.flag("AuthorizeRemoteTxRequests"):
            info = await self._authorizer.authorize(tag)
            if not info.accepted:
                log.info("remote start for %s not authorized by the CSMS", tag)
                self._smart.forget_remote_start_profile()
                return
        self._events.expect_remote_start(tag, token_type, remote_start_id)
        if not self._controller.sessions.remote_start(tag, info):
            log.warning("remote start for %s could not start after all", tag)
            self._smart.forget_remote_start_profile()

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        session = self._controller.session
        if session is None or self._events.transaction_id(session.id) != transaction_id:
            return call_result.RequestStopTransaction(status="Rejected")
        self._controller.sessions.stop_session("Remote")
        return call_result.RequestStopTransaction(status="Accepted")

    @on(Action.get_transaction_status)
    def on_get_transaction_status(self, transaction_id: str | None = None, **_: Any) -> Any:
        if transaction_id is None:
            return call_result.GetTransactionStatus(
                messages_in_queue=self._outbox.pending_transaction_messages() > 0
            )
        session_id = self._events.session_of(transaction_id)
        queued = session_id is not None and self._outbox.pending_transaction_messages(session_id)
        running = self._controller.session
        return call_result.GetTransactionStatus(
            messages_in_queue=bool(queued),
            ongoing_indicator=running is not None and running.id == session_id,
        )

    @on(Action.unlock_connector)
    async def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        if (evse_id, connector_id) != (1, 1):
            return call_result.UnlockConnector(status="UnknownConnector")
        if self._controller.session is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        unlocked = await self._controller.unlock_confirmed()
        return call_result.UnlockConnector(status="Unlocked" if unlocked else "UnlockFailed")

    # --- TriggerMessage ------------------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        self._triggered = None
        if requested_message not in self.triggers:
            return call_result.TriggerMessage(status="NotImplemented")
        if evse is not None and (evse.get("id"), evse.get("connector_id", 1)) != (1, 1):
            return call_result.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self._csms.accepted:
            return call_result.TriggerMessage(status="Rejected")  # F06.FR.17
        if requested_message == "TransactionEvent" and self._controller.session is None:
            return call_result.TriggerMessage(status="Rejected")
        self._triggered = requested_message
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if self._triggered != requested_message:
            return
        self._triggered = None
        send = self.triggers[requested_message]
        try:
            await send(evse)
        except RequestFailed as exc:
            log.warning("triggered %s failed: %s", requested_message, exc)
