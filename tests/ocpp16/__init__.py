"""The OCPP 1.6J front against the real test CSMS."""
