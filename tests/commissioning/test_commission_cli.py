"""`pievse commission`: a box started for the run, or the running box asked over its API;
a readable table, exit 1 on any failed step."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from pievse.firmware.app.cli import main
from tests.conftest import BenchClient, start_charging
from tests.rigs.process import PIEVSE, free_port


def test_a_fresh_bench_commissions_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(["commission", "--data-dir", str(data), "--api", f"127.0.0.1:{free_port()}"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("commissioning bench-sim, ")
    assert lines[1].split() == ["step", "result", "measured", "why"]
    assert any(line.startswith("contactor and mirror  PASS") for line in lines), out
    assert lines[-1] == "result: PASS (9 pass, 0 fail, 2 skipped)"
    assert json.loads((data / "commissioning.json").read_text())["result"] == "pass"


async def _commission(bench: BenchClient, data: Path) -> tuple[int, str, str]:
    host, port = bench.wallbox.api_address or ("", 0)
    process = await asyncio.create_subprocess_exec(
        *PIEVSE,
        "commission",
        "--api",
        f"{host}:{port}",
        "--data-dir",
        str(data),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_running_box_is_asked_and_a_fault_exits_1(
    bench: BenchClient, tmp_path: Path
) -> None:
    await bench.bench("fault", fault="contactor_weld", active=True)
    code, out, err = await _commission(bench, tmp_path / "elsewhere")
    assert code == 1, (out, err)
    assert "contactor and mirror  FAIL" in out
    assert out.splitlines()[-1].startswith("result: FAIL (")
    assert not (tmp_path / "elsewhere").exists(), "the running box did the run, not a new one"
    _, kept = await bench.get("/api/commission")
    assert kept["result"] == "fail"


async def test_a_charging_box_refuses_and_the_command_says_why(
    bench: BenchClient, tmp_path: Path
) -> None:
    await start_charging(bench)
    code, out, err = await _commission(bench, tmp_path / "elsewhere")
    assert code == 1 and out == ""
    assert "answered 409: a charging session is running" in err
    assert (await bench.status())["contactor"] == "closed"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--board", "nosuch", "--api", "127.0.0.1:{port}"],
            "pievse commission: error: unknown board",
        ),
        (["--api", "nohost"], "pievse commission: error: --api: [api] listen: expected HOST:PORT"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    port = free_port()  # nothing answers there: the command starts a box of its own
    code = main(["commission", "--data-dir", str(tmp_path), *(f.format(port=port) for f in flags)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1


async def test_a_missed_api_address_does_not_start_a_second_controller(
    bench: BenchClient, tmp_path: Path
) -> None:
    """Nothing answers at the address given, but a box runs on the data directory: the
    command refuses instead of starting a controller that would drive the same contactor."""
    await start_charging(bench)
    process = await asyncio.create_subprocess_exec(
        *PIEVSE, "commission", "--api", f"127.0.0.1:{free_port()}",
        "--data-dir", str(tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, (out, err)
    assert f"another pievse (pid {os.getpid()}) runs on {tmp_path / 'data'}" in err.decode()
    status = await bench.status()
    assert status["contactor"] == "closed" and status["session"] is not None
