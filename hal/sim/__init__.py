"""Simulated ports fed by one plant model: the bench runs the real device code on them."""
