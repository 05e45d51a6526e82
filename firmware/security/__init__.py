"""The Security Whitepaper's domain: connection security profiles, certificates, the
security log.
"""
