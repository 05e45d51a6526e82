"""Stand-ins for what lies below the seams the hardware owns: GPIO, I2C, sysfs PWM."""
