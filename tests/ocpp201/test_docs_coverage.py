"""docs/ocpp201.md's coverage table names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
DOCS = TESTS.parents[1] / "docs" / "ocpp201.md"


def test_every_test_the_coverage_table_names_exists() -> None:
    named = re.findall(r"`(test_\w+\.py)::(test_\w+)`", DOCS.read_text())
    assert len(named) > 40
    missing = [
        f"{file}::{test}"
        for file, test in named
        if not (TESTS / file).exists()
        or not re.search(rf"def {test}\(", (TESTS / file).read_text())
    ]
    assert missing == []
