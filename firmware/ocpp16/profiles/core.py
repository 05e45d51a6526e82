"""What the CSMS may ask under the OCPP 1.6 Core profile.

Each `@on` handler answers at once; work that must follow the answer (starting a remotely
authorized session, resetting) runs in the matching `@after` handler, as the spec orders:
the answer first, then the action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.control.station import SessionControl
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.data_transfer import DataTransfers
from pievse.firmware.csms.key_table import (
    AUTHORIZE_REMOTE_TX_REQUESTS,
    GET_CONFIGURATION_MAX_KEYS_COUNT,
)
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.ocpp16.transaction_messages import TransactionMessages
from pievse.firmware.rpc.frames import FrameError
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.stop_reasons import StopReason

log = logging.getLogger(__name__)
CONNECTOR_IDS = (0, 1)
SOFT_RESET_DRAIN_S = 10.0


class CoreProfile:
    def __init__(
        self,
        controller: SessionControl,
        keys: ConfigurationKeys,
        authorizer: Authorizer,
        transactions: TransactionMessages,
        outbox: Outbox,
        availability: Availability,
        restart: Callable[[str], Awaitable[None]],
        smart: SmartCharging,
        transfers: DataTransfers,
    ) -> None:
        self._controller = controller
        self._smart = smart
        self._keys = keys
        self._authorizer = authorizer
        self._transactions = transactions
        self._outbox = outbox
        self._availability = availability
        self._restart = restart
        self._transfers = transfers
        self._remote_start_ok = False

    # --- configuration -------------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        if key and len(key) > GET_CONFIGURATION_MAX_KEYS_COUNT:
            raise FrameError(
                "OccurenceConstraintViolation",
                f"at most {GET_CONFIGURATION_MAX_KEYS_COUNT} keys per request "
                "(GetConfigurationMaxKeys)",
            )
        known, unknown = self._keys.get_configuration(key)
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        return call_result.ChangeConfiguration(status=self._keys.change(key, value))

    # --- transactions --------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: Any = None
    ) -> Any:
        refused = (
            connector_id not in (None, 1)
            or not self._controller.sessions.can_start()
            or self._controller.sessions.reserved_for_another(
                id_tag, self._authorizer.local(id_tag)
            )
            or (
                charging_profile is not None
                and not self._smart.remote_start_profile_fits(charging_profile)
            )
        )
        return call_result.RemoteStartTransaction(status="Rejected" if refused else "Accepted")

    @after(Action.remote_start_transaction)
    async def after_remote_start_transaction(
        self, response: StatusAnswer, id_tag: str, charging_profile: Any = None, **_: Any
    ) -> None:
        """This request's tag and profile, whatever other requests came meanwhile."""
        if response.status != "Accepted":
            return
        info = self._authorizer.local(id_tag)
        if self._keys.get(AUTHORIZE_REMOTE_TX_REQUESTS):
            info = await self._authorizer.authorize(id_tag)
            if not info.accepted:
                log.info("remote start for %s not authorized by the CSMS", id_tag)
                return
        self._smart.forget_remote_start_profile()
        if charging_profile is not None:
            self._smart.accept_remote_start_profile(charging_profile)
        if not self._controller.sessions.remote_start(id_tag, info):
            log.warning("remote start for %s could not start after all", id_tag)
            self._smart.forget_remote_start_profile()

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int) -> Any:
        session = self._controller.session
        if session is None or self._transactions.session_of(transaction_id) != session.id:
            return call_result.RemoteStopTransaction(status="Rejected")
        self._controller.sessions.stop_session(StopReason.REMOTE)
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.unlock_connector)
    async def on_unlock_connector(self, connector_id: int) -> Any:
        unlocked = None if connector_id != 1 else await self._controller.unlock_confirmed()
        if unlocked is None:
            return call_result.UnlockConnector(status="NotSupported")
        return call_result.UnlockConnector(status="Unlocked" if unlocked else "UnlockFailed")

    # --- the box -------------------------------------------------------------------------

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> Any:
        if connector_id not in CONNECTOR_IDS:
            return call_result.ChangeAvailability(status="Rejected")
        status = self._availability.change(connector_id, type == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on(Action.reset)
    def on_reset(self, type: str) -> Any:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    async def after_reset(self, type: str) -> None:
        reason = StopReason.SOFT_RESET if type == "Soft" else StopReason.HARD_RESET
        log.warning("%s reset requested by the CSMS", type)
        self._controller.sessions.stop_session(reason)
        if type == "Soft":
            try:
                async with asyncio.timeout(SOFT_RESET_DRAIN_S):
                    await self._outbox.drained()
            except TimeoutError:
                log.warning("StopTransaction not delivered before the reset; it stays queued")
        await self._restart(type)

    @on(Action.clear_cache)
    def on_clear_cache(self) -> Any:
        self._authorizer.clear_cache()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Any:
        status, answer = self._transfers.answer(vendor_id, message_id, data)
        return call_result.DataTransfer(status=status, data=answer)
