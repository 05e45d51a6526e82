"""What the box does when the CSMS refuses the token of a transaction that already runs
(1.6 StartTransaction.conf, 2.0.1 TransactionEventResponse, E05): with
StopTransactionOnInvalidId (2.0.1 StopTxOnInvalidId) the transaction ends (DeAuthorized);
without it the energy stops, at once or, where MaxEnergyOnInvalidId is above 0, once the
transaction has delivered that many Wh. The session keeper does the stopping; this decides
when."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import MAX_ENERGY_ON_INVALID_ID, STOP_TRANSACTION_ON_INVALID_ID

log = logging.getLogger(__name__)
ENERGY_CHECK_S = 1.0


class InvalidIdReaction:
    def __init__(
        self,
        keys: ConfigurationKeys,
        deauthorize: Callable[[int], None],
        delivered_wh: Callable[[int], float | None],
    ) -> None:
        """`deauthorize`: the session keeper's reaction (stop, or energy off, as
        StopTransactionOnInvalidId says); `delivered_wh`: what the session has delivered,
        None once it no longer runs."""
        self._keys = keys
        self._deauthorize = deauthorize
        self._delivered_wh = delivered_wh
        self._watches: set[asyncio.Task[None]] = set()

    def refused(self, session_id: int) -> None:
        limit_wh = self._keys.get(MAX_ENERGY_ON_INVALID_ID)
        if self._keys.get(STOP_TRANSACTION_ON_INVALID_ID) or limit_wh <= 0:
            self._deauthorize(session_id)
            return
        task = asyncio.get_running_loop().create_task(
            self._after_energy(session_id, limit_wh), name="max-energy-on-invalid-id"
        )
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)

    async def _after_energy(self, session_id: int, limit_wh: float) -> None:
        while True:
            delivered = self._delivered_wh(session_id)
            if delivered is None:
                return
            if delivered >= limit_wh:
                log.warning("session %d: MaxEnergyOnInvalidId %g Wh reached", session_id, limit_wh)
                self._deauthorize(session_id)
                return
            await asyncio.sleep(ENERGY_CHECK_S)
