"""The local HTTP API (and its bench endpoints on simulated boards)."""
