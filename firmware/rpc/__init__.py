"""OCPP-J: the RPC framework both OCPP fronts ride on (frames, dialects, the connection)."""
