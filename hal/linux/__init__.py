"""Real ports for Linux and the Raspberry Pi; imported only when a board file names them."""
