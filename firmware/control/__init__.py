"""The control loop and what it decides each tick: IEC 61851 behaviour, safety, faults, limit
arbitration, derating, duty cycle, connector status. Imports neither the OCPP front, the API nor
security.
"""
