"""What the boxes of a site tell each other over MQTT, and the checks a message passes before
it counts: JSON of this version and site, where the site has a secret its HMAC-SHA256
signature, a body as its declaration (`site_bodies`) reads it, the box named as in its
topic, and a time near ours.

A claim carries the box's demand, its draw, and its view: the allocation it computed for
every box. A box takes the lowest any box's view gives it, so it never draws more than its
share before the others have seen its claim.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pievse.firmware.site.site_bodies import ClaimBody, GridBody, LeaveBody, SentBody
from pievse.hal.declared import PLAIN_TYPE_NAMES, FieldError, entries, read

VERSION = 1
MAX_BYTES = 16_384
MAX_CLOCK_SKEW_S = 120.0
B = TypeVar("B", bound=SentBody)


class SiteMessageError(ValueError):
    pass


@dataclass(frozen=True)
class Claim:
    box: str
    seq: int
    at: float
    phases: tuple[int, ...]
    want_a: float
    tier: int | None
    """None: no EV waiting (the box still counts its draw)."""
    priority: int
    draw_a: tuple[float | None, float | None, float | None]
    view: dict[str, float] | None
    """The allocation this box computed for every box; None while it is in its failsafe."""
    served_since: float | None = None
    """Wall time its EV's turn began (it has had the minimum since)."""
    waiting_since: float | None = None
    """Wall time its EV began waiting for the minimum."""
    draw_at: float | None = None
    """Wall time its meter read `draw_a`: the house is told from the grid reading with the
    draws of the same moment."""
    taken_a: float | None = None
    """The share the box takes now (the lowest any view gives it): its EV draws no more, so
    an EV coming up to it is no house load."""


@dataclass(frozen=True)
class Leave:
    box: str
    seq: int
    at: float


@dataclass(frozen=True)
class GridShare:
    box: str
    at: float
    """When the grid meter was read (wall seconds)."""
    current_a: tuple[float | None, float | None, float | None]
    export_w: float | None


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _signature(secret: str, body: dict[str, Any]) -> str:
    return hmac.new(secret.encode(), _canonical(body), hashlib.sha256).hexdigest()


class SiteCodec:
    def __init__(self, site: str, secret: str = "") -> None:
        self.site = site
        self._secret = secret

    def encode(self, message: Claim | Leave | GridShare) -> bytes:
        body: dict[str, Any] = {"v": VERSION, "site": self.site, "box": message.box}
        body["at"] = round(message.at, 3)
        if isinstance(message, Claim):
            body |= {
                "seq": message.seq,
                "phases": list(message.phases),
                "want_a": round(message.want_a, 2),
                "tier": message.tier,
                "priority": message.priority,
                "draw_a": [None if d is None else round(d, 2) for d in message.draw_a],
                "view": None
                if message.view is None
                else {box: round(a, 2) for box, a in sorted(message.view.items())},
                "served_since": message.served_since,
                "waiting_since": message.waiting_since,
                "draw_at": message.draw_at,
                "taken_a": None if message.taken_a is None else round(message.taken_a, 2),
            }
        elif isinstance(message, Leave):
            body |= {"seq": message.seq, "leave": True}
        else:
            body |= {
                "grid": True,
                "current_a": [None if c is None else round(c, 2) for c in message.current_a],
                "export_w": None if message.export_w is None else round(message.export_w, 1),
            }
        if self._secret:
            body["sig"] = _signature(self._secret, body)
        return _canonical(body)

    def decode(self, payload: bytes, topic_box: str, wall: float) -> Claim | Leave | GridShare:
        """`topic_box`: the box its topic names ("grid" for the grid topic)."""
        body = _json_object(payload)
        if body.get("v") != VERSION:
            raise SiteMessageError(f"version {body.get('v')!r}, expected {VERSION}")
        if body.get("site") != self.site:
            raise SiteMessageError(f"site {body.get('site')!r} is not this site")
        self._check_signature(body)
        if topic_box == "grid":
            if body.get("grid") is not True:
                raise SiteMessageError("not a grid reading on the grid topic")
            grid = _sent(_read(GridBody, body), topic_box, wall)
            return GridShare(grid.box, grid.at, _per_phase(grid.current_a), grid.export_w)
        if body.get("leave") is True:
            leave = _sent(_read(LeaveBody, body), topic_box, wall)
            return Leave(leave.box, leave.seq, leave.at)
        return _claim(_sent(_read(ClaimBody, body), topic_box, wall))

    def _check_signature(self, body: dict[str, Any]) -> None:
        if not self._secret:
            return
        signature = body.pop("sig", None)
        if not isinstance(signature, str):
            raise SiteMessageError("unsigned, and this site signs its messages")
        if not hmac.compare_digest(signature, _signature(self._secret, body)):
            raise SiteMessageError("the signature does not match this site's secret")


