"""The OCPP 2.0.1 front: what the box says and answers in 2.0.1 terms, on the same domain,
link and outbox as 1.6 (see docs/ocpp201.md for the use cases it covers)."""
