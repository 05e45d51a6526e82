"""Charging profiles as values and the composite schedule: pure functions of time, no I/O."""
