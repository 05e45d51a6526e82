"""Settings changed over the local API go into the config file, the one source: checked as
the loader checks the file, then written whole (a new file renamed over the old, the old
kept beside it as `<name>.previous`). The box applies them by restarting."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pievse.firmware.api.settings_keys import describe_keys, dotted, offered_key
from pievse.firmware.config import (
    SECRET_KEYS,
    Config,
    ConfigError,
    load_config,
    toml_value,
    with_overrides,
)
from pievse.firmware.persistence.private_files import write_private_file
from pievse.hal.declared import shown

log = logging.getLogger(__name__)
PREVIOUS_SUFFIX = ".previous"
REFUSED_SUFFIX = ".refused"
REFUSED_MARK = "# refused at the start: "
MARK = "# written by pievse (PUT /api/settings) at {at}, sha256 {digest}"
MARKED = re.compile(r"# written by pievse \(PUT /api/settings\) at \S+, sha256 ([0-9a-f]{64})\n")


class SettingRefused(ValueError):
    """A value the config file would refuse: `key` names it, the message is the loader's."""

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.key = key


class SettingsUnsaved(RuntimeError):
    """The settings cannot be saved here at all (no file, an unreadable one, a restart
    already under way); nothing was written."""


@dataclass(frozen=True)
class Change:
    """Checked values by section, ready for the file."""

    values: dict[str, dict[str, Any]]


def checked_change(
    body: Mapping[str, Any],
    base: Config,
    where: str,
    flags: Mapping[str, str],
) -> Change:
    """The body of `PUT /api/settings` checked against the config it changes: only offered
    keys, none a command-line flag overrides (the flag would win after the restart), each
    value by the loader's rules and the rules between keys on the result. A secret sent as
    null or "" keeps the one configured. Raises SettingRefused; a secret's value is never
    part of its message."""
    if not body:
        raise SettingRefused('no settings given: send {"<section>.<name>": value, ...}', None)
    values: dict[str, dict[str, Any]] = {}
    for name, value in body.items():
        found = offered_key(name)
        if found is None:
            raise SettingRefused(f"{name[:80]!r} is not a setting offered here", name[:80])
        if name in flags:
            raise SettingRefused(
                f"{flags[name]} on the command line overrides {name}: change the command "
                "line (the service's unit) instead",
                name,
            )
        if found in SECRET_KEYS and value in (None, ""):
            continue
        values.setdefault(found[0], {})[found[1]] = value
    try:
        checked = with_overrides(base, values, where)
    except ConfigError as exc:
        raise SettingRefused(_without_secrets(str(exc), values), _key_named(str(exc))) from None
    return Change(
        {s: {k: getattr(getattr(checked, s), k) for k in keys} for s, keys in values.items()}
    )


def _key_named(message: str) -> str | None:
    """The key a loader message is about: "... [site] id: ..." -> "site.id"."""
    found = re.search(r"\[(\w+)\] (\w+):", message)
    return dotted(found[1], found[2]) if found else None


def _without_secrets(message: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    for section, keys in values.items():
        for key, value in keys.items():
            if (section, key) in SECRET_KEYS:
                message = message.replace(f"got {shown(value)}", "got (hidden)")
    return message


def render(tables: Mapping[str, Mapping[str, Any]], at: str) -> str:
    """A config file the loader reads back: the mark (when, and the digest of what follows
    it: `roll_back` knows the file is as written), then each table's keys."""
    lines = [""]
    for section, keys in tables.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in keys.items()]
        lines.append("")
    body = "\n".join(lines)
    return MARK.format(at=at, digest=hashlib.sha256(body.encode()).hexdigest()) + "\n" + body


