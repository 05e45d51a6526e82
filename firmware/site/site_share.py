"""This box's share of a site's supply, as a limit source: what the site allocation gives it
in its own view and in every live peer's, whichever is lowest.

Peers are heard through their claims. One not heard for `peer_timeout_s` (and a grace of
two heartbeats, by which time it has itself fallen back) is silent: it leaves the
allocation, and the failsafe share is held for it on its phases until it returns or says it
left. When this box's own claims stop coming back from the broker for `peer_timeout_s`, or a
metered house goes unread, it falls back to the failsafe share (`main_fuse_a / max_boxes`,
nothing below the minimum), which keeps the sum within the fuse even if every box does the
same. After starting it takes nothing until it has heard the site for a moment, so it never
counts on being alone; one whose own claims never came back at all (UNHEARD) takes nothing:
no peer holds a share for a box it never heard, and the failsafe share would come on top of
the whole fuse they share.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.duty_cycle import MIN_CURRENT_A as MIN_A
from pievse.firmware.energy.site_allocation import (
    PHASES,
    BoxDemand,
    allocate,
    available_a,
    room_a,
    turn_key,
)
from pievse.firmware.site.claim_publication import Published
from pievse.firmware.site.grid_readings import GridReading, GridReadings
from pievse.firmware.site.house_estimate import HouseEstimate
from pievse.firmware.site.site_messages import Claim, Leave, allocated_part, claim_row, view_of
from pievse.firmware.site.site_peers import SitePeers
from pievse.firmware.site.taking_less import TakingLess

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0
"""A claim repeats this often with nothing changed (every box hears every other: a site's
traffic grows with the square of its boxes); a change goes at once."""
JOIN_S = 2.5 * HEARTBEAT_S
"""Long enough to have heard every live peer's heartbeat."""
GRACE_S = 2 * HEARTBEAT_S
BEHIND_S = 5.0
"""A box hearing its own claims back this late cannot keep up with its site (its view is
of a site that was), and takes the failsafe share."""
RECOMPUTE_S = 1.0
"""Even with nothing new heard: peers fall silent, draws confirm a grid reading and the
rotation turns with time."""
HEARD_S = 0.2
"""A view follows what was heard at most this often: a site of dozens of boxes is heard
dozens of times a second."""
HOUSE_PEAK_S = 900.0
"""How long the failsafe share remembers the most the house took."""
SITE_FAILSAFE = "SiteFailsafe"
BROKER_LOST = "no answer from the site's broker"
UNHEARD = "its own claims never came back from the broker (its login, its ACL?)"


@dataclass(frozen=True)
class OwnDemand:
    phases: tuple[int, ...]
    """The site's phases the box draws on now."""
    cap_a: float
    """The lowest of the box's limits other than its share."""
    tier: int | None
    draw_a: tuple[float | None, float | None, float | None]
    """On the site's phases."""
    draw_at: float | None = None
    """When the meter read it (wall seconds)."""
    allowed_a: float = 0.0
    """The most its EV may draw now: the highest pilot offer of the EV's last 5 s."""


