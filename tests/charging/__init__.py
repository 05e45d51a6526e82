"""Charging profiles and the composite schedule."""
