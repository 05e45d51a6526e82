"""Files to and from the locations a CSMS names (HTTP(S), FTP)."""
