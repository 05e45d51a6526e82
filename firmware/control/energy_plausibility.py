"""Whether a meter's energy register can be believed: pure, so it is tested exhaustively.

A register only counts up, and no faster than the board can deliver: its rated current at
the nominal voltage on every phase, plus `MARGIN` for over-voltage and `SLACK_WH` for the
register's resolution. A reading outside that is flagged and not adopted: the session, the
MeterValues and the stop keep the last adopted count, and the next reading is judged
against that count and the time since it, so one glitch (+1 000 000 kWh on one poll) passes
and correct readings are adopted again at once. A register that really moved (a replaced or
reset meter) is adopted as a new baseline once `CONFIRMING_READS` readings in a row agree
with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from pievse.hal.interfaces import Ratings

MARGIN = 0.25
SLACK_WH = 100.0
CONFIRMING_READS = 3


@dataclass(frozen=True)
class EnergyRules:
    max_power_w: float
    """The rated current at the nominal voltage on every phase."""
    margin: float = MARGIN
    slack_wh: float = SLACK_WH
    confirming_reads: int = CONFIRMING_READS

    def allows(self, earlier_wh: float, later_wh: float, elapsed_s: float) -> bool:
        """Whether the register can have gone from `earlier_wh` to `later_wh` in
        `elapsed_s` seconds (a non-finite value never can)."""
        rise = later_wh - earlier_wh
        most = self.max_power_w * (1 + self.margin) * max(elapsed_s, 0.0) / 3600 + self.slack_wh
        return 0.0 <= rise <= most


def rated_power_w(ratings: Ratings) -> float:
    return ratings.max_current_a * ratings.nominal_voltage_v * ratings.phases


@dataclass(frozen=True)
class EnergyTrack:
    adopted_wh: float
    adopted_at: float
    """Monotonic seconds of the adopted reading."""
    candidate_wh: float | None = None
    """The last flagged reading, a new baseline if enough agree with it."""
    candidate_at: float = 0.0
    agreeing: int = 0
    """Flagged readings in a row that agree with each other, the candidate included."""


@dataclass(frozen=True)
class EnergyVerdict:
    track: EnergyTrack
    refused: str | None = None
    """Why the reading was not adopted; None when it was."""
    rebaselined: bool = False
    """Adopted as a new baseline after `confirming_reads` agreeing flagged readings."""

    @property
    def energy_wh(self) -> float:
        """What may be used: the adopted count."""
        return self.track.adopted_wh


def judge_energy(
    track: EnergyTrack | None, reading_wh: float, at: float, rules: EnergyRules
) -> EnergyVerdict:
    """The first reading is adopted (there is nothing to judge it by; a glitch there is
    replaced by the baseline the correct readings after it confirm)."""
    if track is None:
        return EnergyVerdict(EnergyTrack(reading_wh, at))
    if rules.allows(track.adopted_wh, reading_wh, at - track.adopted_at):
        return EnergyVerdict(EnergyTrack(reading_wh, at))
    candidate = track.candidate_wh
    agreeing = 1
    if candidate is not None and rules.allows(candidate, reading_wh, at - track.candidate_at):
        agreeing = track.agreeing + 1
    if agreeing >= rules.confirming_reads:
        return EnergyVerdict(EnergyTrack(reading_wh, at), rebaselined=True)
    elapsed = at - track.adopted_at
    reason = (
        f"energy register went from {track.adopted_wh:.0f} Wh to {reading_wh:.0f} Wh in "
        f"{elapsed:.1f} s; at most {rules.max_power_w:.0f} W plus the margin can flow"
    )
    flagged = EnergyTrack(track.adopted_wh, track.adopted_at, reading_wh, at, agreeing)
    return EnergyVerdict(flagged, reason)
