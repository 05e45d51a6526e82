"""Security profiles, certificates, secrets, security events."""
