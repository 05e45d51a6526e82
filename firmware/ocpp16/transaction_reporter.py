"""Transactions on the wire: StartTransaction, StopTransaction and MeterValues.

Told of session starts and stops by the controller; writes the messages to the durable
outbox in order. Sampled meter values (MeterValueSampleInterval, MeterValuesSampledData)
go out during a transaction; clock-aligned ones (ClockAlignedDataInterval,
MeterValuesAlignedData) at whole multiples of the interval after midnight UTC, with the
transaction's id when one runs. A Transaction.Begin value follows each StartTransaction.
StopTxn*Data feed the StopTransaction's transactionData (Begin, samples, End).

Energy.Active.Import.Interval is the energy since the previous value of the same series:
the periodic series restarts at each transaction's meterStart, the clock-aligned series runs
on across transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.outbox import Message, Outbox
from pievse.firmware.event_wait import wait_set
from pievse.firmware.ocpp16.meter_values import Reading, meter_value
from pievse.firmware.session.sessions import Session, SessionLog

log = logging.getLogger(__name__)
CONNECTOR_ID = 1
PERIODIC = "periodic"
CLOCK = "clock"


def next_aligned(now: datetime, interval_s: int) -> datetime:
    """The next instant after `now` that is a whole number of intervals after midnight UTC;
    midnight itself always is one, also for intervals that do not divide the day."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    steps = int(elapsed // interval_s) + 1
    return min(midnight + timedelta(seconds=steps * interval_s), midnight + timedelta(days=1))


