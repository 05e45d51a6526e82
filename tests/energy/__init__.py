"""Energy management: headroom, PV surplus, precedence."""
