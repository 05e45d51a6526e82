"""Energy management as pure functions: main-fuse headroom, PV surplus with its delays and
hysteresis. The control loop gets them as limit sources; nothing here does I/O."""
