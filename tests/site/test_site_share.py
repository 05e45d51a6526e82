"""A site's boxes as SiteShare objects passing their claims through the codec in memory, on
one injected clock: the join wait, the lowest view, a silent peer held at the failsafe
share, the broker's loss and a stale metered house, a leave, and an EV that takes less."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from pievse.firmware.clock import ManualClock
from pievse.firmware.config import SiteConfig
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.site_messages import Claim, SiteCodec, SiteMessageError
from pievse.firmware.site.site_share import (
    BEHIND_S,
    HEARTBEAT_S,
    OwnDemand,
    SiteShare,
)

SITE = SiteConfig(id="garage", main_fuse_a=32.0, max_boxes=4, peer_timeout_s=10.0)


@dataclass
class Box:
    share: SiteShare
    demand: OwnDemand

    def limit(self, clock: ManualClock) -> float:
        return self.share.limit_a(clock.now())


class Site:
    def __init__(self, clock: ManualClock, config: SiteConfig = SITE) -> None:
        self.clock = clock
        self.config = config
        self.codec = SiteCodec(config.id, config.secret)
        self.grid = GridReadings(clock.monotonic, lambda: None)
        self.boxes: dict[str, Box] = {}
        self.unreachable: set[str] = set()

    def add(self, name: str, want_a: float = 32.0, tier: int | None = 0) -> Box:
        demand = OwnDemand((0, 1, 2), want_a, tier, (0.0, 0.0, 0.0))
        clocks = (self.clock.monotonic, lambda: self.clock.now().timestamp())
        box = Box(SiteShare(self.config, name, self.grid, lambda: box.demand, clocks), demand)
        self.boxes[name] = box
        return box

    def heartbeat(self) -> None:
        """Every reachable box computes, then claims to every reachable box (itself too)."""
        for box in self.boxes.values():
            box.limit(self.clock)
        payloads = {
            name: self.codec.encode(box.share.claim())
            for name, box in self.boxes.items()
            if name not in self.unreachable
        }
        for sender, payload in payloads.items():
            for name, box in self.boxes.items():
                if name not in self.unreachable:
                    box.share.receive(self.codec.decode(payload, sender, self.wall()))

    def wall(self) -> float:
        return self.clock.now().timestamp()

    def run(self, beats: int) -> None:
        """`beats` heartbeats, a heartbeat apart."""
        for _ in range(beats):
            self.clock.advance(HEARTBEAT_S)
            self.heartbeat()

    def limits(self) -> dict[str, float]:
        return {name: box.limit(self.clock) for name, box in self.boxes.items()}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_a_box_takes_nothing_until_it_has_heard_the_site_then_its_fair_share(
    clock: ManualClock,
) -> None:
    site = Site(clock)
    for name in ("a", "b", "c"):
        site.add(name)
    site.heartbeat()
    assert set(site.limits().values()) == {0.0}, "joining: nothing yet"
    site.run(3)
    assert site.limits() == {"a": 10.66, "b": 10.66, "c": 10.66}
    assert site.boxes["a"].share.describe()["state"] == "shared"


def test_a_newcomer_waits_for_the_others_to_see_its_claim_and_they_make_room(
    clock: ManualClock,
) -> None:
    site = Site(clock)
    site.add("a")
    site.add("b")
    site.run(4)
    assert site.limits() == {"a": 16.0, "b": 16.0}
    late = site.add("c")
    late.limit(clock)
    assert late.limit(clock) == 0.0
    site.run(1)
    assert site.limits()["a"] <= 10.67, "the others gave room once they heard the claim"
    assert late.limit(clock) == 0.0, "still joining"
    site.run(3)
    limits = site.limits()
    assert limits == {"a": 10.66, "b": 10.66, "c": 10.66}
    assert sum(limits.values()) <= 32.0


def test_a_box_takes_the_lowest_share_any_live_view_gives_it(clock: ManualClock) -> None:
    site = Site(clock)
    a = site.add("a")
    site.add("b")
    site.run(4)
    lower = Claim("b", 99, site.wall(), (0, 1, 2), 32.0, 0, 0, (0.0, 0.0, 0.0), {"a": 7.0})
    a.share.receive(lower)
    assert a.limit(clock) == 7.0
    lower = replace(lower, seq=100, view={"b": 16.0})
    a.share.receive(lower)
    assert a.limit(clock) == 0.0, "a live view without this box gives it nothing"


def test_a_silent_peer_is_held_at_the_failsafe_share_until_it_returns(clock: ManualClock) -> None:
    site = Site(clock)
    for name in ("a", "b", "c"):
        site.add(name)
    site.run(4)
    site.unreachable.add("c")
    site.run(5)
    assert site.limits()["a"] == 10.66, "within the timeout the silent box keeps its share"
    site.run(8)
    a = site.boxes["a"].share
    assert a.silent() == ["c"]
    assert site.boxes["c"].share.describe()["state"] == "failsafe", "c lost the broker"
    limits = site.limits()
    assert limits["c"] == 8.0 == a.failsafe_a
    assert limits["a"] == limits["b"] == 12.0, "32 A less the 8 A held for c, halved"
    site.unreachable.clear()
    site.run(4)
    assert a.silent() == []
    assert site.limits() == {"a": 10.66, "b": 10.66, "c": 10.66}


def test_a_box_that_leaves_is_held_nothing(clock: ManualClock) -> None:
    site = Site(clock)
    for name in ("a", "b"):
        site.add(name)
    site.run(4)
    leave = site.codec.encode(site.boxes["b"].share.leave())
    del site.boxes["b"]
    site.boxes["a"].share.receive(site.codec.decode(leave, "b", site.wall()))
    site.run(1)
    assert site.limits() == {"a": 32.0}


def test_below_the_minimum_the_failsafe_suspends(clock: ManualClock) -> None:
    site = Site(clock, replace(SITE, max_boxes=8))
    site.add("a")
    site.run(4)
    site.unreachable.add("a")
    site.run(12)
    assert site.limits() == {"a": 0.0}
    assert site.boxes["a"].share.degraded() == "SiteFailsafe"


def test_a_metered_house_unread_for_the_grid_timeout_is_a_failsafe(clock: ManualClock) -> None:
    site = Site(clock, replace(SITE, house_metered=True, grid_timeout_s=9.0))
    site.add("a")
    site.add("b")
    site.grid.feed([20.0, 4.0, 4.0])
    site.run(4)
    assert site.limits() == {"a": 6.0, "b": 6.0}, "32 A less 20 A of house on L1"
    site.run(2)
    assert site.limits() == {"a": 0.0, "b": 0.0}, "stale: (32 A - 20 A of house) / 4 < 6 A"
    assert site.boxes["a"].share.describe()["reason"] == "the site's grid reading is stale"
    site.grid.feed([4.0, 4.0, 4.0])
    site.run(1)
    assert site.limits() == {"a": 6.0, "b": 6.0}, "a raise waits for every box's draw then"
    site.run(2)
    assert site.limits() == {"a": 14.0, "b": 14.0}


def test_a_box_hearing_its_own_claim_late_cannot_keep_up_and_takes_the_failsafe(
    clock: ManualClock,
) -> None:
    """Its view would be of the site as it was: a box too slow for its site's traffic."""
    site = Site(clock)
    a = site.add("a")
    site.add("b")
    site.run(4)
    assert a.limit(clock) == 16.0
    late = site.codec.encode(a.share.claim())
    clock.advance(BEHIND_S + 1.0)
    a.share.receive(site.codec.decode(late, "a", site.wall()))
    assert a.limit(clock) == 8.0, "32 A / 4 boxes at most"
    assert a.share.describe()["reason"] == "6 s behind the site's messages"
    site.run(1)
    assert a.limit(clock) == 16.0, "caught up"


