"""When a transaction's messages go out, whichever OCPP version carries them.

Told of session starts and stops by the controller, the reporter decides what to report and
when; a `TransactionWire` turns that into the version's messages in the durable outbox (1.6:
StartTransaction, MeterValues, StopTransaction; 2.0.1: TransactionEvent Started, Updated,
Ended). The timing is the same in both, and so are the keys it reads (2.0.1's
SampledDataCtrlr and AlignedDataCtrlr variables share their storage):
- sampled values (MeterValueSampleInterval, MeterValuesSampledData) during a transaction,
  with a Transaction.Begin value at its start;
- clock-aligned ones (ClockAlignedDataInterval, MeterValuesAlignedData) at whole multiples
  of the interval after midnight UTC, with the transaction when one runs;
- StopTxn*Data collected for the end of the transaction (Begin, samples, End).

Energy.Active.Import.Interval is the energy since the previous value of the same series:
the periodic series restarts at each transaction's meterStart, the clock-aligned series runs
on across transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pievse.firmware.clock import Clock
from pievse.firmware.csms.configuration_keys import ConfigurationKeys, Items
from pievse.firmware.csms.key_table import (
    CLOCK_ALIGNED_DATA_INTERVAL,
    METER_VALUE_SAMPLE_INTERVAL,
    METER_VALUES_ALIGNED_DATA,
    METER_VALUES_SAMPLED_DATA,
    STOP_TXN_ALIGNED_DATA,
    STOP_TXN_SAMPLED_DATA,
)
from pievse.firmware.csms.meter_values import Reading, meter_value
from pievse.firmware.event_wait import wait_set
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.firmware.session.stop_reasons import StopReason

PERIODIC = "periodic"
CLOCK = "clock"
MeterValue = dict[str, Any]
"""One 1.6-shaped MeterValue (timestamp, sampledValue with string values); a 2.0.1 wire
converts it."""


class TransactionWire(Protocol):
    """One OCPP version's transaction messages. Each call queues what it makes in the outbox
    at once, in call order, without waiting for the CSMS; the reporter calls them inside the
    store's transaction that records the reading they carry."""

    def started(self, session: Session, begin: MeterValue | None) -> None: ...

    def sampled(self, session: Session, value: MeterValue) -> None: ...

    def aligned(self, session: Session | None, value: MeterValue) -> None: ...

    def stopped(self, session: Session, reason: StopReason, data: list[MeterValue]) -> None:
        """`reason`: the domain's, which the wire names in its own terms; `data`: the
        StopTxn*Data values; `session.stopped_at` is set."""

    def transaction_id(self, session_id: int) -> int | str | None:
        """What the CSMS knows the session as; None while it does not know it yet."""


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
        wire: TransactionWire,
        sessions: SessionLog,
        keys: ConfigurationKeys,
        clock: Clock,
        reading: Callable[[], Reading],
        begin_measurands: Callable[[], list[str]] | None = None,
    ) -> None:
        """`begin_measurands`: what the Transaction.Begin value carries (2.0.1's
        TxStartedMeasurands); by default MeterValuesSampledData's, as on 1.6."""
        self.wire = wire
        self._sessions = sessions
        self._keys = keys
        self._clock = clock
        self._reading = reading
        self._begin_measurands = begin_measurands or (lambda: keys.get(METER_VALUES_SAMPLED_DATA))
        self.session: Session | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._stop_samples: list[MeterValue] = []
        self._interval_start: dict[str, float] = {}
        self._aligned_changed = asyncio.Event()
        keys.on_change(CLOCK_ALIGNED_DATA_INTERVAL, lambda _value: self._aligned_changed.set())

    def transaction_id(self, session_id: int) -> int | str | None:
        return self.wire.transaction_id(session_id)

    # --- SessionListener -----------------------------------------------------------------

    def session_started(self, session: Session) -> None:
        begin = self._reading()
        value = meter_value(
            session.started_at, self._begin_measurands(), begin, "Transaction.Begin"
        )
        with self._sessions.atomic():
            self._note(session, begin)
            self.wire.started(session, value)
        self._follow(session)
        stop_value = self._value(
            session.started_at, STOP_TXN_SAMPLED_DATA, begin, "Transaction.Begin"
        )
        if stop_value is not None:
            self._stop_samples.append(stop_value)

    def session_resumed(self, session: Session) -> None:
        """After a power loss: sampling goes on; the Begin values went out before it."""
        self._follow(session)

    def _follow(self, session: Session) -> None:
        self.session = session
        self._stop_samples = []
        last = self._sessions.last_reading(session.id)
        self._interval_start[PERIODIC] = session.meter_start_wh if last is None else last.energy_wh
        self._sampler = asyncio.get_running_loop().create_task(
            self._sample(session), name="meter-values"
        )

    def session_stopped(self, session: Session, reason: StopReason) -> None:
        self.session = None
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None
        if session.stopped_at is None:
            session = replace(session, stopped_at=self._clock.now())
        assert session.stopped_at is not None
        end = self._value(
            session.stopped_at, STOP_TXN_SAMPLED_DATA, self._take(PERIODIC), "Transaction.End"
        )
        self.wire.stopped(session, reason, [*self._stop_samples, *([end] if end else [])])

    # --- meter values --------------------------------------------------------------------

    def current_value(self, context: str) -> MeterValue | None:
        """A sampled value now (TriggerMessage); None when the meter gave nothing."""
        reading = self._take(PERIODIC, advance=False)
        return self._value(self._clock.now(), METER_VALUES_SAMPLED_DATA, reading, context)

    def _take(self, series: str, advance: bool = True) -> Reading:
        """A reading whose Interval runs from the series' previous value; unless `advance`
        is false, the series' next interval starts here."""
        reading = self._reading()
        start = self._interval_start.get(series)
        m = reading.measurements
        if advance and m is not None and m.energy_import_wh is not None:
            self._interval_start[series] = m.energy_import_wh
        return replace(reading, interval_start_wh=start)

    def _value(self, at: datetime, key: Items, reading: Reading, context: str) -> MeterValue | None:
        return meter_value(at, self._keys.get(key), reading, context)

    def _note(self, session: Session, reading: Reading) -> None:
        """The reading a queued value carries is persisted with it: a power loss never ends
        the session below a value the CSMS was already sent."""
        m = reading.measurements
        if m is not None and m.energy_import_wh is not None:
            self._sessions.note_reading(session.id, m.energy_import_wh, self._clock.now())

    async def _sample(self, session: Session) -> None:
        while True:
            interval = self._keys.get(METER_VALUE_SAMPLE_INTERVAL)
            if interval <= 0:
                await asyncio.sleep(1.0)
                continue
            await asyncio.sleep(interval)
            now = self._clock.now()
            reading = self._take(PERIODIC)
            value = self._value(now, METER_VALUES_SAMPLED_DATA, reading, "Sample.Periodic")
            if value is not None:
                with self._sessions.atomic():
                    self._note(session, reading)
                    self.wire.sampled(session, value)
            stop_value = self._value(now, STOP_TXN_SAMPLED_DATA, reading, "Sample.Periodic")
            if stop_value is not None:
                self._stop_samples.append(stop_value)

    async def run_clock_aligned(self) -> None:
        """A new ClockAlignedDataInterval takes effect at once, not after the old period."""
        while True:
            self._aligned_changed.clear()
            interval = self._keys.get(CLOCK_ALIGNED_DATA_INTERVAL)
            now = self._clock.now()
            wait = None if interval <= 0 else (next_aligned(now, interval) - now).total_seconds()
            if not await wait_set(self._aligned_changed, wait):
                self._aligned(next_aligned(now, interval))

    def _aligned(self, at: datetime) -> None:
        session = self.session
        reading = self._take(CLOCK)
        value = self._value(at, METER_VALUES_ALIGNED_DATA, reading, "Sample.Clock")
        if value is not None:
            with self._sessions.atomic():
                if session is not None:
                    self._note(session, reading)
                self.wire.aligned(session, value)
        stop_value = self._value(at, STOP_TXN_ALIGNED_DATA, reading, "Sample.Clock")
        if session is not None and stop_value is not None:
            self._stop_samples.append(stop_value)
