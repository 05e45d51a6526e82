"""Which of a site's messages are new: a box's message counts only when it is newer than the
last one heard from that box, so a message recorded off the broker and played back (its
signature still good, its time still within the clock window) changes nothing.

Newer means a later send time (`at`, the sender's wall clock), and on the same time a
higher sequence number. The time comes first because it survives a restart: a box that
restarts counts its sequence from 1 again, and its peers still hear it at once, since its
clock has moved on. A box whose clock steps back is not heard until its clock has passed
the last time heard from it, at most the clock window later: a sender is forgotten once
its last time has left the clock window, as by then the site refuses a replay of anything
it sent before for its time alone.
"""

from __future__ import annotations

MAX_SENDERS = 4096
"""More senders than any site has: a broker client inventing names (on a site that does
not sign) cannot make the box remember without bound."""


class MessageOrder:
    def __init__(self, window_s: float) -> None:
        """`window_s`: how far from our clock a message's time may be (the codec's check)."""
        self._window_s = window_s
        self._last: dict[str, tuple[float, int]] = {}

    def newer(self, sender: str, at: float, seq: int, wall: float) -> bool:
        """True, and remembered, when (`at`, `seq`) comes after the last heard from `sender`;
        `wall`: our clock now."""
        self._forget(wall)
        last = self._last.get(sender)
        if last is not None and (at, seq) <= last:
            return False
        if last is None and len(self._last) >= MAX_SENDERS:
            return False
        self._last[sender] = (at, seq)
        return True

    def _forget(self, wall: float) -> None:
        stale = [s for s, (at, _) in self._last.items() if wall - at > self._window_s]
        for sender in stale:
            del self._last[sender]
