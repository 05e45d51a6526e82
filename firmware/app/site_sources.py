"""The site's limit sources wired onto the controller: main-fuse protection and the site
share before the OCPP sources, the owner's mode and setpoint after them (on a tie the earlier
names the limit). The wallbox registers them in those two groups, and the day scenarios
from the same functions one by one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pievse.firmware.clock import Clock
from pievse.firmware.config import PHASE_ROTATIONS, Config, SiteConfig
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.persistence.store import Store
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.main_fuse import MainFuseLimit, OwnReading
from pievse.firmware.site.own_demand import SHARE_SOURCE, OwnDemandReader
from pievse.firmware.site.phase_planner import PhasePlanner
from pievse.firmware.site.site_share import SiteShare
from pievse.hal.interfaces import Ratings

GRID_STALE = "GridMeterStale"
"""The connector's vendorErrorCode (errorCode OtherError) while main-fuse protection runs
on its failsafe current."""


def register_main_fuse(
    controller: ChargeController,
    config: SiteConfig,
    grid: GridReadings,
    monotonic: Callable[[], float],
    own_reading: OwnReading,
) -> MainFuseLimit | None:
    """The phases the EV uses are those in use (a 1-phase box ignores L2 and L3). A box
    that shares its site's supply leaves the fuse to the site allocation, which tells the
    other boxes' draw from the house's."""
    if not config.main_fuse_a or config.id:
        return None
    fuse = MainFuseLimit(
        config, grid, monotonic, own_reading, lambda: controller.state.phases.in_use
    )
    controller.limits.register(
        "main_fuse", fuse.limit_a, lambda: GRID_STALE if fuse.stale else None
    )
    controller.limit_failsafes["main_fuse"] = lambda: config.failsafe_current_a
    return fuse


def register_site_share(
    controller: ChargeController,
    config: SiteConfig,
    box: str,
    grid: GridReadings,
    clock: Clock,
) -> SiteShare | None:
    """After main-fuse protection and before the OCPP sources; the claim asks for the
    lowest of the other limits."""
    if not config.id:
        return None
    reader = OwnDemandReader(controller, PHASE_ROTATIONS[config.phase_rotation])
    share = SiteShare(config, box, grid, reader, (clock.monotonic, lambda: clock.now().timestamp()))
    controller.limits.register(SHARE_SOURCE, share.limit_a, share.degraded)
    controller.limit_failsafes[SHARE_SOURCE] = lambda: share.failsafe_a
    return share


def register_charging_mode(
    controller: ChargeController,
    config: SiteConfig,
    store: Store,
    grid: GridReadings,
    monotonic: Callable[[], float],
    own_power_w: Callable[[], float],
    ratings: Ratings,
) -> ChargingMode:
    mode = ChargingMode(
        config,
        store,
        grid,
        monotonic,
        own_power_w,
        (ratings.nominal_voltage_v, lambda: controller.state.phases.in_use),
        controller.wake,
        switchable=lambda: controller.state.phases.switchable,
    )
    controller.limits.register("charging_mode", mode.limit_a)
    controller.limits.register("setpoint", mode.setpoint_limit_a)
    return mode


def register_phase_planner(
    controller: ChargeController,
    config: SiteConfig,
    main_fuse: MainFuseLimit | None,
    mode: ChargingMode,
    requested: Callable[[datetime], int | None],
    clock: Clock,
) -> PhasePlanner:
    """A step listener: it plans from the step's limits, the switch happens in later steps."""
    planner = PhasePlanner(
        config,
        (lambda: controller.state.phases, controller.request_phases),
        lambda: controller.active_limits,
        main_fuse,
        mode,
        requested,
        (clock.monotonic, clock.now),
    )
    controller.step_listeners.append(planner.step)
    return planner


def register_supply_limits(
    controller: ChargeController, config: Config, grid: GridReadings, clock: Clock
) -> tuple[MainFuseLimit | None, SiteShare | None]:
    """What the site's supply allows: before the OCPP sources."""
    main_fuse = register_main_fuse(
        controller, config.site, grid, clock.monotonic, lambda: controller.measurements
    )
    share = register_site_share(controller, config.site, config.charge_point.id, grid, clock)
    return main_fuse, share


def register_owner_limits(
    controller: ChargeController,
    config: SiteConfig,
    store: Store,
    grid: GridReadings,
    clock: Clock,
    ratings: Ratings,
    main_fuse: MainFuseLimit | None,
    requested_phases: Callable[[datetime], int | None],
) -> ChargingMode:
    """The owner's mode and setpoint, after the OCPP sources, and the phase planner that
    plans from every limit; `requested_phases`: what a charging profile asks for."""

    def own_power_w() -> float:
        m = controller.measurements
        return 0.0 if m is None or m.power_w is None else max(0.0, m.power_w)

    mode = register_charging_mode(
        controller, config, store, grid, clock.monotonic, own_power_w, ratings
    )
    register_phase_planner(controller, config, main_fuse, mode, requested_phases, clock)
    return mode
