"""The commissioning report: built from the steps' results, kept as JSON in the data
directory (the last run's), served by the API and printed as a table by the CLI.

The CLI prints a report a running box sent over the API as well as one it made itself, so
the table is drawn from the JSON document, not from the objects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pievse.firmware.commissioning.judging import Outcome, StepResult

REPORT_FILE = "commissioning.json"


def report_document(
    board: str, started: datetime, finished: datetime, steps: Sequence[StepResult]
) -> dict[str, Any]:
    """`result` is "fail" when any step failed, else "pass" (skipped steps say why)."""
    failed = any(s.outcome == Outcome.FAIL for s in steps)
    return {
        "board": board,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "result": Outcome.FAIL.value if failed else Outcome.PASS.value,
        "steps": [{**asdict(s), "outcome": s.outcome.value} for s in steps],
    }


def save_report(data_dir: Path, document: dict[str, Any]) -> Path:
    """Written beside the database, atomically: a reader never sees half a report."""
    path = data_dir / REPORT_FILE
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(scratch, path)
    return path


def load_report(data_dir: Path) -> dict[str, Any] | None:
    """The last run's report; None when there is none (or it cannot be read as one)."""
    try:
        document = json.loads((data_dir / REPORT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and "steps" in document else None


def render_table(document: dict[str, Any]) -> str:
    """A plain-text table for a terminal: step, outcome, measured value, reason."""
    rows = [
        (
            str(s.get("step", "")),
            str(s.get("outcome", "")).upper(),
            str(s.get("measured", "")),
            str(s.get("reason", "")),
        )
        for s in document.get("steps", [])
        if isinstance(s, dict)
    ]
    header = ("step", "result", "measured", "why")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [
        f"commissioning {document.get('board', '?')}, {document.get('started', '?')}",
        "  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0], strict=True)).rstrip(),
    ]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    counts = {o.value: sum(r[1] == o.value.upper() for r in rows) for o in Outcome}
    result = str(document.get("result", "?")).upper()
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    lines.append(f"result: {result} ({summary})")
    return "\n".join(lines)
