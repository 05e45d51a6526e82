"""OCPP-J frames as timeline lines: who sent what, and the gist of it. Pure."""

from __future__ import annotations

import json
from typing import Any

WIDTH = 110


def _gist(payload: Any) -> str:
    text = json.dumps(payload, separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."


def describe(raw: str, sender: str, receiver: str, calls: dict[str, str]) -> str:
    """One line for one frame; `calls` maps a CALL's unique id to its action, so that its
    answer can be named (the answer removes it)."""
    try:
        frame = json.loads(raw)
    except json.JSONDecodeError:
        return f"{sender} -> {receiver}  (not JSON) {raw[:WIDTH]}"
    if not isinstance(frame, list) or len(frame) < 3:
        return f"{sender} -> {receiver}  (not an OCPP-J frame) {_gist(frame)}"
    kind, unique_id = frame[0], str(frame[1])
    if kind == 2 and len(frame) == 4:
        calls[unique_id] = str(frame[2])
        return f"{sender} -> {receiver}  {frame[2]}  {_gist(frame[3])}"
    action = calls.pop(unique_id, "?")
    if kind == 3:
        return f"{sender} -> {receiver}  {action}.conf  {_gist(frame[2])}"
    if kind == 4 and len(frame) >= 4:
        return f"{sender} -> {receiver}  {action} CALLERROR {frame[2]}: {frame[3]}"
    return f"{sender} -> {receiver}  {_gist(frame)}"
