"""Logs and diagnostics: the log file, GetDiagnostics and GetLog uploads, journal logging."""
