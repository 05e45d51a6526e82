"""Device drivers built from ports; the same code runs on simulated and real ports."""
