"""Returns the start-up garbage of the imports to the operating system.

Importing aiohttp, websockets, jsonschema and the OCPP schemas leaves freed blocks in the C
heap that glibc keeps; `malloc_trim` hands them back, about 1 MB of the RSS a Pi Zero-class
board has to spare. Other C libraries (musl, macOS) have no such call and need none.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def trim_heap() -> None:
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
