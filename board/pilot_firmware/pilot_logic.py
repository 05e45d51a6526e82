"""What the pilot co-processor decides, apart from its pins: the pilot state and the diode
check from the sampled levels, when its own contactor-enable output may be on, and the host
link (commands, heartbeat watchdog, status frames).

The co-processor holds the contactor only while all of these hold, whatever the host says:
the host asked for it and is alive (heartbeats), the EV is in C or D, the diode is there,
the RCD has not tripped, no RCD test runs. It closes only with the PWM running (the diode can
only be judged then). When one condition fails it drops the output at once and forgets the
host's request, so power comes back only when the host asks again. Without heartbeats it
also stops offering (steady +12 V): a dead host leaves the EV without an offer.

MicroPython (RP2040, and the unix port under test); `now_ms` comes from time.ticks_ms().
"""

import time

import pilot_protocol as proto

STATE_FLOORS_V = ((10.5, "A"), (7.5, "B"), (4.5, "C"), (1.5, "D"), (-1.5, "E"))
"""Lower bound of the high level for each state, midway between A 12, B 9, C 6, D 3, E 0 V."""
F_BELOW_V = -10.5
DIODE_LOW_MAX_V = -10.5
"""With the PWM running, the low level must reach -12 V: above this the EV has no diode."""
DEBOUNCE_SAMPLES = 2
"""A new state counts after this many samples in a row (a sample pair takes ~1 ms)."""
STEADY_HIGH = proto.DUTY_STEADY_HIGH
STATE_F = proto.DUTY_STATE_F
MIN_DUTY = 100
MAX_DUTY = 970
DRAWING = ("C", "D")


def state_from_high(high_v: float) -> str:
    for floor_v, state in STATE_FLOORS_V:
        if high_v >= floor_v:
            return state
    return "E" if high_v > F_BELOW_V else "F"


def valid_duty(permille: int) -> bool:
    """Steady high, state F, or a current-carrying duty of 10 % to 97 % (IEC 61851-1)."""
    return permille in (STEADY_HIGH, STATE_F) or MIN_DUTY <= permille <= MAX_DUTY


