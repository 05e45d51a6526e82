"""The controller on a manual clock with its inputs watched, as the control tests step it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rigs.controller_rig import ControllerRig, controller_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[ControllerRig]:
    with controller_rig(tmp_path) as rig:
        rig.controller.supervisor.watch_inputs()
        yield rig
