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

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.charging.profiles import ProfileError
from pievse.firmware.control.station import SessionControl
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import AUTHORIZE_REMOTE_TX_REQUESTS
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.ocpp201.charging_profiles import to_kept
from pievse.firmware.ocpp201.identity import TAG_TYPE, ReceivedIdToken
from pievse.firmware.ocpp201.transaction_events import TransactionEvents, transaction_id
from pievse.firmware.rpc.connection import RequestFailed
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.session.stop_reasons import StopReason

log = logging.getLogger(__name__)


class RemoteControlBlock:
    def __init__(
        self,
        controller: SessionControl,
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

    # --- transactions --------------------------------------------------------------------

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: ReceivedIdToken,
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: Any = None,
        **_: Any,
    ) -> Any:
        sessions = self._controller.sessions
        tag = id_token["id_token"]
        refused = (
            evse_id not in (None, 1)
            or not sessions.can_start()
            or sessions.reserved_for_another(tag, self._authorizer.local(tag))
            or (charging_profile is not None and self._profile(charging_profile) is None)
        )
        if refused:
            running = self._controller.session
            return call_result.RequestStartTransaction(
                status="Rejected",
                transaction_id=None if running is None else transaction_id(running),
            )
        return call_result.RequestStartTransaction(status="Accepted")

    def _profile(self, profile: dict[str, Any]) -> dict[str, Any] | None:
        """The TxProfile a remote start brings in the stored form, if the box can run it."""
        try:
            kept = to_kept(profile)
        except ProfileError as exc:
            log.warning("RequestStartTransaction profile rejected: %s", exc)
            return None
        return kept if self._smart.remote_start_profile_fits(kept) else None

    @after(Action.request_start_transaction)
    async def after_request_start_transaction(
        self,
        response: StatusAnswer,
        id_token: ReceivedIdToken,
        remote_start_id: int,
        charging_profile: Any = None,
        **_: Any,
    ) -> None:
        """This request's token, remoteStartId and profile, whatever other requests came
        meanwhile: the last remote start to get here is the one the session begins with."""
        if response.status != "Accepted":
            return
        tag = id_token["id_token"]
        info = self._authorizer.local(tag)
        if self._keys.get(AUTHORIZE_REMOTE_TX_REQUESTS):
            info = await self._authorizer.authorize(tag)
            if not info.accepted:
                log.info("remote start for %s not authorized by the CSMS", tag)
                return
        self._smart.forget_remote_start_profile()
        kept = None if charging_profile is None else self._profile(charging_profile)
        if kept is not None:
            self._smart.accept_remote_start_profile(kept)
        self._events.expect_remote_start(tag, id_token.get("type", TAG_TYPE), remote_start_id)
        if not self._controller.sessions.remote_start(tag, info):
            log.warning("remote start for %s could not start after all", tag)
            self._smart.forget_remote_start_profile()

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        session = self._controller.session
        if session is None or self._events.transaction_id(session.id) != transaction_id:
            return call_result.RequestStopTransaction(status="Rejected")
        self._controller.sessions.stop_session(StopReason.REMOTE)
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
        if requested_message not in self.triggers:
            return call_result.TriggerMessage(status="NotImplemented")
        if evse is not None and (evse.get("id"), evse.get("connector_id", 1)) != (1, 1):
            return call_result.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self._csms.accepted:
            return call_result.TriggerMessage(status="Rejected")  # F06.FR.17
        if requested_message == "TransactionEvent" and self._controller.session is None:
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(
        self,
        response: StatusAnswer,
        requested_message: str,
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        if response.status != "Accepted":
            return
        send = self.triggers[requested_message]
        try:
            await send(evse)
        except RequestFailed as exc:
            log.warning("triggered %s failed: %s", requested_message, exc)