def roll_back(path: Path, reason: str) -> Path | None:
    """After settings written over the API kept the box from starting: the previous file
    back in place, the refused one kept beside it (returned) under a first line saying why.
    None (nothing done) unless the file is exactly as the route wrote it and the previous
    one is there: a file edited since is its editor's, and a second failure finds no
    previous file, so this never loops."""
    previous = path.with_name(path.name + PREVIOUS_SUFFIX)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    mark = MARKED.match(text)
    body = text[mark.end() :] if mark else ""
    if not mark or hashlib.sha256(body.encode()).hexdigest() != mark[1] or not previous.exists():
        return None
    refused = path.with_name(path.name + REFUSED_SUFFIX)
    why = " ".join(reason.split())[:300]
    write_private_file(refused, f"{REFUSED_MARK}{why}\n{text}")
    os.replace(previous, path)
    _sync_directory(path.parent)
    return refused


class ConfigFileSettings:
    """The settings of a box started with `--config FILE`."""

    def __init__(
        self,
        path: Path | None,
        in_force: Config,
        started_at: datetime,
        flags: Mapping[str, str],
        restart: Callable[[], Awaitable[None]],
        now: Callable[[], datetime],
        written: Callable[[Mapping[str, Any]], None] = lambda _values: None,
    ) -> None:
        """`in_force`: the config the box runs with (flags applied); `flags`: dotted key ->
        the flag that overrides it in this run; `restart`: stops the box cleanly and starts
        it again with the same command line; `written`: told the values (by dotted key)
        once they are in the file, for what the box keeps elsewhere that would otherwise
        win over the file at the next start."""
        self._path = path
        self._in_force = in_force
        self.started_at = started_at.isoformat()
        self._flags = dict(flags)
        self._restart = restart
        self._now = now
        self._written = written
        self._restarting = False

    def describe(self) -> list[dict[str, Any]]:
        return describe_keys(self._in_force)

    def refused(self) -> dict[str, str] | None:
        """The last change the start refused and rolled back, while the file is still the
        one put back (a later change or edit makes the file newer: then None)."""
        if self._path is None:
            return None
        refused = self._path.with_name(self._path.name + REFUSED_SUFFIX)
        try:
            newer = refused.stat().st_mtime >= self._path.stat().st_mtime
            first = refused.read_text().partition("\n")[0] if newer else ""
        except (OSError, UnicodeDecodeError):
            return None
        if not first.startswith(REFUSED_MARK):
            return None
        at = datetime.fromtimestamp(refused.stat().st_mtime, UTC).isoformat()
        return {"error": first.removeprefix(REFUSED_MARK), "at": at}

    def change(self, body: Mapping[str, Any]) -> None:
        """Checks `body` and writes the file; raises SettingRefused (nothing written) or
        SettingsUnsaved. A key changed twice before the restart keeps the second value."""
        if self._restarting:
            raise SettingsUnsaved("the box is restarting to apply settings: ask again then")
        path = self._path
        if path is None:
            raise SettingsUnsaved("the box runs without a config file (--config): nothing to save")
        try:
            old_text = path.read_text()
            tables = tomllib.loads(old_text)
            base = load_config(path)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as exc:
            raise SettingsUnsaved(f"cannot read the config file {path}: {exc}") from None
        change = checked_change(body, base, str(path), self._flags)
        for section, keys in change.values.items():
            tables.setdefault(section, {}).update(keys)
        try:
            write_private_file(path.with_name(path.name + PREVIOUS_SUFFIX), old_text)
            write_private_file(path, render(tables, self._now().isoformat()))
            _sync_directory(path.parent)
        except OSError as exc:
            raise SettingsUnsaved(f"cannot write the config file {path}: {exc}") from None
        changed = {dotted(s, k): v for s, keys in change.values.items() for k, v in keys.items()}
        log.warning(
            "settings changed over the local API (%s): the box restarts", ", ".join(changed)
        )
        self._restarting = True
        self._written(changed)

    async def restart(self) -> None:
        await self._restart()


def _sync_directory(directory: Path) -> None:
    """The renames reach the disk too, not only the files' bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
