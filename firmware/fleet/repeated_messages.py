"""A fleet's logging: its boxes say the same things, so each message is shown a few times,
then once more to say the rest are not; and info lines are off unless asked for."""

from __future__ import annotations

import logging

SAME_MESSAGE_SHOWN = 3


class RepeatedMessages(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        seen = self._seen.get(key, 0) + 1
        self._seen[key] = seen
        if seen == SAME_MESSAGE_SHOWN + 1:
            record.msg = f"{record.msg} (further messages like this one are not shown)"
        return seen <= SAME_MESSAGE_SHOWN + 1


def quiet_fleet_logging(verbose: bool) -> None:
    """A thousand boxes' info lines would drown the fleet's report; a spawned shard process
    starts with no handler at all."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    repeated = RepeatedMessages()
    for handler in root.handlers:
        handler.addFilter(repeated)
