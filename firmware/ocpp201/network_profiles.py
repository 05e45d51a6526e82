"""Network connection profiles (OCPP 2.0.1 B09, B10, A05): where the box connects and how,
kept in numbered slots and tried in the order NetworkConfigurationPriority gives.

- Slot 1 holds the configuration file's connection ([ocpp] csms_url, [security]); when that
  file's connection changes, slot 1 takes it and goes to the head of the order again: the
  installer's word wins, as it does for the security profile.
- The CSMS writes the other slots with SetNetworkProfile, never the one in use and never with
  a security profile below the one the box has connected with, and sets the order; a new
  order applies from the next start (RebootRequired), so a migration is: profile, order,
  Reset.
- NetworkProfileConnectionAttempts failed attempts in a row on one slot move the box to the
  next slot of the order, round and round. A slot below the security profile the box has
  connected with is skipped: a fallback never downgrades the link.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from pievse.firmware.persistence.store import Store

log = logging.getLogger(__name__)
SLOTS = (1, 2, 3)
CONFIGURED_SLOT = 1
DEFAULT_ATTEMPTS = 3
MAX_ATTEMPTS = 100
SLOT_SETTING = "network:slot:{}"
PRIORITY_SETTING = "network:priority"
ATTEMPTS_SETTING = "network:attempts"
FLOOR_SETTING = "network:floor"
CONFIGURED_SETTING = "network:configured"


@dataclass(frozen=True)
class NetworkProfile:
    url: str
    """The CSMS URL without the box's identity."""
    security_profile: int
    message_timeout_s: float
    interface: str = "Any"
    """Where the OS routes the URL: the box does not bind to an interface."""

    def scheme_error(self) -> str | None:
        """Profiles 0 and 1 are plain WebSockets, 2 and 3 TLS: a URL that says otherwise
        would send a password in the clear or expect a certificate that never comes."""
        wanted = "wss://" if self.security_profile >= 2 else "ws://"
        if not self.url.startswith(wanted):
            return f"security profile {self.security_profile} needs a {wanted} URL"
        return None


def _profile(text: str) -> NetworkProfile:
    return NetworkProfile(**json.loads(text))


class NetworkProfiles:
    def __init__(self, store: Store, configured: NetworkProfile) -> None:
        self._store = store
        self._adopt(configured)
        self.order = [slot for slot in self.priority() if self.slot(slot) is not None]
        """The order of this start (a new one waits for the next)."""
        self._position = 0
        self._failures = 0
        self._skip_below_floor()

    def _adopt(self, configured: NetworkProfile) -> None:
        seen = json.dumps(asdict(configured), sort_keys=True)
        if self._store.get_setting(CONFIGURED_SETTING) == seen:
            return
        self._store.set_setting(CONFIGURED_SETTING, seen)
        self._store.set_setting(SLOT_SETTING.format(CONFIGURED_SLOT), seen)
        rest = [slot for slot in self.priority() if slot != CONFIGURED_SLOT]
        self._store.set_setting(PRIORITY_SETTING, ",".join(map(str, [CONFIGURED_SLOT, *rest])))
        self._store.set_setting(FLOOR_SETTING, str(configured.security_profile))

    # --- what is stored ------------------------------------------------------------------

    def slot(self, number: int) -> NetworkProfile | None:
        stored = self._store.get_setting(SLOT_SETTING.format(number))
        return None if stored is None else _profile(stored)

    def priority(self) -> list[int]:
        stored = self._store.get_setting(PRIORITY_SETTING) or str(CONFIGURED_SLOT)
        return [int(item) for item in stored.split(",")]

    def attempts(self) -> int:
        return int(self._store.get_setting(ATTEMPTS_SETTING) or DEFAULT_ATTEMPTS)

    @property
    def floor(self) -> int:
        """The security profile the box has connected with: none below it is used again."""
        return int(self._store.get_setting(FLOOR_SETTING) or 0)

    # --- what the CSMS sets --------------------------------------------------------------

    def put(self, number: int, profile: NetworkProfile) -> str | None:
        """Store `profile` in slot `number`, or say why not."""
        if number not in SLOTS:
            return f"slot {number} does not exist (slots {','.join(map(str, SLOTS))})"
        if number == self.current()[0]:
            return f"slot {number} is in use"
        if profile.security_profile < self.floor:
            return (
                f"security profile {profile.security_profile} is below the "
                f"{self.floor} the box connects with"
            )
        reason = profile.scheme_error()
        if reason is not None:
            return reason
        self._store.set_setting(SLOT_SETTING.format(number), json.dumps(asdict(profile)))
        return None

    def set_priority(self, value: str) -> str:
        """NetworkConfigurationPriority: RebootRequired, or Rejected for a slot that is
        empty, unknown or listed twice, or an order without a slot at the floor."""
        try:
            slots = [int(item) for item in value.split(",")]
        except ValueError:
            return "Rejected"
        profiles = [self.slot(slot) for slot in slots]
        if len(set(slots)) != len(slots) or None in profiles:
            return "Rejected"
        if all(p is not None and p.security_profile < self.floor for p in profiles):
            return "Rejected"
        self._store.set_setting(PRIORITY_SETTING, ",".join(map(str, slots)))
        return "RebootRequired"

    def set_attempts(self, value: str) -> str:
        if not value.isdigit() or not 1 <= int(value) <= MAX_ATTEMPTS:
            return "Rejected"
        self._store.set_setting(ATTEMPTS_SETTING, str(int(value)))
        return "Accepted"

    # --- the slot in use -----------------------------------------------------------------

    def current(self) -> tuple[int, NetworkProfile]:
        number = self.order[self._position]
        profile = self.slot(number)
        assert profile is not None
        return number, profile

    def failed(self) -> None:
        """One attempt on the current slot failed; enough of them move to the next."""
        self._failures += 1
        if self._failures < self.attempts() or len(self.order) == 1:
            return
        left = self.current()[0]
        self.pass_over()
        log.warning(
            "slot %d failed %d times: trying slot %d", left, self.attempts(), self.current()[0]
        )

    def pass_over(self) -> None:
        """On to the next slot of the order (the current one failed, or cannot be used now:
        its credentials are missing)."""
        self._failures = 0
        self._position = (self._position + 1) % len(self.order)
        self._skip_below_floor()

    def connected(self) -> None:
        self._failures = 0
        profile = self.current()[1].security_profile
        if profile > self.floor:
            self._store.set_setting(FLOOR_SETTING, str(profile))

    def _skip_below_floor(self) -> None:
        for _ in self.order:
            profile = self.current()[1]
            if profile.security_profile >= self.floor:
                return
            self._position = (self._position + 1) % len(self.order)
