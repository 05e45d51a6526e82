"""The co-processor's rules, run in the MicroPython unix port (tests/hal/test_pilot_coprocessor.py
starts it). Each test_ function runs; any failure exits non-zero."""

import sys

import pilot_protocol as proto
from pilot_logic import PilotLogic, state_from_high, valid_duty

LEVELS = {"A": (12.0, 12.0), "B": (9.0, -12.0), "C": (6.0, -12.0), "D": (3.0, -12.0)}


def frame(kind, payload=b"", seq=1):
    return proto.encode(seq, kind, payload)


def statuses(frames):
    reader = proto.FrameReader()
    found = []
    for f in frames:
        for _seq, kind, payload in reader.feed(f):
            if kind == proto.STATUS:
                found.append(proto.parse_status(payload))
    return found


def pwm_on(logic):
    """What the hardware runs once it applied the logic's duty."""
    return proto.DUTY_STATE_F < logic.duty_permille < proto.DUTY_STEADY_HIGH


def fed(logic, state, now, samples=2):
    for _ in range(samples):
        logic.on_levels(*LEVELS[state], pwm_on(logic))
    return logic.tick(now)


def charging(now=0):
    """A logic with the host alive, PWM at 26.7 %, EV in C, contactor enabled."""
    logic = PilotLogic("test", now)
    logic.receive(frame(proto.HELLO, bytes([proto.PROTOCOL_VERSION])), now)
    logic.receive(frame(proto.SET_PILOT, (267).to_bytes(2, "big"), 2), now)
    logic.receive(frame(proto.SET_CONTACTOR, b"\x01", 3), now)
    fed(logic, "C", now)
    assert logic.contactor_enabled, "should close in C with the PWM running"
    return logic


def test_states_from_the_high_level():
    expected = [(12.0, "A"), (9.0, "B"), (6.0, "C"), (3.0, "D"), (0.0, "E"), (-12.0, "F")]
    for volts, state in expected:
        assert state_from_high(volts) == state, (volts, state_from_high(volts))
    assert state_from_high(10.6) == "A" and state_from_high(10.4) == "B"
    assert state_from_high(-10.4) == "E" and state_from_high(-10.6) == "F"


def test_duty_limits():
    assert valid_duty(1000) and valid_duty(0) and valid_duty(100) and valid_duty(970)
    assert not valid_duty(50) and not valid_duty(99) and not valid_duty(971)


def test_hello_is_answered_with_version_and_a_status():
    logic = PilotLogic("1.2.3", 0)
    out = logic.receive(frame(proto.HELLO, bytes([proto.PROTOCOL_VERSION])), 0)
    reader = proto.FrameReader()
    kinds = [(kind, payload) for f in out for _s, kind, payload in reader.feed(f)]
    assert kinds[0] == (proto.HELLO_ACK, bytes([proto.PROTOCOL_VERSION]) + b"1.2.3"), kinds
    assert kinds[1][0] == proto.STATUS


def test_state_changes_need_two_samples_in_a_row():
    logic = PilotLogic("t", 0)
    logic.on_levels(6.0, -12.0, True)
    assert logic.state == "A"
    logic.on_levels(6.0, -12.0, True)
    assert logic.state == "C"


def test_closes_only_with_the_pwm_running_and_the_host_asking():
    logic = PilotLogic("t", 0)
    logic.receive(frame(proto.SET_CONTACTOR, b"\x01"), 0)
    fed(logic, "C", 0)
    assert not logic.contactor_enabled, "no PWM: the diode was never checked"
    logic.receive(frame(proto.SET_PILOT, (500).to_bytes(2, "big"), 2), 0)
    fed(logic, "C", 1)
    assert logic.contactor_enabled
    logic.receive(frame(proto.SET_CONTACTOR, b"\x00", 3), 2)
    fed(logic, "C", 2)
    assert not logic.contactor_enabled and logic.trip == proto.TRIP_NONE


def test_drops_by_itself_on_a_e_f_and_forgets_the_request():
    for state, high in (("A", 12.0), ("E", 0.0), ("F", -12.0)):
        logic = charging()
        for _ in range(2):
            logic.on_levels(high, high, True)
        logic.tick(1)
        assert not logic.contactor_enabled, state
        assert logic.trip == proto.TRIP_PILOT, (state, logic.trip)
        fed(logic, "C", 2)
        assert not logic.contactor_enabled, "only a new request closes it again"


