"""The site's limit sources wired onto the controller: main-fuse protection before the OCPP
sources, the owner's mode and setpoint after them (on a tie the earlier names the limit).
The wallbox registers them, and so do the day scenarios, from the same two functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.persistence.store import Store
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.main_fuse import MainFuseLimit
from pievse.hal.interfaces import Ratings


def register_main_fuse(
    controller: ChargeController,
    config: SiteConfig,
    grid: GridReadings,
    monotonic: Callable[[], float],
    own_currents: Callable[[], Sequence[float | None]],
    ratings: Ratings,
) -> MainFuseLimit | None:
    """The phases the EV can use are the board's: a 1-phase box ignores L2 and L3."""
    if not config.main_fuse_a:
        return None
    phases = tuple(range(ratings.phases))
    fuse = MainFuseLimit(config, grid, monotonic, own_currents, lambda: phases)
    controller.limits.register("main_fuse", fuse.limit_a)
    return fuse


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
        (ratings.nominal_voltage_v, ratings.phases),
        controller.wake,
    )
    controller.limits.register("charging_mode", mode.limit_a)
    controller.limits.register("setpoint", mode.setpoint_limit_a)
    return mode
