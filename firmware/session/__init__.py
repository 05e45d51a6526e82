"""Charging sessions, reservations and what is known of an id tag; persisted, protocol-neutral."""
