"""The control loop: the IEC 61851 table, timing, faults, isolation, power loss."""
