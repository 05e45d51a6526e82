"""The configuration keys are declared once: every handle has its spec, every spec its
handle, and a handle reads its key in its own type."""

from __future__ import annotations

from pathlib import Path

from pievse.firmware.config import Config
from pievse.firmware.csms import key_table
from pievse.firmware.csms.configuration_keys import ConfigurationKeys, Key
from pievse.firmware.csms.meter_values import MEASURANDS
from pievse.firmware.csms.security_keys import security_key_specs
from pievse.firmware.persistence.store import Store

HANDLES = {v.name: v for v in vars(key_table).values() if isinstance(v, Key)}


def _specs() -> list:
    return [
        *key_table.core_key_specs(Config(), frozenset(MEASURANDS), phase_switching=True),
        *security_key_specs(Config(), bool),
    ]


def test_every_key_has_one_handle_and_every_handle_one_spec() -> None:
    names = [spec.name for spec in _specs()]
    assert len(names) == len(set(names))
    derived = {f"{h}MaxLength" for h in HANDLES if h.endswith("Data")}
    assert set(names) - derived == set(HANDLES)


def test_a_handle_says_what_its_spec_does() -> None:
    for spec in _specs():
        handle = HANDLES.get(spec.name)
        if handle is None:
            continue
        assert (handle.kind, handle.readonly, handle.write_only) == (
            spec.kind,
            spec.readonly,
            spec.write_only,
        ), spec.name
        assert handle.reboot_required == spec.reboot_required, spec.name


def test_a_handle_reads_its_value_in_its_type(tmp_path: Path) -> None:
    store = Store(tmp_path / "keys.db")
    keys = ConfigurationKeys(store, _specs())
    assert keys.get(key_table.HEARTBEAT_INTERVAL) == 300
    assert keys.get(key_table.AUTHORIZATION_CACHE_ENABLED) is True
    assert keys.get(key_table.STOP_TXN_ALIGNED_DATA) == []
    assert keys.get(key_table.CONNECTOR_PHASE_ROTATION) == "0.RST,1.RST"
    assert keys.change("heartbeatinterval", "120") == "Accepted"
    assert keys.get(key_table.HEARTBEAT_INTERVAL) == 120
    assert keys.change("HeartbeatInterval", "86401") == "Rejected", "the handle's bound"
    heard: list[str] = []
    keys.on_change(key_table.HEARTBEAT_INTERVAL, heard.append)
    keys.set(key_table.HEARTBEAT_INTERVAL, "60")
    assert heard == ["60"]
    store.close()
