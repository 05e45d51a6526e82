"""The config keys the settings route offers, each described from its one declaration in
`firmware/config/`: its type from the default, its bounds and choices from the check's
text (the same text the loader's error message gives), its description from the
declaration's. Pure."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pievse.firmware.config import SECRET_KEYS, SECTIONS, Config, expected
from pievse.hal.declared import entries

OFFERED: tuple[tuple[str, str], ...] = (
    ("ocpp", "csms_url"),
    ("charge_point", "id"),
    ("ocpp", "version"),
    ("security", "profile"),
    ("security", "authorization_key"),
    ("site", "main_fuse_a"),
    ("site", "mode"),
    ("site", "pv_enable_delay_s"),
    ("site", "pv_disable_delay_s"),
    ("mqtt", "url"),
    ("mqtt", "username"),
    ("mqtt", "password"),
    ("site", "id"),
    ("site", "secret"),
)
"""What an owner or installer sets from the page: the CSMS, the box's name and security,
the fuse and the charging mode, the broker and the site. Everything else stays with the
file (a key that could lock the page out, such as `[api] listen`, is never offered)."""

_NUMBER = r"-?\d+(?:\.\d+)?"


def dotted(section: str, key: str) -> str:
    return f"{section}.{key}"


def offered_key(name: str) -> tuple[str, str] | None:
    """`"site.main_fuse_a"` -> ("site", "main_fuse_a") if the route offers it."""
    section, _, key = name.partition(".")
    return (section, key) if (section, key) in OFFERED else None


def choices(rule_text: str) -> list[str] | None:
    """'"fast", "pv" or "off"' -> ["fast", "pv", "off"]; None for a rule that is not a
    list of quoted values."""
    found = re.findall(r'"([^"]*)"', rule_text)
    rest = re.sub(r'"[^"]*"|,|\bor\b|\s', "", rule_text)
    return found if found and not rest else None


def bounds(rule_text: str) -> tuple[float, float] | None:
    """The lowest and highest value a numeric rule names ("0 (off) or 6..1000" -> 0, 1000;
    "0..3 (or -1: from the URL)" -> -1, 3); None for a rule without a range."""
    if ".." not in rule_text:
        return None
    numbers = [float(n) for n in re.findall(_NUMBER, rule_text)]
    return (min(numbers), max(numbers)) if numbers else None


def _type_name(default: object, rule_text: str) -> str:
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    return "choice" if choices(rule_text) else "string"


@cache
def descriptions() -> dict[tuple[str, str], str]:
    """(section, key) -> the description its declaration gives."""
    return {
        (section, entry.name): entry.declaration.doc
        for section, cls in SECTIONS.items()
        for entry in entries(cls)
    }


def describe_keys(config: Config) -> list[dict[str, Any]]:
    """Each offered key as `GET /api/settings` lists it; a secret's value is never given,
    only whether one is set."""
    described = []
    for section, key in OFFERED:
        value = getattr(getattr(config, section), key)
        rule_text = expected(section, key)
        secret = (section, key) in SECRET_KEYS
        entry: dict[str, Any] = {
            "key": dotted(section, key),
            "section": section,
            "name": key,
            "type": _type_name(value, rule_text),
            "secret": secret,
            "set": bool(value) if secret else value not in ("", None),
            "value": None if secret else value,
            "description": descriptions().get((section, key), ""),
        }
        if entry["type"] == "choice":
            entry["choices"] = choices(rule_text)
        elif entry["type"] in ("integer", "number") and (low_high := bounds(rule_text)):
            kind = int if isinstance(value, int) else float
            entry["min"], entry["max"] = kind(low_high[0]), kind(low_high[1])
        described.append(entry)
    return described
