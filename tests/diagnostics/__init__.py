"""GetDiagnostics, GetLog and the log files."""
