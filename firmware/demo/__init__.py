"""`pievse demo`: a bench box and a small central system on loopback, a scripted session,
and the OCPP exchange printed as a timeline a newcomer can read."""
