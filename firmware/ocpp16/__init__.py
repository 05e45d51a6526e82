"""The OCPP 1.6J front: the link, frames, the outbox, configuration keys, reporters; the only place
(with the connection security) that imports the ocpp library and websockets.
"""