def test_a_steady_sample_after_the_pwm_was_asked_for_neither_faults_nor_closes():
    logic = PilotLogic("t", 0)
    logic.receive(frame(proto.SET_CONTACTOR, b"\x01"), 0)
    fed(logic, "C", 0)
    logic.receive(frame(proto.SET_PILOT, (500).to_bytes(2, "big"), 2), 0)
    for _ in range(2):
        logic.on_levels(6.0, 6.0, False)  # the PWM not applied yet: both phases at +6 V
    logic.tick(1)
    assert logic.diode_ok and not logic.contactor_enabled and logic.trip == proto.TRIP_NONE
    fed(logic, "C", 2)
    assert logic.contactor_enabled, "the first sample under PWM shows the diode"


def test_ev_pausing_in_b_opens_without_a_trip():
    logic = charging()
    fed(logic, "B", 1)
    assert not logic.contactor_enabled and logic.trip == proto.TRIP_NONE


def test_rcd_trip_drops_and_latches():
    logic = charging()
    logic.on_rcd(True)
    logic.tick(1)
    assert not logic.contactor_enabled and logic.trip == proto.TRIP_RCD
    logic.on_rcd(False)
    fed(logic, "C", 2)
    assert not logic.contactor_enabled


def test_missing_diode_drops():
    logic = charging()
    for _ in range(2):
        logic.on_levels(6.0, -6.0, True)
    logic.tick(1)
    assert not logic.diode_ok and not logic.contactor_enabled
    assert logic.trip == proto.TRIP_DIODE


def test_suspending_keeps_the_contactor_until_the_ev_answers():
    logic = charging()
    logic.receive(frame(proto.SET_PILOT, (1000).to_bytes(2, "big"), 4), 1)
    fed(logic, "C", 2)
    assert logic.contactor_enabled, "the EV gets its time to answer C->B"
    fed(logic, "B", 3)
    assert not logic.contactor_enabled


def test_heartbeats_stop_then_everything_drops():
    logic = charging(now=0)
    logic.receive(frame(proto.HEARTBEAT, b"", 4), 400)
    fed(logic, "C", 800)
    assert logic.contactor_enabled, "400 ms after a heartbeat is fine"
    fed(logic, "C", 400 + proto.HEARTBEAT_TIMEOUT_MS + 1)
    assert logic.host_lost
    assert not logic.contactor_enabled and logic.trip == proto.TRIP_HEARTBEAT
    assert logic.duty_permille == proto.DUTY_STEADY_HIGH, "no offer without a host"
    logic.receive(frame(proto.HEARTBEAT, b"", 5), 1000)
    fed(logic, "C", 1001)
    assert not logic.host_lost and not logic.contactor_enabled


def test_a_test_current_keeps_the_contactor_open():
    logic = charging()
    logic.receive(frame(proto.RCD_TEST, b"\x01", 4), 1)
    fed(logic, "C", 1)
    assert not logic.contactor_enabled and logic.rcd_test


def test_bad_and_refused_frames_are_counted_not_obeyed():
    logic = PilotLogic("t", 0)
    broken = bytearray(frame(proto.SET_CONTACTOR, b"\x01"))
    broken[-1] ^= 0xFF
    logic.receive(bytes(broken), 0)
    assert not logic.close_requested
    logic.receive(frame(proto.SET_PILOT, (50).to_bytes(2, "big"), 2), 0)
    assert logic.duty_permille == proto.DUTY_STEADY_HIGH, "5 % is not a duty this box offers"
    logic.receive(frame(0x7F, b"", 3), 0)
    status = statuses(logic.tick(0))[-1]
    assert status[6] == 3, status


def test_status_goes_out_on_change_and_periodically():
    logic = charging(now=0)
    assert statuses(logic.tick(10)) == []
    assert statuses(logic.tick(proto.STATUS_EVERY_MS + 1)) != []
    for _ in range(2):
        logic.on_levels(12.0, 12.0, True)
    sent = statuses(logic.tick(proto.STATUS_EVERY_MS + 2))
    assert sent and sent[0][0] == "A", sent


failures = 0
for name in sorted(globals()):
    if name.startswith("test_"):
        try:
            globals()[name]()
            print("ok", name)
        except Exception as exc:
            failures += 1
            print("FAIL", name, repr(exc))
            sys.print_exception(exc)
sys.exit(1 if failures else 0)
