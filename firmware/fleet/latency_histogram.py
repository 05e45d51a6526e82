"""Answer latencies kept in logarithmic buckets: a fleet counts hundreds of answers a second
for hours, so it keeps counts per bucket instead of every sample, and shards' histograms add
up exactly. A percentile read from the buckets is within one bucket's width (GROWTH) of the
true one; the maximum is kept exactly."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GROWTH = 1.05
"""Each bucket's upper bound is 5 % above the one before."""
SMALLEST_S = 0.0001
"""Everything up to 0.1 ms falls in bucket 0."""
LAST_BUCKET = 600
"""About 16 years: everything longer (or infinite) falls here."""


def bucket_of(latency_s: float) -> int:
    if not latency_s > SMALLEST_S:  # also NaN
        return 0
    if latency_s >= upper_bound_s(LAST_BUCKET):
        return LAST_BUCKET
    return math.ceil(math.log(latency_s / SMALLEST_S, GROWTH))


def upper_bound_s(bucket: int) -> float:
    return SMALLEST_S * GROWTH**bucket


@dataclass
class LatencyHistogram:
    counts: dict[int, int] = field(default_factory=dict)
    max_s: float = 0.0
    sum_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, latency_s: float) -> None:
        """A latency that is not a finite number of seconds counts as the longest."""
        if not (math.isfinite(latency_s) and latency_s >= 0):
            latency_s = upper_bound_s(LAST_BUCKET)
        bucket = bucket_of(latency_s)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.sum_s += latency_s
        if latency_s > self.max_s:
            self.max_s = latency_s

    def merge(self, other: LatencyHistogram) -> None:
        for bucket, count in other.counts.items():
            self.counts[bucket] = self.counts.get(bucket, 0) + count
        self.max_s = max(self.max_s, other.max_s)
        self.sum_s += other.sum_s

    def percentile_s(self, fraction: float) -> float | None:
        """The nearest-rank percentile, as its bucket's upper bound (never above the max)."""
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return min(upper_bound_s(bucket), self.max_s)
        return self.max_s

    def to_json(self) -> dict[str, object]:
        buckets = {str(b): n for b, n in sorted(self.counts.items())}
        return {"buckets": buckets, "max_s": self.max_s, "sum_s": self.sum_s}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LatencyHistogram:
        """Raises ValueError for anything that is not a histogram this module wrote."""
        buckets = data.get("buckets", {})
        max_s, sum_s = data.get("max_s", 0.0), data.get("sum_s", 0.0)
        if not (
            isinstance(buckets, Mapping)
            and isinstance(max_s, int | float)
            and isinstance(sum_s, int | float)
            and all(math.isfinite(v) and v >= 0 for v in (max_s, sum_s))
        ):
            raise ValueError("a histogram has buckets (an object), max_s and sum_s (numbers)")
        counts: dict[int, int] = {}
        for key, count in buckets.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) <= LAST_BUCKET):
                raise ValueError(f"histogram bucket {key!r}: expected 0..{LAST_BUCKET}")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"histogram bucket {key!r}: {count!r} is not a count")
            counts[int(key)] = count
        return cls(counts, float(max_s), float(sum_s))


def histogram_of(latencies: Iterable[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for latency in latencies:
        histogram.add(latency)
    return histogram