class TransactionReporter:
    def __init__(
        self,
        outbox: Outbox,
        sessions: SessionLog,
        keys: ConfigurationKeys,
        clock: Clock,
        reading: Callable[[], Reading],
        deauthorize: Callable[[int], None],
        id_tag_listeners: Sequence[Callable[[str, dict[str, Any]], None]] = (),
    ) -> None:
        self._outbox = outbox
        self._sessions = sessions
        self._keys = keys
        self._clock = clock
        self._reading = reading
        self._deauthorize = deauthorize
        self._session: Session | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._stop_samples: list[dict[str, Any]] = []
        self._interval_start: dict[str, float] = {}
        self._id_tag_listeners = list(id_tag_listeners)
        """Told each idTagInfo the CSMS answers (the authorization cache learns from it)."""
        self._aligned_changed = asyncio.Event()
        keys.on_change("ClockAlignedDataInterval", lambda _value: self._aligned_changed.set())
        outbox.answer_handlers["StartTransaction"] = self._started
        outbox.answer_handlers["StopTransaction"] = self._stopped

    # --- SessionListener -----------------------------------------------------------------

    def session_started(self, session: Session) -> None:
        payload: dict[str, Any] = {
            "connectorId": CONNECTOR_ID,
            "idTag": session.id_tag,
            "meterStart": round(session.meter_start_wh),
            "timestamp": iso_utc(session.started_at),
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        self._outbox.put_transaction("StartTransaction", payload, session.id)
        self._follow(session)
        begin = self._reading()
        value = self._value(
            session.started_at, "MeterValuesSampledData", begin, "Transaction.Begin"
        )
        if value is not None:
            self._send_transaction_value(session, value, begin)
        stop_value = self._value(
            session.started_at, "StopTxnSampledData", begin, "Transaction.Begin"
        )
        if stop_value is not None:
            self._stop_samples.append(stop_value)

    def session_resumed(self, session: Session) -> None:
        """After a power loss: sampling goes on; the Begin values went out before it."""
        self._follow(session)

    def _follow(self, session: Session) -> None:
        self._session = session
        self._stop_samples = []
        last = self._sessions.last_reading(session.id)
        self._interval_start[PERIODIC] = session.meter_start_wh if last is None else last.energy_wh
        self._sampler = asyncio.get_running_loop().create_task(
            self._sample(session), name="meter-values"
        )

    def session_stopped(self, session: Session, reason: str) -> None:
        self._session = None
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None
        stopped_at = session.stopped_at or self._clock.now()
        payload: dict[str, Any] = {
            "meterStop": round(session.meter_stop_wh or session.meter_start_wh),
            "timestamp": iso_utc(stopped_at),
            "reason": reason,
        }
        if reason in ("Local", "DeAuthorized"):
            payload["idTag"] = session.stop_id_tag or session.id_tag
        end = self._value(stopped_at, "StopTxnSampledData", self._take(PERIODIC), "Transaction.End")
        data = [*self._stop_samples, *([end] if end else [])]
        if data:
            payload["transactionData"] = data
        self._outbox.put_transaction("StopTransaction", payload, session.id)

    # --- the CSMS's answers --------------------------------------------------------------

    def _started(self, message: Message, answer: dict[str, Any]) -> None:
        assert message.session_id is not None
        self._sessions.set_transaction_id(message.session_id, answer["transactionId"])
        info = answer["idTagInfo"]
        if info.get("parentIdTag"):
            self._sessions.set_parent(message.session_id, info["parentIdTag"])
        for listener in self._id_tag_listeners:
            listener(message.payload["idTag"], info)
        status = info["status"]
        if status != "Accepted":
            log.warning("CSMS refused the tag of session %d: %s", message.session_id, status)
            self._deauthorize(message.session_id)

    def _stopped(self, message: Message, answer: dict[str, Any]) -> None:
        id_tag = message.payload.get("idTag")
        if id_tag is not None and "idTagInfo" in answer:
            for listener in self._id_tag_listeners:
                listener(id_tag, answer["idTagInfo"])

    def transaction_id(self, session_id: int) -> int | None:
        return self._sessions.transaction_id(session_id)

    def session_of(self, transaction_id: int) -> int | None:
        return self._sessions.session_for_transaction(transaction_id)

    # --- meter values --------------------------------------------------------------------

    def current_meter_values(self, connector_id: int, context: str) -> dict[str, Any] | None:
        """A MeterValues payload now (TriggerMessage); None when the meter gave nothing."""
        reading = self._take(PERIODIC, advance=False)
        value = self._value(self._clock.now(), "MeterValuesSampledData", reading, context)
        if value is None:
            return None
        payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": [value]}
        session = self._session
        if session is not None and connector_id == CONNECTOR_ID:
            transaction_id = self.transaction_id(session.id)
            if transaction_id is not None:
                payload["transactionId"] = transaction_id
        return payload

    def _take(self, series: str, advance: bool = True) -> Reading:
        """A reading whose Interval runs from the series' previous value; unless `advance`
        is false, the series' next interval starts here."""
        reading = self._reading()
        start = self._interval_start.get(series)
        m = reading.measurements
        if advance and m is not None and m.energy_import_wh is not None:
            self._interval_start[series] = m.energy_import_wh
        return replace(reading, interval_start_wh=start)

    def _value(
        self, at: datetime, key: str, reading: Reading, context: str
    ) -> dict[str, Any] | None:
        return meter_value(at, self._keys.items(key), reading, context)

    async def _sample(self, session: Session) -> None:
        while True:
            interval = self._keys.number("MeterValueSampleInterval")
            if interval <= 0:
                await asyncio.sleep(1.0)
                continue
            await asyncio.sleep(interval)
            now = self._clock.now()
            reading = self._take(PERIODIC)
            value = self._value(now, "MeterValuesSampledData", reading, "Sample.Periodic")
            if value is not None:
                self._send_transaction_value(session, value, reading)
            stop_value = self._value(now, "StopTxnSampledData", reading, "Sample.Periodic")
            if stop_value is not None:
                self._stop_samples.append(stop_value)

    def _send_transaction_value(
        self, session: Session, value: dict[str, Any], reading: Reading
    ) -> None:
        """Queued with the reading it carries persisted: a power loss never ends the session
        below a value the CSMS was already sent."""
        m = reading.measurements
        with self._sessions.atomic():
            if m is not None and m.energy_import_wh is not None:
                self._sessions.note_reading(session.id, m.energy_import_wh, self._clock.now())
            self._outbox.put_transaction(
                "MeterValues", {"connectorId": CONNECTOR_ID, "meterValue": [value]}, session.id
            )

    async def run_clock_aligned(self) -> None:
        """A new ClockAlignedDataInterval takes effect at once, not after the old period."""
        while True:
            self._aligned_changed.clear()
            interval = self._keys.number("ClockAlignedDataInterval")
            now = self._clock.now()
            wait = None if interval <= 0 else (next_aligned(now, interval) - now).total_seconds()
            if not await wait_set(self._aligned_changed, wait):
                self._aligned(next_aligned(now, interval))

    def _aligned(self, at: datetime) -> None:
        session = self._session
        reading = self._take(CLOCK)
        value = self._value(at, "MeterValuesAlignedData", reading, "Sample.Clock")
        if value is not None:
            if session is not None:
                self._send_transaction_value(session, value, reading)
            else:
                self._outbox.put(
                    "MeterValues", {"connectorId": CONNECTOR_ID, "meterValue": [value]}
                )
        stop_value = self._value(at, "StopTxnAlignedData", reading, "Sample.Clock")
        if session is not None and stop_value is not None:
            self._stop_samples.append(stop_value)
