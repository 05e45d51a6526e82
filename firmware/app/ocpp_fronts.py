"""Which OCPP front a box builds: the configured version, or with `[ocpp] version = "auto"`
the one the CSMS chose last (2.0.1 until a CSMS has chosen). A front is imported only when
chosen: a box does not carry the other version's code, nor the library's half for it (MBs
of RSS)."""

from __future__ import annotations

import importlib

from pievse.firmware.app.ocpp_core import OcppServices, build_core
from pievse.firmware.app.ocpp_parts import BoxParts
from pievse.firmware.config import AUTO, Config
from pievse.firmware.front.contract import Front
from pievse.firmware.persistence.store import Store

NEGOTIATED_SETTING = "link:negotiated_version"
FRONTS = {
    "1.6": ("pievse.firmware.ocpp16.profiles.front", "Ocpp16Front"),
    "2.0.1": ("pievse.firmware.ocpp201.blocks.front", "Ocpp201Front"),
}
"""[ocpp] version -> the module and class of its front (`front.contract.Front`)."""


class FrontChoice:
    def __init__(self, config: Config, store: Store) -> None:
        self._store = store
        self.version: str = config.ocpp.version
        """The version spoken from this start to the next."""
        if self.version == AUTO:
            self.version = store.get_setting(NEGOTIATED_SETTING) or "2.0.1"
        self.switching = False

    def build(self, parts: BoxParts) -> OcppServices:
        module, name = FRONTS[self.version]
        front: Front = getattr(importlib.import_module(module), name)()
        return build_core(parts, front)

    def chosen_by_csms(self, version: str) -> bool:
        """The CSMS chose `version` ("auto"): kept for the next start. True the first time,
        when the box is to restart into it."""
        if self.switching:
            return False
        self._store.set_setting(NEGOTIATED_SETTING, version)
        self.switching = True
        return True
