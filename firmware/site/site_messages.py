"""What the boxes of a site tell each other over MQTT, and the checks a message passes before
it counts: JSON of the expected shape and ranges, this site's id, the box named as in its
topic, a time near ours, and, where the site has a secret, its HMAC-SHA256 signature.

A claim carries the box's demand, its draw, and its view: the allocation it computed for
every box. A box takes the lowest any box's view gives it, so it never draws more than its
share before the others have seen its claim.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from typing import Any, TypeGuard

VERSION = 1
MAX_BYTES = 16_384
MAX_CURRENT_A = 1000.0
MAX_CLOCK_SKEW_S = 120.0


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
        if body.get("v") != VERSION:
            raise SiteMessageError(f"version {body.get('v')!r}, expected {VERSION}")
        if body.get("site") != self.site:
            raise SiteMessageError(f"site {body.get('site')!r} is not this site")
        self._check_signature(body)
        box = _text(body, "box")
        if topic_box != "grid" and box != topic_box:
            raise SiteMessageError(f"box {box!r} published on the topic of {topic_box!r}")
        at = _number(body, "at", 0.0, math.inf)
        if abs(at - wall) > MAX_CLOCK_SKEW_S:
            raise SiteMessageError(f"sent at {at:.0f}, {at - wall:+.0f} s from our clock")
        if topic_box == "grid":
            if body.get("grid") is not True:
                raise SiteMessageError("not a grid reading on the grid topic")
            export = body.get("export_w")
            return GridShare(
                box,
                at,
                _currents(body, "current_a"),
                None if export is None else _number(body, "export_w", -1e6, 1e6),
            )
        seq = int(_number(body, "seq", 0, 2**53))
        if body.get("leave") is True:
            return Leave(box, seq, at)
        return _claim(body, box, seq, at)

    def _check_signature(self, body: dict[str, Any]) -> None:
        if not self._secret:
            return
        signature = body.pop("sig", None)
        if not isinstance(signature, str):
            raise SiteMessageError("unsigned, and this site signs its messages")
        if not hmac.compare_digest(signature, _signature(self._secret, body)):
            raise SiteMessageError("the signature does not match this site's secret")


def _claim(body: dict[str, Any], box: str, seq: int, at: float) -> Claim:
    phases = body.get("phases")
    if (
        not isinstance(phases, list)
        or not 1 <= len(phases) <= 3
        or any(not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 2 for p in phases)
        or len(set(phases)) != len(phases)
    ):
        raise SiteMessageError("phases: a list of distinct 0, 1, 2")
    tier = body.get("tier")
    if tier not in (None, 0, 1) or isinstance(tier, bool):
        raise SiteMessageError("tier: null, 0 or 1")
    priority = body.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not -100 <= priority <= 100:
        raise SiteMessageError("priority: an integer -100..100")
    view = body.get("view")
    if view is not None and (not isinstance(view, dict) or len(view) > 1000):
        raise SiteMessageError("view: null or an object of at most 1000 boxes")
    shares = None if view is None else {name: _share(name, a) for name, a in view.items()}
    return Claim(
        box,
        seq,
        at,
        tuple(phases),
        _number(body, "want_a", 0.0, MAX_CURRENT_A),
        tier,
        priority,
        _currents(body, "draw_a"),
        shares,
        _moment(body, "served_since"),
        _moment(body, "waiting_since"),
        _moment(body, "draw_at"),
        None if body.get("taken_a") is None else _number(body, "taken_a", 0.0, MAX_CURRENT_A),
    )


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


def _moment(body: dict[str, Any], key: str) -> float | None:
    return None if body.get(key) is None else _number(body, key, 0.0, math.inf)


def _share(box: str, value: Any) -> float:
    if not _finite(value) or not 0 <= value <= MAX_CURRENT_A:
        raise SiteMessageError(f"view: {box!r} has {value!r}, not 0..{MAX_CURRENT_A:g} A")
    return float(value)


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float:
    value = body.get(key)
    if not _finite(value) or not low <= value <= high:
        raise SiteMessageError(f"{key}: {value!r} is not a number in {low:g}..{high:g}")
    return float(value)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise SiteMessageError(f"{key}: not a name of 1 to 64 characters")
    return value


def _currents(body: dict[str, Any], key: str) -> tuple[float | None, float | None, float | None]:
    values = body.get(key)
    if not isinstance(values, list) or len(values) != 3:
        raise SiteMessageError(f"{key}: a list of 3 per-phase currents")
    checked: list[float | None] = []
    for value in values:
        if value is None:
            checked.append(None)
        elif _finite(value) and -MAX_CURRENT_A <= value <= MAX_CURRENT_A:
            checked.append(float(value))
        else:
            raise SiteMessageError(f"{key}: {value!r} is not a current")
    return checked[0], checked[1], checked[2]
