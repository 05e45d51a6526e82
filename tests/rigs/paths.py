"""Where the repository's files are, wherever a test module sits."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ROOT / "board" / "boards"
BENCH_SIM = BOARDS / "bench-sim.toml"
