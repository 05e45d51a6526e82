"""A fleet's report as pure data: latency percentiles from log buckets within a bucket of
the truth, reports that survive JSON and add up across shards, summaries from a file that
are refused with a reason when they are not a fleet's, a CSMS that cannot grow the report,
and Prometheus text a scraper can parse."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.fleet.fleet_report import FleetReport, merged, read_summary
from pievse.firmware.fleet.fleet_traffic import BoxTraffic, FleetTraffic
from pievse.firmware.fleet.latency_histogram import GROWTH, LatencyHistogram, histogram_of
from pievse.firmware.fleet.report_rendering import prometheus_text, report_lines

latencies = st.lists(
    st.floats(min_value=0.0002, max_value=600.0, allow_nan=False), min_size=1, max_size=300
)


@given(latencies, st.sampled_from([0.5, 0.9, 0.99, 1.0]))
def test_a_percentile_from_the_buckets_is_within_one_bucket_of_the_true_one(
    samples: list[float], fraction: float
) -> None:
    ordered = sorted(samples)
    true = ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
    estimate = histogram_of(samples).percentile_s(fraction)
    assert estimate is not None
    assert true / GROWTH <= estimate <= true * GROWTH * 1.000001, (true, estimate)


@given(latencies, latencies)
def test_histograms_of_two_shards_add_up_to_the_histogram_of_both(
    first: list[float], second: list[float]
) -> None:
    both = histogram_of(first)
    both.merge(histogram_of(second))
    whole = histogram_of(first + second)
    assert both.counts == whole.counts and both.max_s == whole.max_s
    assert both.sum_s == pytest.approx(whole.sum_s)


def test_latencies_that_are_not_numbers_count_as_the_longest_and_never_raise() -> None:
    histogram = histogram_of([math.nan, math.inf, -1.0, 1e300, 0.01])
    assert histogram.total == 5
    assert math.isfinite(histogram.max_s) and math.isfinite(histogram.sum_s)
    assert LatencyHistogram.from_json(json.loads(json.dumps(histogram.to_json()))) == histogram


def _traffic() -> FleetTraffic:
    traffic = FleetTraffic()
    box = BoxTraffic(traffic)
    box.connected()
    box.answered("BootNotification", 0.02, "ok", {"status": "Accepted"})
    box.answered("BootNotification", 0.03, "ok", {"status": "Pending"})
    box.answered("Authorize", 0.01, "ok", {"idTagInfo": {"status": "Invalid"}})
    box.answered("Authorize", 0.01, "ok", {"idTokenInfo": {"status": "Accepted"}})
    box.answered("MeterValues", 0.5, "InternalError", None)
    box.answered("MeterValues", 30.0, "timeout", None)
    box.answered("MeterValues", 0.1, "lost", None)
    box.received("RemoteStartTransaction")
    box.connected()
    return traffic


def test_the_traffic_counts_answers_errors_boots_authorizations_and_reconnects() -> None:
    traffic = _traffic()
    meter = traffic.sent["MeterValues"]
    assert (meter.count, meter.ok, meter.timeouts, meter.lost) == (3, 0, 1, 1)
    assert meter.errors == {"InternalError": 1}
    assert meter.latency.total == 1, "a timeout or a lost connection has no answer latency"
    assert traffic.boots == {"Accepted": 1, "Pending": 1}
    assert traffic.authorizations == {"Invalid": 1, "Accepted": 1}
    assert (traffic.connections, traffic.reconnects) == (2, 1)
    assert traffic.received == {"RemoteStartTransaction": 1}


def test_a_csms_cannot_grow_the_report_with_error_codes_of_its_own() -> None:
    traffic = FleetTraffic()
    for n in range(1000):
        traffic.answered("Heartbeat", 0.01, f"Made-up-{n}\n", None)
    assert traffic.sent["Heartbeat"].errors == {"other": 1000}


def test_a_report_survives_json_and_shards_add_up() -> None:
    one = FleetReport(elapsed_s=30.0, traffic=_traffic())
    one.boxes.planned = one.boxes.started = 3
    one.own.cpu_s, one.own.rss_mb = 2.0, 50.0
    two = read_summary(json.dumps(one.to_json()), "two.json")
    assert two.to_json() == one.to_json()
    two.elapsed_s = 40.0
    two.own.overloaded = True
    total = merged([one, two])
    assert total.elapsed_s == 40.0 and total.processes == 2
    assert total.boxes.started == 6 and total.own.rss_mb == 100.0 and total.own.overloaded
    assert total.traffic.sent["MeterValues"].count == 6
    assert total.traffic.boots["Accepted"] == 2 and total.traffic.reconnects == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not a fleet summary"),
        ("[]", "a fleet summary is a JSON object"),
        ('{"elapsed_s": "long"}', "elapsed_s: expected a number"),
        ('{"elapsed_s": -1}', "elapsed_s: expected 0 or more"),
        ('{"boxes": {"started": 1e400}}', "started: expected a number"),
        ('{"sent": {"X": {"latency": {"buckets": {"99999999": 1}}}}}', "expected 0..600"),
        ('{"sent": {"X": {"latency": {"buckets": {"3": -2}}}}}', "is not a count"),
        ('{"sent": {"X": []}}', "X: expected an object"),
        ("[" * 100_000 + "]" * 100_000, "not a fleet summary"),
    ],
)
def test_a_summary_that_is_not_a_fleets_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        read_summary(text, "shard.json")


def test_the_text_names_rates_latencies_and_the_overload() -> None:
    report = FleetReport(elapsed_s=10.0, traffic=_traffic())
    report.own.overloaded = True
    lines = report_lines(report)
    assert "[OVERLOADED: the fleet lags]" in lines[0]
    meter = next(line for line in lines if "sent MeterValues" in line)
    assert "3 (0.3/s)" in meter and "CALLERRORs InternalError 1" in meter
    assert "timeouts 1" in meter and "lost 1" in meter and "p99 500 ms" in meter
    assert "  boots: Accepted 1, Pending 1; authorizations: Accepted 1, Invalid 1" in lines


SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+inf]+$')


def test_prometheus_text_is_what_a_scraper_parses() -> None:
    traffic = _traffic()
    traffic.answered("Heartbeat", 0.01, 'Odd"code\\', None)
    text = prometheus_text(FleetReport(elapsed_s=5.0, traffic=traffic))
    for line in text.splitlines():
        assert line.startswith("# TYPE ") or SAMPLE.match(line), line
    assert 'pievse_fleet_requests_total{action="MeterValues",outcome="timeout"} 1' in text
    assert 'pievse_fleet_answer_latency_seconds_count{action="BootNotification"} 2' in text
    assert 'pievse_fleet_boots_total{status="Pending"} 1' in text
    assert "pievse_fleet_reconnects_total 1" in text
