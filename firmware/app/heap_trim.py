"""Returns freed C heap to the operating system.

Importing aiohttp, websockets, jsonschema and the OCPP schemas, or a burst of frames from the
CSMS, leaves freed blocks in the C heap that glibc keeps; `malloc_trim` hands them back
(about 1 MB after start-up, as much again after a flood) to a Pi Zero-class board that has
little to spare. Other C libraries (musl, macOS) have no such call and need none. The call
releases the GIL (ctypes does), so a GPIO edge thread is never held up by it.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
from collections.abc import Callable

TRIM_EVERY_S = 60.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


_TRIM = _malloc_trim()


def trim_heap(collect: bool = True) -> None:
    """`collect`: a full garbage collection first (at start-up only: it pauses the loop)."""
    if collect:
        gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def freeze_start_up_heap() -> None:
    """After start-up's full collection: what start-up built (modules, schemas, the board)
    moves out of the collector's reach. A full collection walks every tracked object while
    it holds the GIL, and a flood of large frames sets one off every few frames; with the
    start-up heap in it, that walk is the longest wait the safety core's thread has. The
    price: a reference cycle among those objects is not collected (refcounts still free
    them) until `thaw_heap`. A fleet calls it after each box it starts, and never thaws:
    its boxes live as long as its process."""
    gc.freeze()


def thaw_heap() -> None:
    """At the box's stop: what start-up froze is collectable again (a process that starts
    boxes one after the other, as the tests do, would keep every stopped one)."""
    gc.unfreeze()


async def keep_heap_trimmed(every_s: float = TRIM_EVERY_S) -> None:
    """What a burst freed goes back within `every_s` (about a millisecond per call)."""
    while True:
        await asyncio.sleep(every_s)
        trim_heap(collect=False)