class PilotLogic:
    def __init__(self, firmware_version: str, now_ms: int) -> None:
        self.firmware_version = firmware_version
        self.duty_permille = STEADY_HIGH
        self.state = "A"
        self.high_mv = 12000
        self.low_mv = 12000
        self.diode_ok = True
        self.diode_checked = False
        self.pwm_sampled = False
        self.rcd_tripped = False
        self.rcd_test = False
        self.contactor_closed = False
        self.contactor_enabled = False
        self.close_requested = False
        self.trip = proto.TRIP_NONE
        self.host_lost = True
        self.commands_refused = 0
        self._candidate = "A"
        self._candidate_count = 0
        self._last_host_ms = now_ms
        self._seq = 0
        self._status_due_ms = now_ms
        self._reported = ()
        self.reader = proto.FrameReader()

    # --- the host --------------------------------------------------------------------------

    def receive(self, data: bytes, now_ms: int) -> list:
        """Frames from the host's bytes; returns the frames to answer with."""
        out = []
        for _seq, kind, payload in self.reader.feed(data):
            self._last_host_ms = now_ms
            self.host_lost = False
            if kind == proto.HELLO:
                version = bytes([proto.PROTOCOL_VERSION]) + self.firmware_version.encode()
                out.append(self._frame(proto.HELLO_ACK, version))
                out.append(self._status_frame(now_ms))
            elif kind == proto.SET_PILOT and len(payload) == 2:
                duty = payload[0] << 8 | payload[1]
                if valid_duty(duty):
                    self.duty_permille = duty
                else:
                    self.commands_refused += 1
            elif kind == proto.SET_CONTACTOR and len(payload) == 1:
                self.close_requested = payload[0] == 1
                if self.close_requested:
                    self.trip = proto.TRIP_NONE
            elif kind == proto.RCD_TEST and len(payload) == 1:
                self.rcd_test = payload[0] == 1
            elif kind != proto.HEARTBEAT:
                self.commands_refused += 1
        return out

    # --- the hardware's inputs -------------------------------------------------------------

    def on_levels(self, high_v: float, low_v: float, pwm_running: bool) -> None:
        """`pwm_running`: the pair was sampled in the high and the low phase of a running
        PWM. Only such a pair can show the diode; right after the host starts the PWM the
        hardware may still be steady, and that sample must neither fault nor close."""
        self.high_mv = int(high_v * 1000)
        self.low_mv = int(low_v * 1000)
        seen = state_from_high(high_v)
        if seen == self._candidate:
            self._candidate_count += 1
        else:
            self._candidate = seen
            self._candidate_count = 1
        if self._candidate_count >= DEBOUNCE_SAMPLES:
            self.state = seen
        self.pwm_sampled = pwm_running
        judged = pwm_running and self.state in ("B", "C", "D")
        self.diode_ok = not judged or low_v <= DIODE_LOW_MAX_V
        self.diode_checked = judged and self.diode_ok

    def on_rcd(self, tripped: bool) -> None:
        self.rcd_tripped = tripped

    def on_feedback(self, closed: bool) -> None:
        self.contactor_closed = closed

    # --- deciding ---------------------------------------------------------------------------

    def tick(self, now_ms: int) -> list:
        """Applies the rules; returns the frames to send (a status when due or changed)."""
        if not self.host_lost and time.ticks_diff(now_ms, self._last_host_ms) > (
            proto.HEARTBEAT_TIMEOUT_MS
        ):
            self.host_lost = True
            self.duty_permille = STEADY_HIGH
            if self.contactor_enabled:
                self.trip = proto.TRIP_HEARTBEAT
            self.close_requested = False
        reason = self._hold_refused()
        if self.contactor_enabled and reason is not None:
            self.contactor_enabled = False
            self.close_requested = False
            if reason != proto.TRIP_NONE:
                self.trip = reason
        elif not self.contactor_enabled and reason is None:
            self.contactor_enabled = self.diode_checked
        if self._summary() != self._reported or time.ticks_diff(now_ms, self._status_due_ms) >= 0:
            return [self._status_frame(now_ms)]
        return []

    def _hold_refused(self) -> int | None:
        """None when the contactor may be held; else the trip it counts as (TRIP_NONE for
        the host's own open request, a test, or the EV pausing in B)."""
        if self.rcd_tripped:
            return proto.TRIP_RCD
        if self.host_lost:
            return proto.TRIP_HEARTBEAT
        if self.state in ("A", "E", "F"):
            return proto.TRIP_PILOT
        if not self.diode_ok:
            return proto.TRIP_DIODE
        if not self.close_requested or self.rcd_test or self.state not in DRAWING:
            return proto.TRIP_NONE
        return None

    # --- status -----------------------------------------------------------------------------

    def flags(self) -> int:
        flags = 0
        if self.contactor_enabled:
            flags |= proto.FLAG_CONTACTOR_ENABLED
        if self.contactor_closed:
            flags |= proto.FLAG_CONTACTOR_CLOSED
        if self.rcd_tripped:
            flags |= proto.FLAG_RCD_TRIPPED
        if self.diode_ok:
            flags |= proto.FLAG_DIODE_OK
        if self.pwm_sampled:
            flags |= proto.FLAG_PWM_ACTIVE
        if self.host_lost:
            flags |= proto.FLAG_HOST_LOST
        return flags

    def _summary(self) -> tuple:
        """What a status reports at once when it changes (levels alone wait for the next)."""
        return (self.state, self.duty_permille, self.flags(), self.trip)

    def _status_payload(self) -> bytes:
        return proto.status_payload(
            self.state,
            max(-32768, min(32767, self.high_mv)),
            max(-32768, min(32767, self.low_mv)),
            self.duty_permille,
            self.flags(),
            self.trip,
            self.reader.bad_frames + self.commands_refused,
            self.reader.lost_frames,
        )

    def _status_frame(self, now_ms: int) -> bytes:
        self._reported = self._summary()
        self._status_due_ms = time.ticks_add(now_ms, proto.STATUS_EVERY_MS)
        return self._frame(proto.STATUS, self._status_payload())

    def _frame(self, kind: int, payload: bytes) -> bytes:
        self._seq = (self._seq + 1) & 0xFF
        return proto.encode(self._seq, kind, payload)
