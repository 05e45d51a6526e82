"""The rollback that needs nothing of the new release: `pievse update-guard`, run by systemd
from the *previous* release before every start (ExecStartPre). A new release that crashes
before it can watch its own deadline is restarted by systemd again and again; once the
deadline has passed, this puts `current` back, and the next ExecStart runs the old release.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from firmware import update_record
from firmware.releases import ReleaseError, Releases

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
    try:
        back = releases.roll_back()
    except ReleaseError as exc:
        log.error("update guard: %s", exc)
        return None
    reason = f"{record.version} did not register in time; back to {back}"
    update_record.save(
        path,
        update_record.UpdateRecord(
            "rolled_back",
            record.version,
            record.previous,
            record.deadline,
            record.signed,
            record.request_id,
            reason,
        ),
    )
    log.warning("update guard: %s", reason)
    return back
