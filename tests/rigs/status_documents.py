"""Status documents for the page's words: variants of a real `/api/status` document, and a
fixed-seed shuffle of them (every connector status, fault sets, unknown sources and
faults, a meter without readings, parts in error)."""

from __future__ import annotations

import copy
import random
from typing import Any


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with paths replaced, parts joined by `__`: connectors__1__status="Charging"."""
    document = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = document
        for key in parents:
            node = node[key]
        node[last] = value
    return document


def charging(base: dict[str, Any], currents: list[float], power_w: float) -> dict[str, Any]:
    return variant(
        base,
        connectors__1__status="Charging",
        pilot__state="C",
        meter__current_a=currents,
        meter__power_w=power_w,
        session={"id": 1, "id_tag": "X", "started_at": "2026-12-06T18:52:01+00:00",
                 "energy_wh": 4210.0},
        limit={"current_a": 16.0, "source": "setpoint", "sources": {"board": 32.0,
               "setpoint": 16.0}},
    )  # fmt: skip


def paused(base: dict[str, Any], source: str, mode: str, surplus: float | None) -> dict[str, Any]:
    document = variant(
        base,
        connectors__1__status="SuspendedEVSE",
        pilot__state="C",
        limit={"current_a": 0.0, "source": source, "sources": {"board": 32.0, source: 0.0}},
    )
    document["site"] |= {"mode": mode, "surplus_a": surplus}
    return document


def faulted(base: dict[str, Any], faults: list[str], connector: str, code: str) -> dict[str, Any]:
    document = variant(base, faults=faults, temperature_c=86.0)
    document["connectors"][connector] |= {"status": "Faulted", "error_code": code}
    return document


STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing",
            "Reserved", "Unavailable", "Faulted", "SomethingNew")  # fmt: skip
FAULTS = ("rcd", "overtemperature", "contactor_weld", "diode", "lock", "tamper", "meter_offline",
          "internal", "a_fault_this_page_does_not_know")  # fmt: skip


def shuffled_documents(base: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Documents a box could send, some odd: every connector status, fault sets, any limit
    source, a meter without readings, parts in error (a fixed seed: the same each run)."""
    rng = random.Random(35)
    documents = []
    for _ in range(count):
        document = copy.deepcopy(base)
        document["connectors"]["1"]["status"] = rng.choice(STATUSES)
        document["connectors"]["0"]["status"] = rng.choice(("Available", "Unavailable", "Faulted"))
        document["faults"] = rng.sample(FAULTS, rng.choice((0, 0, 1, 2)))
        source = rng.choice(("board", "cable", "charging_mode", "main_fuse", "new_source"))
        amps = rng.choice((0.0, 5.9, 6.0, 16.0, 32.0))
        document["limit"] = {"current_a": amps, "source": source, "sources": {source: amps}}
        document["pilot"]["state"] = rng.choice("ABCDEF")
        document["site"]["mode"] = rng.choice(("fast", "pv", "min_pv", "off"))
        document["site"]["surplus_a"] = rng.choice((None, -3.0, 2.5, 7.0))
        if rng.random() < 0.3:
            document["meter"] = {"online": False}
        if rng.random() < 0.2:
            document["session"] = {"id": 1, "id_tag": "X", "energy_wh": rng.random() * 60_000,
                                   "started_at": "2026-12-06T18:52:01+00:00"}  # fmt: skip
        if rng.random() < 0.1:
            document[rng.choice(("connectors", "limit", "site", "pilot"))] = {"error": "boom"}
        documents.append(document)
    return documents
