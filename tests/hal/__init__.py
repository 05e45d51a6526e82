"""Ports, devices and Modbus meters."""
