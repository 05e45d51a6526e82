"""An EV that draws well below its site share, as its box's claim asks for it: what it takes
plus a margin, so the rest of the site's supply goes to the others."""

from __future__ import annotations

from dataclasses import dataclass

from pievse.firmware.control.duty_cycle import MIN_CURRENT_A as MIN_A


@dataclass
class TakingLess:
    """An EV that takes well below its share is asked for what it takes (plus a margin), so
    the rest goes to the others; when it comes up to that, it may have everything again."""

    below_since: float | None = None
    margin_a: float = 2.0
    after_s: float = 30.0
    reduced: bool = False

    def want_a(self, cap_a: float, share_a: float, drawn_a: float, now: float) -> float:
        if share_a <= 0 or drawn_a < 1.0:
            self.below_since, self.reduced = None, False
            return cap_a
        if self.reduced and drawn_a >= share_a - self.margin_a / 2:
            self.below_since, self.reduced = None, False
        if drawn_a < share_a - 1.5 * self.margin_a:
            self.below_since = now if self.below_since is None else self.below_since
            if now - self.below_since >= self.after_s:
                self.reduced = True
        else:
            self.below_since = None
        return min(cap_a, max(MIN_A, drawn_a + self.margin_a)) if self.reduced else cap_a
