"""The box's link to its central system, whichever OCPP version: registration and requests
(`session`), the socket loop (`link`), the durable outbox, and the key store both versions'
settings live in.
"""
