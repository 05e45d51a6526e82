"""Firmware updates, releases and deployment."""
