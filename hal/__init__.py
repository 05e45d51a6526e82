"""Hardware abstraction: ports (primitives the hardware offers) and devices built from them."""
