"""`pievse commission` and the box's commissioning: the checklist wired to a `Wallbox`'s
board, supervisor and CSMS link, run in a box that is already running (asked over its
API, which owns the hardware) or in one started for the run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from pievse.firmware.api.access import TOKEN_SETTING, is_loopback
from pievse.firmware.app.run_options import RunOptions, resolve_config
from pievse.firmware.commissioning.bringup import Seams
from pievse.firmware.commissioning.report import render_table
from pievse.firmware.commissioning.runs import Commissioning, CommissionRefused
from pievse.firmware.config import parse_listen
from pievse.firmware.persistence.store import Store

if TYPE_CHECKING:
    from pievse.firmware.app.wallbox import Wallbox

FIRST_STEP_S = 30.0
"""The controller's start (its own RCD self-test, the first meter reading) before the run."""
ASK_TIMEOUT_S = 120.0


def commissioning_for(box: Wallbox, data_dir: Path) -> Commissioning:
    controller = box.controller

    seams = Seams(
        board=box.board,
        supervisor=controller.supervisor,
        hold=controller.hold,
        on_core=controller.run_on_core,
        clock=box.clock,
        operate_s=box.config.control.contactor_release_s,
        csms=lambda: None if box.ocpp is None else box.ocpp.link.describe(),
    )
    return Commissioning(seams, box.board.name, data_dir, lambda: controller.session is not None)


class CommissionFailed(RuntimeError):
    """The run could not be made (refused, or the running box answered an error)."""


async def commission(options: RunOptions, show: Callable[[str], None]) -> int:
    """Asks the box running with this configuration, or starts one for the run; shows the
    report as a table. 0 when no step failed, 1 otherwise."""
    document = await _ask_running_box(options)
    if document is None:
        document = await _commission_here(options)
    show(render_table(document))
    return 1 if document.get("result") != "pass" else 0


def _token(options: RunOptions, host: str) -> str | None:
    config = resolve_config(options)
    if is_loopback(host):
        return None
    if config.api.token:
        return config.api.token
    path = options.data_dir / "pievse.db"
    if not path.exists():
        return None
    store = Store(path)
    try:
        return store.get_setting(TOKEN_SETTING)
    finally:
        store.close()


async def _ask_running_box(options: RunOptions) -> dict[str, Any] | None:
    """None when nothing listens at the configured API address."""
    listen = resolve_config(options).api.listen
    host, port = parse_listen(listen) or ("127.0.0.1", 8080)
    token = _token(options, host)
    target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    url = f"http://{target}:{port}/api/commission"
    timeout = aiohttp.ClientTimeout(total=ASK_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(url, json={}, headers=headers) as response,
        ):
            answer = await response.json(content_type=None)
    except aiohttp.ClientConnectorError:
        return None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise CommissionFailed(f"the box at {url} did not answer as one: {exc}") from exc
    if response.status != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise CommissionFailed(f"the box at {url} answered {response.status}: {error}")
    return answer


async def _commission_here(options: RunOptions) -> dict[str, Any]:
    from pievse.firmware.app.wallbox import Wallbox

    box = Wallbox(options)
    stepped = asyncio.Event()
    box.controller.step_listeners.append(stepped.set)
    await box.start()
    try:
        async with asyncio.timeout(FIRST_STEP_S):
            await stepped.wait()
        return await box.commissioning.run()
    except CommissionRefused as exc:
        raise CommissionFailed(str(exc)) from exc
    finally:
        await box.stop()
