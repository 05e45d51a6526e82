"""The rollback that needs nothing of the new release: `pievse update-guard`, run by systemd
from the *previous* release before every start (ExecStartPre). A new release that crashes
before it can watch its own deadline is restarted by systemd again and again; once the
deadline has passed, this puts `current` back, and the next ExecStart runs the old release.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from pievse.firmware.updates import update_record
from pievse.firmware.updates.releases import ReleaseError, Releases
from pievse.firmware.updates.update_record import UpdateRecord

log = logging.getLogger(__name__)


def guard(data_dir: Path, releases: Releases, now: float | None = None) -> str | None:
    """Rolls back an update whose release missed its deadline; returns the version now
    current when it did."""
    path = update_record.path_in(data_dir)
    record = update_record.load(path)
    if record is None or record.state != "verifying":
        return None
    if (time.time() if now is None else now) < record.deadline:
        return None
    if releases.current() != record.version:
        return None
    return roll_back(
        releases, path, record, f"{record.version} did not register in time", "update guard"
    )


def roll_back(
    releases: Releases, path: Path, record: UpdateRecord, reason: str, who: str
) -> str | None:
    """`current` back to `previous`, and the record says so for the old release to report;
    returns the version now current (None when there was nothing to go back to)."""
    try:
        back = releases.roll_back()
    except ReleaseError as exc:
        log.error("%s: %s, and: %s", who, reason, exc)
        return None
    update_record.save(path, replace(record, state="rolled_back", reason=reason))
    log.warning("%s: %s; back to %s", who, reason, back)
    return back
