"""A fleet report as people and Prometheus read it: text lines every 10 s and at the end,
and the Prometheus text exposition format for `--metrics`."""

from __future__ import annotations

from pievse.firmware.fleet.fleet_report import FleetReport
from pievse.firmware.fleet.latency_histogram import LatencyHistogram

QUANTILES = (0.5, 0.99)


def _ms(value_s: float | None) -> str:
    return "-" if value_s is None else f"{value_s * 1000:.0f}"


def _latency(histogram: LatencyHistogram) -> str:
    p50, p99 = (histogram.percentile_s(q) for q in QUANTILES)
    top = None if histogram.total == 0 else histogram.max_s
    return f"p50 {_ms(p50)} ms, p99 {_ms(p99)} ms, max {_ms(top)} ms"


def _rate(count: int, before: int, seconds: float) -> str:
    return f"{(count - before) / seconds:.1f}/s" if seconds > 0 else "-"


def report_lines(report: FleetReport, previous: FleetReport | None = None) -> list[str]:
    """The headline, a line per action (rate over the run, and since `previous` when
    given), then boots, authorizations and the fleet's own load."""
    b, t, own = report.boxes, report.traffic, report.own
    since = 0.0 if previous is None else report.elapsed_s - previous.elapsed_s
    lines = [
        f"fleet {report.elapsed_s:5.0f} s: {b.started}/{b.planned} started, {b.registered} "
        f"registered, {b.charging} charging, {b.plug_ins} plug-ins, {b.failed} failed, "
        f"{b.faulted} faulted ({b.meter_offline} meter offline); {t.connections} connections, "
        f"{t.reconnects} reconnects" + (" [OVERLOADED: the fleet lags]" if own.overloaded else "")
    ]
    for action, counts in sorted(t.sent.items()):
        before = None if previous is None else previous.traffic.sent.get(action)
        before_count = 0 if before is None else before.count
        now = "" if previous is None else f", now {_rate(counts.count, before_count, since)}"
        errors = ", ".join(f"{code} {n}" for code, n in sorted(counts.errors.items())) or "none"
        lines.append(
            f"  sent {action}: {counts.count} ({_rate(counts.count, 0, report.elapsed_s)}{now}); "
            f"{_latency(counts.latency)}; CALLERRORs {errors}; timeouts {counts.timeouts}; "
            f"lost {counts.lost}"
        )
    if t.received:
        lines.append("  received: " + ", ".join(f"{a} {n}" for a, n in sorted(t.received.items())))
    boots = ", ".join(f"{s} {n}" for s, n in sorted(t.boots.items())) or "none yet"
    auths = ", ".join(f"{s} {n}" for s, n in sorted(t.authorizations.items())) or "none yet"
    lines.append(f"  boots: {boots}; authorizations: {auths}")
    cpu = own.cpu_s / report.elapsed_s if report.elapsed_s > 0 else 0.0
    lines.append(
        f"  fleet: {cpu:.0%} of a core over the run, RSS {own.rss_mb:.0f} MB in "
        f"{report.processes} process(es), loop lag {_latency(own.lag)}, "
        f"{own.meter_timeouts} meter timeouts"
    )
    return lines


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}"


def _summary(name: str, labels: dict[str, str], histogram: LatencyHistogram) -> list[str]:
    lines = []
    for q in QUANTILES:
        value = histogram.percentile_s(q)
        if value is not None:
            lines.append(_sample(name, {**labels, "quantile": f"{q:g}"}, value))
    lines.append(_sample(f"{name}_sum", labels, histogram.sum_s))
    lines.append(_sample(f"{name}_count", labels, histogram.total))
    return lines


def prometheus_text(report: FleetReport) -> str:
    b, t, own = report.boxes, report.traffic, report.own
    out = ["# TYPE pievse_fleet_boxes gauge"]
    for state in ("planned", "started", "failed", "registered", "charging", "faulted"):
        out.append(_sample("pievse_fleet_boxes", {"state": state}, getattr(b, state)))
    out.append("# TYPE pievse_fleet_requests_total counter")
    for action, c in sorted(t.sent.items()):
        outcomes = {"ok": c.ok, "timeout": c.timeouts, "lost": c.lost, **c.errors}
        for outcome, n in outcomes.items():
            out.append(
                _sample("pievse_fleet_requests_total", {"action": action, "outcome": outcome}, n)
            )
    out.append("# TYPE pievse_fleet_answer_latency_seconds summary")
    for action, c in sorted(t.sent.items()):
        out += _summary("pievse_fleet_answer_latency_seconds", {"action": action}, c.latency)
    out.append("# TYPE pievse_fleet_calls_received_total counter")
    for action, n in sorted(t.received.items()):
        out.append(_sample("pievse_fleet_calls_received_total", {"action": action}, n))
    for name, counter, label in (
        ("pievse_fleet_boots_total", t.boots, "status"),
        ("pievse_fleet_authorizations_total", t.authorizations, "status"),
    ):
        out.append(f"# TYPE {name} counter")
        out += [_sample(name, {label: key}, n) for key, n in sorted(counter.items())]
    out += [
        "# TYPE pievse_fleet_connections_total counter",
        _sample("pievse_fleet_connections_total", {}, t.connections),
        "# TYPE pievse_fleet_reconnects_total counter",
        _sample("pievse_fleet_reconnects_total", {}, t.reconnects),
        "# TYPE pievse_fleet_cpu_seconds_total counter",
        _sample("pievse_fleet_cpu_seconds_total", {}, own.cpu_s),
        "# TYPE pievse_fleet_resident_memory_bytes gauge",
        _sample("pievse_fleet_resident_memory_bytes", {}, own.rss_mb * 1024 * 1024),
        "# TYPE pievse_fleet_meter_timeouts_total counter",
        _sample("pievse_fleet_meter_timeouts_total", {}, own.meter_timeouts),
        "# TYPE pievse_fleet_overloaded gauge",
        _sample("pievse_fleet_overloaded", {}, 1 if own.overloaded else 0),
        "# TYPE pievse_fleet_loop_lag_seconds summary",
        *_summary("pievse_fleet_loop_lag_seconds", {}, own.lag),
    ]
    return "\n".join(out) + "\n"
