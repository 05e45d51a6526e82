"""The box over MQTT: its state and availability for home automation, Home Assistant
discovery, and command topics that go through the same checks as the local API."""
