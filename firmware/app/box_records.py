"""What a box keeps in its data directory, opened at its start in the order each needs the
one before: the store, the configuration keys in it (and the start-up keys they change in the
config), the OCPP version to speak, the sessions, the outbox where a CSMS is configured, the
security log that sends through it, the certificates, the diagnostics log and the releases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pievse.firmware.app.ocpp_fronts import FrontChoice
from pievse.firmware.clock import Clock
from pievse.firmware.config import Config
from pievse.firmware.csms.configuration_keys import PREFIX, ConfigurationKeys
from pievse.firmware.csms.key_table import METER_POLL_INTERVAL, core_key_specs
from pievse.firmware.csms.meter_values import deliverable_measurands
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.security_keys import security_key_specs
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.persistence.store import Store
from pievse.firmware.security.certificate_store import CertificateStore
from pievse.firmware.security.provisioning import provision
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.updates.releases import Releases
from pievse.hal.interfaces import Board


@dataclass(frozen=True, kw_only=True)
class BoxRecords:
    store: Store
    keys: ConfigurationKeys
    config: Config
    """The config the box runs on: the file's, with the keys the CSMS changed that are
    read only at start-up."""
    front: FrontChoice
    session_log: SessionLog
    outbox: Outbox | None
    """None: no CSMS is configured."""
    security_log: SecurityLog
    certificates: CertificateStore
    diagnostics: DiagnosticsLog
    releases: Releases


def open_records(
    data_dir: Path,
    config: Config,
    board: Board,
    clock: Clock,
    profile_allowed: Callable[[str], bool],
    *,
    power_safe: bool,
) -> BoxRecords:
    """`profile_allowed`: whether the connection security allows a SecurityProfile value
    (the key's check); `power_safe`: the store flushes to disk at every commit (not a
    fleet's simulated box, which has no power to lose)."""
    store = Store(data_dir / "pievse.db", restore_snapshot=True, power_safe=power_safe)
    measurands = deliverable_measurands(board.meter.measurands, board.ev_soc is not None)
    keys = ConfigurationKeys(
        store,
        [
            *core_key_specs(config, measurands, board.phase_contactor is not None),
            *security_key_specs(config, profile_allowed),
        ],
    )
    config = _with_stored_keys(config, store)
    front = FrontChoice(config, store)
    session_log = SessionLog(store)
    outbox = Outbox(store, keys, version=front.version) if config.ocpp.csms_url else None
    security_log = SecurityLog(
        store,
        clock,
        config.security.security_log_max_entries,
        sender=None if outbox is None else outbox.put_durable,
    )
    certificates = CertificateStore(
        data_dir / "certs", clock.now, config.security.certificate_store_max_length
    )
    provision(config.security, certificates)
    return BoxRecords(
        store=store,
        keys=keys,
        config=config,
        front=front,
        session_log=session_log,
        outbox=outbox,
        security_log=security_log,
        certificates=certificates,
        diagnostics=DiagnosticsLog(data_dir / "logs"),
        releases=Releases(Path(config.firmware.install_root)),
    )


def _with_stored_keys(config: Config, store: Store) -> Config:
    """Keys the CSMS changed that are read only at start-up (RebootRequired)."""
    stored = store.get_setting(PREFIX + METER_POLL_INTERVAL.name)
    if stored is None or not stored.isdigit():
        return config
    return replace(config, meter=replace(config.meter, poll_interval_s=float(stored)))
