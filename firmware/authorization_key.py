"""AuthorizationKey in the two forms CSMSs hand out (OCPP 1.6 Security Whitepaper, read as
the OCTT's TC_085 reads it).

- 32 to 40 hex digits stand for 16 to 20 bytes: those bytes are the Basic password;
- 16 to 20 other printable ASCII characters are a plaintext password, used as it is (most
  CSMSs issue plaintext keys).

Anything else is refused. A 32-digit hex string is always read as bytes: the two forms
cannot overlap in length otherwise, and the whitepaper's own form wins where they do.
"""

from __future__ import annotations

import re

_HEX_FORM = re.compile(r"(?:[0-9A-Fa-f]{2}){16,20}")
_PLAINTEXT_FORM = re.compile(r"[\x20-\x7e]{16,20}")
FORMS = "32 to 40 hex digits (16 to 20 bytes) or 16 to 20 printable ASCII characters"


def valid_authorization_key(value: str) -> bool:
    return bool(_HEX_FORM.fullmatch(value) or _PLAINTEXT_FORM.fullmatch(value))


def authorization_password(value: str) -> bytes:
    """The Basic password a key stands for; ValueError for a key of neither form."""
    if _HEX_FORM.fullmatch(value):
        return bytes.fromhex(value)
    if _PLAINTEXT_FORM.fullmatch(value):
        return value.encode("ascii")
    raise ValueError(f"an AuthorizationKey is {FORMS}")
