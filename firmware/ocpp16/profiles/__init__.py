"""One handler object per OCPP 1.6 feature profile, merged into one route map by the connection."""
