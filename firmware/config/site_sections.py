"""The keys of energy management and MQTT, declared as `sections.py` says."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pievse.firmware.config.values import parse_mqtt_url
from pievse.hal.declared import declared, empty_or, rule, within


class SiteMode(StrEnum):
    FAST = "fast"
    PV = "pv"
    MIN_PV = "min_pv"
    OFF = "off"


class PhaseSwitchPilot(StrEnum):
    F = "F"
    B1 = "B1"


class PhaseRotation(StrEnum):
    L1L2L3 = "L1L2L3"
    L2L3L1 = "L2L3L1"
    L3L1L2 = "L3L1L2"


def _site_id(v: str) -> bool:
    return len(v) <= 48 and all(c.isascii() and (c.isalnum() or c in "-_") for c in v)


def _topic_prefix(v: str) -> bool:
    return 0 < len(v) <= 64 and not set(v) & {"+", "#"} and v.strip("/") == v


@dataclass(frozen=True)
class SiteConfig:
    """Energy management: the main fuse, PV surplus, phase switching, a shared site."""

    main_fuse_a: float = declared(
        0.0,
        "the supply's main fuse (A per phase; 0 = off): the offer is what the house leaves "
        "under it on the phases the EV uses, cut at once when the house takes more",
        within(6, 1000, also=0, text="0 (off) or 6..1000"),
        note="The supply's main fuse, A per phase; 0 turns main-fuse protection off. The grid "
        "reading comes over PUT /api/site/grid.",
    )
    grid_timeout_s: float = declared(
        11.0,
        "a grid reading older than this is stale: the offer drops to the failsafe current "
        "until a fresh one comes",
        within(1, 600),
    )
    failsafe_current_a: float = declared(
        6.0, "the offer while the grid reading is stale (0 suspends)", within(6, 80, also=0)
    )
    ramp_up_a_per_s: float = declared(
        1.0, "how fast freed headroom is given back to the EV", within(0.1, 100)
    )
    hysteresis_a: float = declared(
        0.5, "headroom less than this above the limit does not raise it", within(0, 10)
    )
    mode: SiteMode = declared(
        SiteMode.FAST,
        "charging mode at start-up until `PUT /api/mode` sets another (which is kept across "
        "restarts)",
        note="fast, pv, min_pv or off; PUT /api/mode changes it (and that is kept across "
        "restarts).",
    )
    pv_enable_delay_s: float = declared(
        60.0, "how long a PV surplus must last before charging starts", within(0, 3600)
    )
    pv_disable_delay_s: float = declared(
        180.0, "how long the surplus must stay too small before charging stops", within(0, 3600)
    )
    pv_min_charge_s: float = declared(
        600.0, "the shortest PV charge once started", within(0, 86_400)
    )
    pv_hysteresis_a: float = declared(
        0.5,
        "the surplus must pass 6 A by this much to start, fall below it by this much to stop",
        within(0, 10),
    )
    pv_smoothing_s: float = declared(
        30.0, "time constant of the surplus's low pass (passing clouds)", within(0, 600)
    )
    three_phase_delay_s: float = declared(
        600.0,
        "1p→3p only after three phases could have charged this long (3p→1p waits "
        "`pv_disable_delay_s`); only boards with a phase contactor switch",
        within(0, 86_400),
        note="Boards with a [phase_contactor] switch between 1 and 3 phases (never under load).",
    )
    phase_switch_pause_s: float = declared(
        10.0,
        "how long the EV is held off after the phase contactor switched",
        within(5, 120, text="5..120 (an EV needs 5 s to re-detect its supply)"),
    )
    phase_switch_pilot: PhaseSwitchPilot = declared(
        PhaseSwitchPilot.F,
        "the pilot during that pause: `F` (-12 V) or `B1` (steady +12 V)",
        note='or "B1"',
    )
    max_phase_switches: int = declared(
        4,
        "phase switches per plug-in, at most (an EV that must re-detect its supply is not "
        "asked endlessly)",
        within(0, 100),
    )
    id: str = declared(
        "",
        "share `main_fuse_a` with the other boxes of this site over MQTT; needs `[mqtt] url` "
        "and `main_fuse_a`; empty: the box is alone on its supply",
        empty_or("1 to 48 letters, digits, '-' or '_'", _site_id),
        note="Several boxes on one supply share main_fuse_a over MQTT (needs [mqtt] url): the "
        "same id on each.",
    )
    max_boxes: int = declared(
        8,
        "the most boxes the site will have: the failsafe share is `main_fuse_a / max_boxes` "
        "(a metered house's recent peak taken off the fuse first)",
        within(1, 1000),
        note="the failsafe share is main_fuse_a / max_boxes",
    )
    peer_timeout_s: float = declared(
        30.0, "a broker or a peer not heard this long: the failsafe", within(3, 600)
    )
    rotation_s: float = declared(
        1800.0,
        "the length of a turn when not every waiting EV can have 6 A",
        within(10, 86_400),
        note="a turn, when not every waiting EV can have 6 A",
    )
    priority: int = declared(
        0, "higher is served first (among EVs that are equally in need)", within(-100, 100)
    )
    phase_rotation: PhaseRotation = declared(
        PhaseRotation.L1L2L3,
        "the site phases this box's L1, L2, L3 are wired to",
        note="the site phases this box's L1, L2, L3 are wired to",
    )
    house_metered: bool = declared(
        False,
        "true: the supply also feeds a house, whose load the site's grid reading shows (the "
        "allocation falls back while it is stale); false: it feeds only the boxes",
        note="true: the supply feeds a house too, told from the site's grid reading",
    )
    secret: str = declared(
        "",
        "shared by the site's boxes: their messages are signed (HMAC-SHA256); a site is not "
        "shared without one unless `accept_unsigned`",
        empty_or("16 to 128 characters", lambda v: 16 <= len(v) <= 128),
        secret=True,
        note="shared by the site's boxes: their messages are signed (needed to share)",
    )
    accept_unsigned: bool = declared(
        False,
        "true: share the site without `secret`, trusting every client of the broker with the "
        "fuse (any of them can fake claims and grid readings)",
        note="true: share without a secret; any broker client can then steer the fuse",
    )


@dataclass(frozen=True)
class MqttConfig:
    """The MQTT bridge and Home Assistant discovery."""

    url: str = declared(
        "",
        "the broker (TLS with `mqtts://`, default ports 1883/8883); empty: no MQTT. Needs "
        "`pip install 'pievse[mqtt]'`",
        empty_or(
            "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", lambda v: parse_mqtt_url(v) is not None
        ),
        note="mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; empty: no MQTT (pip install "
        "'pievse[mqtt]').",
    )
    username: str = declared("", "the broker login's user name")
    password: str = declared(
        "",
        "the broker login's password, never logged",
        secret=True,
        note="never logged, never shown by pievse config",
    )
    ca_file: str = declared(
        "",
        "for `mqtts://`: the CA of the broker's certificate; empty: the system's",
        note="mqtts: the broker's CA; empty: the system's",
    )
    topic_prefix: str = declared(
        "pievse",
        "the box's topics are `<topic_prefix>/<charge point id>/...`",
        rule("1 to 64 characters without +, # or a leading or trailing /", _topic_prefix),
        note="topics: <topic_prefix>/<charge point id>/state, availability, set/...",
    )
    discovery_prefix: str = declared(
        "homeassistant",
        "Home Assistant discovery prefix; empty: no discovery",
        rule(
            "empty, or up to 64 characters without +, #",
            lambda v: len(v) <= 64 and not set(v) & {"+", "#"},
        ),
        note="empty: no Home Assistant discovery",
    )
    state_interval_s: float = declared(
        30.0,
        "the state is published on change (checked twice a second) and at least this often",
        within(1, 3600),
    )
    grid_readings: bool = declared(
        False,
        "a box alone on its supply (no [site] id) takes the grid's currents published on "
        "<topic_prefix>/<id>/set/mains_meter as PUT /api/site/grid takes them: any client "
        "that may publish there steers main-fuse protection between 0 A and main_fuse_a",
        note="true: grid readings over MQTT for a box without a site",
    )