class SiteShare:
    def __init__(
        self,
        config: SiteConfig,
        box: str,
        grid: GridReadings,
        demand: Callable[[], OwnDemand],
        clocks: tuple[Callable[[], float], Callable[[], float]],
    ) -> None:
        """`clocks`: monotonic and wall seconds (the rotation turns on the wall clock, which
        every box of the site shares)."""
        self._config = config
        self.box = box
        self._grid = grid
        self._demand = demand
        self._monotonic, self._wall = clocks
        self._peers = SitePeers(config.peer_timeout_s + GRACE_S)
        self._house = HouseEstimate()
        self._started = self._monotonic()
        self._echo_at: float | None = None
        self._first_echo_at: float | None = None
        self._seq = 0
        self._taking = TakingLess()
        self._own: OwnDemand | None = None
        self._want_a = 0.0
        self._view: dict[str, float] | None = None
        """None while in the failsafe: peers then count no view of ours."""
        self._computed_at = 0.0
        self._echoed: Claim | None = None
        """This box's last claim as the broker passed it back."""
        self._served_since: float | None = None
        self._waiting_since: float | None = None
        self._published = Published()
        self._dirty = True
        """A claim changed what the allocation is computed from."""
        self._held_stale = True
        """A peer's view of this box changed, or the live peers did."""
        self._held_a = 0.0
        self._grid_used: GridReading | None = None
        self._behind_s = 0.0
        self._house_peak: deque[tuple[float, float]] = deque()
        self.state = "joining"
        self.reason: str | None = None
        self.share_a = 0.0
        self.ignored = 0
        self.held_by: str | None = None
        """The box whose view gives this one its share (the lowest)."""
        self.house_a: list[float] | None = None
        """The house's load per phase as last told from the grid reading (None: unmetered)."""

    @property
    def failsafe_a(self) -> float:
        """`main_fuse_a / max_boxes`; on a metered house, what the fuse leaves after the most
        the house took lately: a box falls back when it knows least about the site, and
        the house does not stop drawing then."""
        house = self._house_peak[0][1] if self._house_peak else 0.0
        share = max(0.0, self._config.main_fuse_a - house) / self._config.max_boxes
        return share if share >= MIN_A else 0.0

    def _note_house(self, now: float, house: list[float]) -> None:
        """The most the house took over `HOUSE_PEAK_S` (kept as a falling sequence)."""
        peak = max(house)
        while self._house_peak and self._house_peak[-1][1] <= peak:
            self._house_peak.pop()
        self._house_peak.append((now, peak))
        while now - self._house_peak[0][0] > HOUSE_PEAK_S:
            self._house_peak.popleft()

    def receive(self, message: Claim | Leave) -> None:
        now = self._monotonic()
        if message.box == self.box:
            self._echo_at = now
            self._first_echo_at = self._first_echo_at or now
            self._behind_s = self._wall() - message.at
            if isinstance(message, Claim):
                self._house.draw(self.box, message.draw_at or message.at, message.draw_a)
                self._dirty |= allocated_part(self._echoed) != allocated_part(message)
                self._echoed = message
            return
        if isinstance(message, Leave):
            self._house.forget(message.box)
            if self._peers.forget(message.box):
                log.info("site %s: %s left", self._config.id, message.box)
                self._dirty = True
            return
        before = self._peers.hear(message, now)
        if before is None:
            log.info("site %s: %s joined", self._config.id, message.box)
        self._house.draw(message.box, message.draw_at or message.at, message.draw_a)
        self._dirty |= before is None or allocated_part(before) != allocated_part(message)
        self._held_stale |= before is None or view_of(before, self.box) != view_of(
            message, self.box
        )

    def limit_a(self, _now: datetime) -> float:
        """Lowered at once, raised only past `[site] hysteresis_a`: a grid reading's noise
        does not move the pilot (whose duty may change only every 5 s) up and down."""
        share = self._refresh()
        if self.state == "shared" and share > self.share_a:
            capped = min(share, self._room_a())
            share = max(self.share_a, capped if capped >= MIN_A - 0.05 else 0.0)
        raise_by = self._config.hysteresis_a
        if share < self.share_a or share >= self.share_a + raise_by or not share:
            self.share_a = share
        self._follow_turn()
        return self.share_a

    def _room_a(self) -> float:
        """A raise waits for the decreases it depends on: the others count with what their
        EVs may still draw (their claims' `taken_a`)."""
        own, now = self._own, self._monotonic()
        if own is None:
            return 0.0
        reserved = self._peers.held_for_silent_a(now, self.failsafe_a)
        available = available_a(self._config.main_fuse_a, self.house_a, reserved)
        taken = [(p.claim.phases, p.claim.taken_a or 0.0) for p in self._peers.live(now)]
        return room_a(available, taken, own.phases)

    def _taken_a(self) -> float:
        """What this box's EV may draw: its share, or more while its EV still follows a
        decrease."""
        own = self._own
        return max(self.share_a, 0.0 if own is None else own.allowed_a)

    def _follow_turn(self) -> None:
        own = self._own
        wall = self._wall()
        if self.share_a >= MIN_A:
            self._served_since = self._served_since or wall
            self._waiting_since = None
            return
        self._served_since = None
        waiting = own is not None and own.tier == 0 and self._want_a >= MIN_A
        self._waiting_since = (self._waiting_since or wall) if waiting else None

    def degraded(self) -> str | None:
        return SITE_FAILSAFE if self.state == "failsafe" else None

    def _refresh(self) -> float:
        now = self._monotonic()
        own = self._demand()
        drawn = max((d or 0.0) for d in own.draw_a)
        self._want_a = self._taking.want_a(own.cap_a, self.share_a, drawn, now)
        self._own = own  # for the next claim; the view waits for it to come back
        failsafe = self._failsafe_reason(now)
        if failsafe is not None:
            share = 0.0 if failsafe == UNHEARD else self.failsafe_a
            if (self.state, self.reason == UNHEARD) != ("failsafe", failsafe == UNHEARD):
                log.warning("site %s: failsafe share %.1f A (%s)", self._config.id,
                            share, failsafe)  # fmt: skip
            self.state, self.reason, self._view = "failsafe", failsafe, None
            if failsafe == BROKER_LOST:
                self._first_echo_at = None  # back, it hears the site anew before it shares
            return share
        since = now - self._computed_at
        self._dirty |= self._grid.latest is not self._grid_used
        if self._view is None or since >= RECOMPUTE_S or (self._dirty and since >= HEARD_S):
            self._view = self._compute_view(now)
            self._computed_at, self._dirty, self._held_stale = now, False, True
        first = self._first_echo_at
        if first is None or now - first < JOIN_S:
            return self.failsafe_a if self.state == "failsafe" else 0.0
        if self.state != "shared":
            log.info("site %s: sharing with %d boxes", self._config.id, len(self._peers) + 1)
            self._held_stale = True
        self.state, self.reason = "shared", None
        if self._held_stale:
            self._held_a, self.held_by = self._lowest_view(now)
            self._held_stale = False
        return self._held_a if self._held_a >= MIN_A - 0.05 else 0.0

    def _lowest_view(self, now: float) -> tuple[float, str]:
        """This box's share in its own view and in each live peer's, the lowest, and whose."""
        assert self._view is not None
        mine, held_by = self._view.get(self.box, 0.0), self.box
        for peer in self._peers.live(now):
            theirs = view_of(peer.claim, self.box)
            if theirs is not None and theirs < mine:
                mine, held_by = theirs, peer.claim.box
        return mine, held_by

    def _failsafe_reason(self, now: float) -> str | None:
        heard = self._echo_at if self._echo_at is not None else self._started
        if now - heard > self._config.peer_timeout_s:
            return UNHEARD if self._echo_at is None else BROKER_LOST
        if self._behind_s > BEHIND_S:
            return f"{self._behind_s:.0f} s behind the site's messages"
        if self._config.house_metered and self._grid.fresh(self._config.grid_timeout_s) is None:
            return "the site's grid reading is stale"
        return None

    def silent(self, now: float | None = None) -> list[str]:
        """The peers not heard for `[site] peer_timeout_s` and a grace of two heartbeats."""
        return self._peers.silent(self._monotonic() if now is None else now)

    def _compute_view(self, now: float) -> dict[str, float]:
        """From the claims as the broker passed them on, this box's own too (not its live
        readings): every box computes from the same inputs, so the views agree and the
        lowest of them is everybody's share, not an intersection of different choices."""
        live = self._peers.live(now)
        reserved = self._peers.held_for_silent_a(now, self.failsafe_a)
        claims = [p.claim for p in live] + ([] if self._echoed is None else [self._echoed])
        house = None
        reading = self._grid.fresh(self._config.grid_timeout_s)
        self._grid_used = self._grid.latest
        if self._config.house_metered and reading is not None:
            self._house.grid(self.taken_wall(reading), reading.current_a)
            house = self._house.house_a({self.box: [0.0] * PHASES} | self._allowed(claims))
            if house is not None:
                self._note_house(now, house)
        self.house_a = house
        wall, rotation = self._wall(), self._config.rotation_s
        demands = [
            BoxDemand(
                c.box,
                c.phases,
                c.want_a,
                c.tier,
                c.priority,
                turn_key(c.served_since, c.waiting_since, wall, rotation),
            )
            for c in claims
            if c.tier is not None
        ]
        shares = allocate(available_a(self._config.main_fuse_a, house, reserved), demands, MIN_A)
        return {p.claim.box: 0.0 for p in live} | {self.box: 0.0} | shares

    def _allowed(self, claims: list[Claim]) -> dict[str, list[float]]:
        """What each box may draw on each site phase: the share it said it takes (this box's
        own as it is now). Not what a view would give it: a view made from a house told too
        low would hide the house in what the boxes do not draw."""
        allowed = {}
        for claim in claims:
            taken = self._taken_a() if claim.box == self.box else (claim.taken_a or 0.0)
            allowed[claim.box] = [taken if p in claim.phases else 0.0 for p in range(PHASES)]
        return allowed

    def taken_wall(self, reading: GridReading) -> float:
        """When the grid meter was read, on the wall clock the site shares."""
        if reading.taken_wall is not None:
            return reading.taken_wall
        return self._wall() - (self._monotonic() - reading.at)

    def _demand_key(self, own: OwnDemand) -> tuple[Any, ...]:
        """What of the demand, changed, makes a claim due at once."""
        return (own.phases, own.tier, round(self._want_a, 1))

    def publish_due(self) -> bool:
        """A claim is due at once when the demand, the draw or the share taken changed, or
        the view moved a share."""
        own = self._own
        if own is None:
            return False
        return self._published.outdated_by(
            self._demand_key(own), own.draw_a, self._taken_a(), self._view
        )

    def claim(self) -> Claim:
        own = self._own or self._demand()
        self._seq += 1
        self._published = published = Published(
            self._demand_key(own),
            own.draw_a,
            self._taken_a(),
            None if self._view is None else dict(self._view),
        )
        return Claim(
            self.box,
            self._seq,
            self._wall(),
            own.phases,
            self._want_a,
            own.tier,
            self._config.priority,
            own.draw_a,
            published.view,
            self._served_since,
            self._waiting_since,
            own.draw_at,
            published.taken_a,
        )

    def leave(self) -> Leave:
        self._seq += 1
        return Leave(self.box, self._seq, self._wall())

    def describe(self) -> dict[str, Any]:
        now = self._monotonic()
        silent = set(self.silent(now))
        boxes = [
            claim_row(peer.claim, self._view, now - peer.heard_at, box in silent)
            for box, peer in self._peers.by_box()
        ]
        own = self._own
        if own is not None:
            mine = Claim(self.box, 0, 0.0, own.phases, self._want_a, own.tier, 0, own.draw_a, None)
            boxes.append(claim_row(mine, self._view, 0.0, False))
        return {
            "id": self._config.id,
            "state": self.state,
            "reason": self.reason,
            "share_a": round(self.share_a, 2),
            "held_by": self.held_by,
            "failsafe_a": round(self.failsafe_a, 2),
            "house_a": None if self.house_a is None else [round(h, 2) for h in self.house_a],
            "max_boxes": self._config.max_boxes,
            "boxes": sorted(boxes, key=lambda b: b["box"]),
            "ignored_messages": self.ignored,
        }
