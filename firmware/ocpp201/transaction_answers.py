"""What the CSMS answers to a TransactionEvent about the token in it (E05, C10): the
authorization cache learns the idTokenInfo, and a token it does not accept ends the
session's authorization however the session began (the reader's cache, the local list, an
offline start).

Not Accepted, on an event of a running transaction, is E05's (`InvalidIdReaction`). An
Ended event's answer only teaches the cache: its transaction is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.outbox import Message, Outbox
from pievse.firmware.ocpp201.identity import id_tag_info

log = logging.getLogger(__name__)


class TransactionAnswers:
    def __init__(
        self, outbox: Outbox, authorizer: Authorizer, refused: Callable[[int], None]
    ) -> None:
        """`refused`: the reaction to a running session's token refused (InvalidIdReaction)."""
        self._authorizer = authorizer
        self._refused = refused
        outbox.answer_handlers["TransactionEvent"] = self.answered

    def answered(self, message: Message, answer: dict[str, Any]) -> None:
        token = message.payload.get("idToken")
        info = answer.get("idTokenInfo")
        if not isinstance(token, dict) or not isinstance(info, dict):
            return
        try:
            checked = id_tag_info(info)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("TransactionEvent answer: idTokenInfo not understood: %s", exc)
            return
        self._authorizer.learn(token["idToken"], checked)
        session_id = message.session_id
        if checked.status == "Accepted" or session_id is None:
            return
        if message.payload.get("eventType") == "Ended":
            return
        log.warning("CSMS refused the token of session %d: %s", session_id, checked.status)
        self._refused(session_id)
