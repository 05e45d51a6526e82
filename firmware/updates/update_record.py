"""What an update leaves for the release that starts next: a small JSON file in the data
directory (not the database: the guard that may roll back runs from the previous release and
must not depend on the new one's schema).

States: "verifying" (the new release must register by `deadline`), "rolled_back" (the old
release reports the failure once it registered), "failed" (the new release did not run, or
the guard rolled it back before it could say so).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "firmware-update.json"


@dataclass(frozen=True)
class UpdateRecord:
    state: str
    version: str
    previous: str
    deadline: float
    """Wall-clock seconds (epoch) by which the new release must have registered."""
    signed: bool
    request_id: int | None
    reason: str = ""


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load(path: Path) -> UpdateRecord | None:
    try:
        data = json.loads(path.read_text())
        return UpdateRecord(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        path.rename(path.with_suffix(".unreadable"))
        return None


def save(path: Path, record: UpdateRecord) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(record), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def clear(path: Path) -> None:
    path.unlink(missing_ok=True)
