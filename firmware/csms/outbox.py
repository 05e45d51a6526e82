"""Messages to the CSMS, sent one at a time in the order they were made.

Transaction messages (StartTransaction, StopTransaction, MeterValues of a transaction) are
written to SQLite before they are sent and deleted only once the CSMS answered, so they
survive outages and power loss. A front's resolver may complete a payload when it is sent
(1.6 puts the CSMS's transactionId in place of the local session id); one that gives None
drops the message. A CALLERROR or a missing answer is retried after
TransactionMessageRetryInterval x attempts, up to TransactionMessageAttempts (OCPP 1.6
section 4.9; 2.0.1's MessageAttempts and MessageAttemptInterval share their storage).
Other messages (status, heartbeat, triggered ones) live in memory only: after an outage the
current state is sent instead.
Security events are durable too, without a session: an event raised offline must arrive.

Each durable message is tagged with the OCPP version it was made in. A box that changed
version sends only its own version's; the others stay in the table, untouched and counted
(`held`), until the box speaks their version again: rewriting a transaction the CSMS knows in
another version's terms would be a guess.

Messages that are not transaction messages are bounded (`max_other`): past the bound the
oldest of them is dropped and counted (`dropped`), so nothing a peer provokes can grow the
queue without end; a transaction message is never dropped.

What an answer changes (the transactionId a StartTransaction gets) and the message's removal
commit together, so a power loss in between re-sends the message rather than losing either.
Delivery is at least once: a message the CSMS answered just before a power loss goes again,
unchanged, and a CSMS recognises it (same connector, tag, meter value and timestamp).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import (
    TRANSACTION_MESSAGE_ATTEMPTS,
    TRANSACTION_MESSAGE_RETRY_INTERVAL,
)
from pievse.firmware.persistence.store import Store
from pievse.firmware.rpc.connection import ConnectionLost, RequestFailed

log = logging.getLogger(__name__)
Request = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
AnswerHandler = Callable[["Message", dict[str, Any]], None]
Resolver = Callable[["Message"], dict[str, Any] | None]


@dataclass
class Message:
    action: str
    payload: dict[str, Any]
    row_id: int | None = None
    """Set for durable (transaction) messages."""
    session_id: int | None = None
    attempts: int = 0
    done: asyncio.Future[dict[str, Any] | None] | None = field(default=None, repr=False)


MAX_OTHER_MESSAGES = 200
ANY_VERSION = "*"


class Outbox:
    def __init__(
        self,
        store: Store,
        keys: ConfigurationKeys,
        max_other: int = MAX_OTHER_MESSAGES,
        version: str = "1.6",
    ) -> None:
        self._store = store
        self._db = store.db
        self._table = DurableOutbox(store, version)
        self._keys = keys
        self._queue: deque[Message] = deque()
        self._in_flight: Message | None = None
        self._wake = asyncio.Event()
        self.answer_handlers: dict[str, AnswerHandler] = {}
        self.resolvers: dict[str, Resolver] = {}
        """action -> the payload as it goes out, for a transaction message."""
        self._max_other = max_other
        self._others = 0
        """Messages in the queue that are not transaction messages."""
        self.dropped = 0
        rows = self._db.execute(
            "SELECT id, action, payload, session_id, attempts FROM outbox "
            "WHERE version IN (?, ?) ORDER BY id",
            (version, ANY_VERSION),
        ).fetchall()
        for row_id, action, payload, session_id, attempts in rows:
            self._add(Message(action, json.loads(payload), row_id, session_id, attempts))
        if rows:
            log.info("%d transaction message(s) waiting from before the restart", len(rows))
        self.held = self._db.execute(
            "SELECT COUNT(*) FROM outbox WHERE version NOT IN (?, ?)", (version, ANY_VERSION)
        ).fetchone()[0]
        if self.held:
            log.warning(
                "%d queued message(s) were made in another OCPP version than %s: kept, and "
                "sent when the box speaks that version again",
                self.held,
                version,
            )

    def put_transaction(self, action: str, payload: dict[str, Any], session_id: int) -> None:
        self.put_durable(action, payload, session_id)

    def put_durable(
        self, action: str, payload: dict[str, Any], session_id: int | None = None
    ) -> None:
        """Kept across outages and restarts: transaction messages, and security events."""
        row_id = self._table.put(action, payload, session_id)
        self._add(Message(action, payload, row_id, session_id))

    def put(self, action: str, payload: dict[str, Any]) -> asyncio.Future[dict[str, Any] | None]:
        """A message that is not kept across outages; the future gives its answer or None."""
        done: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._add(Message(action, payload, done=done))
        return done

    def put_front(self, action: str, payload: dict[str, Any]) -> None:
        """Ahead of everything waiting (the current status after a reconnect), but never
        ahead of a message already on the wire."""
        position = 1 if self._in_flight is not None else 0
        self._add(Message(action, payload), position)

    def _add(self, message: Message, position: int | None = None) -> None:
        if position is None:
            self._queue.append(message)
        else:
            self._queue.insert(position, message)
        if message.session_id is None:
            self._others += 1
            if self._others > self._max_other:
                self._drop_oldest_other(message)
        self._wake.set()

    def _drop_oldest_other(self, added: Message) -> None:
        """Never the one just added (put_front puts the newest first) nor one on the wire."""
        oldest = next(
            (
                m
                for m in self._queue
                if m.session_id is None and m is not self._in_flight and m is not added
            ),
            None,
        )
        if oldest is None:
            return
        self._queue.remove(oldest)
        self._forget(oldest, None)
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning("outbox full: %s dropped (%d dropped so far)", oldest.action, self.dropped)

    def drop_volatile(self) -> None:
        """At a disconnect: what was not sent is stale by the time the link is back."""
        kept: deque[Message] = deque()
        for message in self._queue:
            if message.row_id is not None:
                kept.append(message)
            else:
                self._forget(message, None)
        self._queue = kept

    def pending_transaction_messages(self, session_id: int | None = None) -> int:
        """Of every session, or of one."""
        return sum(
            1
            for m in self._queue
            if m.session_id is not None and session_id in (None, m.session_id)
        )

    async def drained(self) -> None:
        """Until no transaction message waits (a soft reset waits for its StopTransaction)."""
        while self.pending_transaction_messages():
            await asyncio.sleep(0.05)

    async def pump(self, request: Request) -> None:
        """Sends while the link is registered; returns only by the connection failing."""
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            message = self._queue[0]
            payload = self._resolve(message)
            if payload is None:
                self._finish(message, None)
                continue
            self._in_flight = message
            try:
                answer = await request(message.action, payload)
            except ConnectionLost:
                raise
            except RequestFailed as exc:
                await self._failed(message, str(exc))
                continue
            finally:
                self._in_flight = None
            handler = self.answer_handlers.get(message.action)
            with self._store.atomic():
                if handler is not None:
                    handler(message, answer)
                self._finish(message, answer)

    def _resolve(self, message: Message) -> dict[str, Any] | None:
        resolver = self.resolvers.get(message.action)
        if message.session_id is None or resolver is None:
            return message.payload
        return resolver(message)

    async def _failed(self, message: Message, reason: str) -> None:
        if message.row_id is None:
            log.warning("%s not delivered: %s", message.action, reason)
            self._finish(message, None)
            return
        message.attempts += 1
        limit = self._keys.get(TRANSACTION_MESSAGE_ATTEMPTS)
        if message.attempts >= limit:
            log.error("%s given up after %d attempts: %s", message.action, limit, reason)
            self._finish(message, None)
            return
        self._db.execute(
            "UPDATE outbox SET attempts=? WHERE id=?", (message.attempts, message.row_id)
        )
        delay = self._keys.get(TRANSACTION_MESSAGE_RETRY_INTERVAL) * message.attempts
        log.warning(
            "%s attempt %d failed (%s); retry in %d s",
            message.action,
            message.attempts,
            reason,
            delay,
        )
        await asyncio.sleep(delay)

    def _finish(self, message: Message, answer: dict[str, Any] | None) -> None:
        if self._queue and self._queue[0] is message:
            self._queue.popleft()
        self._forget(message, answer)

    def _forget(self, message: Message, answer: dict[str, Any] | None) -> None:
        if message.session_id is None:
            self._others -= 1
        if message.row_id is not None:
            self._db.execute("DELETE FROM outbox WHERE id=?", (message.row_id,))
        if message.done is not None and not message.done.done():
            message.done.set_result(answer)


class DurableOutbox:
    """The outbox's table without a running link: what another process (the CLI) queues is
    sent by the box from its next start. `version`: what the messages put here are in;
    ANY_VERSION for one both versions write alike (SecurityEventNotification)."""

    def __init__(self, store: Store, version: str = ANY_VERSION) -> None:
        self._db = store.db
        self._version = version

    def put(self, action: str, payload: dict[str, Any], session_id: int | None = None) -> int:
        cursor = self._db.execute(
            "INSERT INTO outbox(action, payload, session_id, version) VALUES(?, ?, ?, ?)",
            (action, json.dumps(payload), session_id, self._version),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid
