"""One WebSocket session with the CSMS, in either dialect.

The `ocpp` library supplies the message classes, the official 1.6 and 2.0.1 schemas, the
`@on`/`@after` route maps (joined in `routes`) and the payload dataclasses; its ChargePoint
class is not used. Four things are done here instead, because the library's versions do not
fit a charge point:
- incoming frames are checked with the dialect's OCPP-J error codes (see `frames`), and a
  frame that cannot be parsed still gets a CALLERROR instead of silence;
- each incoming CALL is answered in its own task, so a handler that itself asks the CSMS
  something (Authorize before a remote start) cannot block the reader it waits on;
- an outgoing request fails at once when the connection drops, instead of after its timeout;
- a handler's `after` step gets its own request and answer (see `routes`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, CallResult
from websockets.exceptions import ConnectionClosed

from pievse.firmware.rpc.dialects import Dialect
from pievse.firmware.rpc.frames import (
    FrameError,
    check_action,
    check_text,
    leading_id,
    parse_frame,
    redacted,
    validate,
)
from pievse.firmware.rpc.routes import Routes
from pievse.firmware.rpc.traffic import NO_TRAFFIC, TrafficObserver

log = logging.getLogger(__name__)
frames_log = logging.getLogger("pievse.ocpp.frames")
SECRET_ACTIONS = frozenset({"ChangeConfiguration", "SetVariables", "SetNetworkProfile"})
"""Their refusal's description may quote the secret they set."""
MAX_CALLS_IN_PROGRESS = 16
"""OCPP-J 4.1.1 allows one; a few more tolerate a hasty CSMS, the rest are refused. The reader
never waits for a call to finish: a handler's `after` step may itself wait for an answer
only the reader can deliver."""


class RequestFailed(Exception):
    """The CSMS answered with a CALLERROR or an invalid payload, or did not answer in time."""


class ConnectionLost(RequestFailed):
    """The connection went while the request waited; it was not an attempt that failed."""


class CsmsConnection:
    def __init__(
        self,
        dialect: Dialect,
        charge_point_id: str,
        websocket: Any,
        routes: Routes,
        response_timeout_s: float,
        on_traffic: Callable[[], None],
        on_invalid: Callable[[str], None] = lambda _text: None,
        traffic: TrafficObserver = NO_TRAFFIC,
    ) -> None:
        self._traffic = traffic
        self.dialect = dialect
        self.id = charge_point_id
        self._connection = websocket
        self._routes = routes
        self._response_timeout = response_timeout_s
        self._on_traffic = on_traffic
        self._on_invalid = on_invalid
        self._pending: dict[str, asyncio.Future[CallResult | CallError]] = {}
        self._call_tasks: set[asyncio.Task[None]] = set()
        self._request_lock = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        """Reads frames until the connection closes; then every waiting request fails."""
        try:
            async for raw in self._connection:
                self._on_traffic()
                if frames_log.isEnabledFor(logging.DEBUG):
                    frames_log.debug("%s <- %s", self.id, redacted(raw))
                try:
                    await self.route_message(raw)
                except (ConnectionClosed, asyncio.CancelledError):
                    raise
                except Exception:
                    # No frame may end the connection (and the calls in flight with it).
                    log.exception("frame not handled: %.200r", redacted(raw))
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost("connection closed"))
            for task in self._call_tasks:
                task.cancel()

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            if isinstance(raw_msg, bytes):
                raise FrameError(
                    self.dialect.code("RpcFrameworkError"),
                    "a binary frame: OCPP-J frames are text",
                    leading_id(raw_msg),
                )
            message = parse_frame(raw_msg, self.dialect)
        except FrameError as exc:
            # The security log records it (InvalidMessages, a flood summed up), and logs it.
            log.debug("CSMS sent a malformed frame (%s): %.200r", exc, redacted(raw_msg))
            self._on_invalid(f"malformed frame: {exc}")
            await self._send(exc.call_error().to_json())
            return
        if isinstance(message, Call):
            self._traffic.received(message.action)
            if len(self._call_tasks) >= MAX_CALLS_IN_PROGRESS:
                self._on_invalid(f"{message.action!a}: more than {MAX_CALLS_IN_PROGRESS} calls")
                refused = FrameError(
                    "GenericError",
                    f"{MAX_CALLS_IN_PROGRESS} calls are waiting for their answers "
                    "(OCPP-J 4.1.1: one at a time)",
                    message.unique_id,
                )
                await self._send(refused.call_error().to_json())
                return
            task = asyncio.create_task(self._answer_safely(message), name=f"ocpp-{message.action}")
            self._call_tasks.add(task)
            task.add_done_callback(self._call_tasks.discard)
            return
        future = self._pending.get(message.unique_id)
        if future is None or future.done():
            log.warning("answer to no open request ignored: %r", message)
            return
        future.set_result(message)

    async def _answer_safely(self, message: Call) -> None:
        try:
            await self._answer(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("answering %s failed", message.action)

    async def _answer(self, message: Call) -> None:
        try:
            check_action(message, self._routes.served, self.dialect)
            check_text(message, self.dialect)
            validate(message, self.dialect)
            answer, result = await self._run_handler(message)
        except FrameError as exc:
            secret = message.action in SECRET_ACTIONS  # the value may be a key
            ours = exc.code == "InternalError"
            log.log(
                logging.WARNING if ours else logging.DEBUG,
                "CALL %r refused: %s",
                message.action,
                exc.code if secret else exc,
            )
            if not ours:
                self._on_invalid(f"{message.action!a}: {exc.code}")
            await self._send(exc.call_error(message.unique_id).to_json())
            return
        await self._send(result.to_json())
        outcome = self._routes.after(message.action, camel_to_snake_case(message.payload), answer)
        if inspect.isawaitable(outcome):
            await outcome

    async def _run_handler(self, message: Call) -> tuple[Any, CallResult]:
        """(what the handler answered, the CALLRESULT made of it)."""
        handler = self._routes.on(message.action)
        try:
            response = handler(**camel_to_snake_case(message.payload))
            if inspect.isawaitable(response):
                response = await response
        except (FrameError, asyncio.CancelledError):
            raise
        except OCPPError as exc:
            code = self.dialect.code(exc.code)
            raise FrameError(code, str(exc.description), message.unique_id) from exc
        except Exception as exc:
            log.exception("handler for %s failed", message.action)
            raise FrameError("InternalError", "handler failed", message.unique_id) from exc
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        result = message.create_call_result(payload)
        try:
            validate(result, self.dialect)
        except FrameError as exc:
            log.error("our %s answer does not match the schema: %s", message.action, exc)
            raise FrameError("InternalError", "invalid answer", message.unique_id) from exc
        return response, result

    async def request(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Sends one CALL and returns the validated answer; one at a time (OCPP-J 4.1.1)."""
        message = Call(str(uuid.uuid4()), action, payload)
        validate(message, self.dialect)
        async with self._request_lock:
            if self._closed:
                raise ConnectionLost("connection closed")
            loop = asyncio.get_running_loop()
            sent_at = loop.time()
            try:
                answer = await self._exchange(message)
            except ConnectionLost:
                self._traffic.answered(action, loop.time() - sent_at, "lost", None)
                raise
            except RequestFailed:
                self._traffic.answered(action, loop.time() - sent_at, "timeout", None)
                raise
        latency_s = loop.time() - sent_at
        if isinstance(answer, CallError):
            self._traffic.answered(action, latency_s, answer.error_code, None)
            raise RequestFailed(
                f"{action}: CALLERROR {answer.error_code}: {answer.error_description}"
            )
        answer.action = action
        try:
            validate(answer, self.dialect)
        except FrameError as exc:
            self._traffic.answered(action, latency_s, "invalid", None)
            raise RequestFailed(f"{action}: invalid answer: {exc}") from None
        answered: dict[str, Any] = answer.payload
        self._traffic.answered(action, latency_s, "ok", answered)
        return answered

    async def _exchange(self, message: Call) -> CallResult | CallError:
        """Sends the CALL and waits for its answer (the caller holds the request lock)."""
        future: asyncio.Future[CallResult | CallError] = asyncio.get_running_loop().create_future()
        self._pending[message.unique_id] = future
        try:
            await self._send(message.to_json())
            async with asyncio.timeout(self._response_timeout):
                return await future
        except ConnectionClosed:
            raise ConnectionLost("connection closed") from None
        except TimeoutError:
            raise RequestFailed(
                f"no answer to {message.action} within {self._response_timeout:g} s"
            ) from None
        finally:
            self._pending.pop(message.unique_id, None)

    async def answers_sent(self) -> None:
        """Until every incoming CALL has been answered (and its `after` step has run)."""
        while self._call_tasks:
            await asyncio.wait(set(self._call_tasks))

    async def _send(self, message: str) -> None:
        self._on_traffic()
        frames_log.debug("%s -> %s", self.id, message)
        await self._connection.send(message)
