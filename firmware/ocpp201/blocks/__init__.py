"""What the CSMS may ask a 2.0.1 box, one module per functional block (OCPP 2.0.1 Part 2)."""