def _claim(body: ClaimBody) -> Claim:
    view = body.view
    return Claim(
        body.box,
        body.seq,
        body.at,
        tuple(body.phases),
        body.want_a,
        body.tier,
        body.priority,
        _per_phase(body.draw_a),
        None if view is None else {box: float(a) for box, a in view.items()},
        body.served_since,
        body.waiting_since,
        body.draw_at,
        body.taken_a,
    )


def _json_object(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_BYTES:
        raise SiteMessageError(f"{len(payload)} bytes, more than {MAX_BYTES}")
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        # not only JSONDecodeError: an integer beyond 4300 digits is a plain ValueError,
        # deep nesting a RecursionError, and bytes not UTF-8 a UnicodeDecodeError
        raise SiteMessageError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(body, dict):
        raise SiteMessageError("not a JSON object")
    return body


def _read(cls: type[B], body: dict[str, Any]) -> B:
    """The body as its declaration reads it, the fields it does not declare left out."""
    known = {entry.name for entry in entries(cls)}
    try:
        return read(
            cls,
            {name: value for name, value in body.items() if name in known},
            PLAIN_TYPE_NAMES,
            show_raw=True,
            null_is_absent=True,
            in_declared_order=True,
            json_numbers=True,
        )
    except FieldError as exc:
        raise SiteMessageError(str(exc)) from None


def _sent(body: B, topic_box: str, wall: float) -> B:
    """The body, sent by the box its topic names and at a time near ours."""
    if topic_box != "grid" and body.box != topic_box:
        raise SiteMessageError(f"box {body.box!r} published on the topic of {topic_box!r}")
    if abs(body.at - wall) > MAX_CLOCK_SKEW_S:
        raise SiteMessageError(f"sent at {body.at:.0f}, {body.at - wall:+.0f} s from our clock")
    return body


def _per_phase(values: list[float | None]) -> tuple[float | None, float | None, float | None]:
    first, second, third = (None if v is None else float(v) for v in values)
    return first, second, third


def claim_row(
    claim: Claim, view: dict[str, float] | None, heard_s_ago: float, silent: bool
) -> dict[str, Any]:
    """One box of the site as `describe` lists it: what it claims, its share in our view."""
    return {
        "box": claim.box,
        "phases": list(claim.phases),
        "want_a": round(claim.want_a, 1) if claim.tier is not None else None,
        "draw_a": list(claim.draw_a),
        "share_a": (view or {}).get(claim.box),
        "heard_s_ago": round(heard_s_ago, 1),
        "silent": silent,
    }


def allocated_part(claim: Claim | None) -> tuple[Any, ...] | None:
    """What of a claim the allocation is computed from: a heartbeat that repeats it needs no
    new view (the draw counts through the house estimate, which the periodic view follows)."""
    if claim is None:
        return None
    return (
        claim.phases,
        claim.want_a,
        claim.tier,
        claim.priority,
        claim.served_since,
        claim.waiting_since,
    )


def view_of(claim: Claim, box: str) -> float | None:
    """The share a claim's view gives `box`; None while its sender is in its failsafe."""
    return None if claim.view is None else claim.view.get(box, 0.0)
