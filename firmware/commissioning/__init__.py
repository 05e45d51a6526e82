"""Commissioning: the bring-up checklist of docs/hardware.md run against the board."""
