"""The `pievse` command: its subcommands and their flags, above everything it starts (a
wallbox, the demo, a fleet, the meter emulator, the release guard)."""