def test_waiting_evs_take_turns_when_not_all_can_have_six_amps(clock: ManualClock) -> None:
    config = replace(SITE, main_fuse_a=25.0, max_boxes=8, rotation_s=60.0)
    site = Site(clock, config)
    for i in range(8):
        site.add(f"box-{i}", want_a=6.0)
    served: set[str] = set()
    for _ in range(10):
        site.run(30)
        limits = site.limits()
        assert sum(limits.values()) <= 25.0
        now = {name for name, a in limits.items() if a}
        assert len(now) == 4
        served |= now
    assert served == set(site.boxes), "every EV had a turn"


def test_an_ev_taking_far_less_than_its_share_leaves_the_rest_to_the_others(
    clock: ManualClock,
) -> None:
    site = Site(clock)
    a, b = site.add("a"), site.add("b")
    site.run(4)
    a.demand = replace(a.demand, draw_a=(8.0, 8.0, 8.0))
    b.demand = replace(b.demand, draw_a=(16.0, 16.0, 16.0))
    site.run(20)
    assert site.limits() == {"a": 10.0, "b": 22.0}


def test_a_foreign_or_forged_message_is_refused() -> None:
    ours = SiteCodec("garage", "a-secret-of-the-site")
    claim = Claim("b", 1, 1000.0, (0,), 16.0, 0, 0, (1.0, None, None), {"b": 16.0}, taken_a=6.0)
    assert ours.decode(ours.encode(claim), "b", 1000.0) == claim
    with pytest.raises(SiteMessageError, match="not this site"):
        ours.decode(SiteCodec("other", "a-secret-of-the-site").encode(claim), "b", 1000.0)
    with pytest.raises(SiteMessageError, match="signature"):
        ours.decode(SiteCodec("garage", "not-the-secret-at-all").encode(claim), "b", 1000.0)
    with pytest.raises(SiteMessageError, match="unsigned"):
        ours.decode(SiteCodec("garage").encode(claim), "b", 1000.0)
    with pytest.raises(SiteMessageError, match="topic of 'c'"):
        ours.decode(ours.encode(claim), "c", 1000.0)
    with pytest.raises(SiteMessageError, match="from our clock"):
        ours.decode(ours.encode(claim), "b", 5000.0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"v": 2}', "version"),
        (b'{"v": 1, "site": "garage", "box": "b", "at": 1000, "seq": 1, "phases": [3]}', "phases"),
        (
            b'{"v":1,"site":"garage","box":"b","at":1000,"seq":1,"phases":[0],"tier":0,'
            b'"priority":0,"want_a":1e9,"draw_a":[0,0,0],"view":{}}',
            "want_a",
        ),
        (
            b'{"v":1,"site":"garage","box":"b","at":1000,"seq":1,"phases":[0],"tier":0,'
            b'"priority":0,"want_a":6,"draw_a":[0,0,0],"view":{"b":-1}}',
            "view",
        ),
        (
            b'{"v":1,"site":"garage","box":"b","at":1000,"seq":1,"phases":[0],"tier":0,'
            b'"priority":0,"want_a":6,"draw_a":[0,0,0],"view":{},"taken_a":"6"}',
            "taken_a",
        ),
        (b'{"v":1,"site":"garage","box":"b","at":1000,"current_a":[1,2]}', "grid reading"),
        (b"x" * 20_000, "bytes"),
    ],
)
def test_malformed_messages_name_what_is_wrong(payload: bytes, reason: str) -> None:
    topic = "grid" if b"current_a" in payload else "b"
    with pytest.raises(SiteMessageError, match=reason):
        SiteCodec("garage").decode(payload, topic, 1000.0)


def test_a_raise_waits_until_the_decreases_it_needs_have_been_followed(
    clock: ManualClock,
) -> None:
    """Turns change hands with EVs that take their full 5 s to follow a lower pilot: what
    every EV may still draw (the highest offer of its last 5 s) never sums above the fuse."""
    config = replace(SITE, main_fuse_a=25.0, max_boxes=8, rotation_s=60.0)
    site = Site(clock, config)
    offers: dict[str, list[tuple[float, float]]] = {}

    def beat() -> float:
        clock.advance(HEARTBEAT_S)
        site.heartbeat()
        now = clock.monotonic()
        for name, box in site.boxes.items():
            offers.setdefault(name, []).append((now, box.share.share_a))
            may_draw = max(a for at, a in offers[name] if now - at < 5.0)
            box.demand = replace(box.demand, allowed_a=may_draw)
        return sum(box.demand.allowed_a for box in site.boxes.values())

    for i in range(8):
        site.add(f"box-{i}", want_a=6.0)
    drawn = [beat() for _ in range(120)]
    assert max(drawn[5:]) <= 25.0 + 0.01, max(drawn)
    served = {name for name, times in offers.items() if any(a for _, a in times)}
    assert served == set(site.boxes), "every EV still had a turn"
