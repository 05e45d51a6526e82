"""The other boxes of a site as one box hears them: each one's last claim and when it came,
which of them are live, and which are silent (not heard for longer than `live_for_s`), for
whom the failsafe share is held on their phases."""

from __future__ import annotations

from dataclasses import dataclass

from pievse.firmware.energy.site_allocation import PHASES
from pievse.firmware.site.site_messages import Claim


@dataclass
class Peer:
    claim: Claim
    heard_at: float


class SitePeers:
    def __init__(self, live_for_s: float) -> None:
        self._live_for_s = live_for_s
        self._peers: dict[str, Peer] = {}

    def hear(self, claim: Claim, now: float) -> Claim | None:
        """Keeps `claim` as its box's latest; returns the one it replaces (None: a box not
        heard before)."""
        known = self._peers.get(claim.box)
        self._peers[claim.box] = Peer(claim, now)
        return None if known is None else known.claim

    def forget(self, box: str) -> bool:
        """A box that said it left; False when it was not known."""
        return self._peers.pop(box, None) is not None

    def live(self, now: float) -> list[Peer]:
        return [p for p in self._peers.values() if now - p.heard_at <= self._live_for_s]

    def silent(self, now: float) -> list[str]:
        live = {p.claim.box for p in self.live(now)}
        return sorted(box for box in self._peers if box not in live)

    def held_for_silent_a(self, now: float, failsafe_a: float) -> list[float]:
        """Per site phase: the failsafe share held for each silent box on its phases (it
        has itself fallen back to it)."""
        held = [0.0] * PHASES
        for box in self.silent(now):
            for p in self._peers[box].claim.phases:
                held[p] += failsafe_a
        return held

    def by_box(self) -> list[tuple[str, Peer]]:
        return sorted(self._peers.items())

    def __len__(self) -> int:
        return len(self._peers)
