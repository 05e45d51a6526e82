"""The Security Whitepaper's configuration keys (`csms.key_table` declares them), with
their defaults from the config file's [security] section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pievse.firmware.authorization_key import valid_authorization_key
from pievse.firmware.csms.configuration_keys import KeySpec
from pievse.firmware.csms.key_table import (
    ADDITIONAL_ROOT_CERTIFICATE_CHECK,
    AUTHORIZATION_KEY,
    CERTIFICATE_SIGNED_MAX_CHAIN_SIZE,
    CERTIFICATE_STORE_MAX_LENGTH,
    CPO_NAME,
    SECURITY_PROFILE,
)

CERTIFICATE_SIGNED_MAX_CHAIN_BYTES = 10_000
CPO_NAME_MAX_LENGTH = 64


class _Security(Protocol):
    @property
    def additional_root_certificate_check(self) -> bool: ...

    @property
    def authorization_key(self) -> str: ...

    @property
    def certificate_store_max_length(self) -> int: ...

    @property
    def cpo_name(self) -> str: ...

    def effective_profile(self, csms_url: str) -> int: ...


class _Ocpp(Protocol):
    @property
    def csms_url(self) -> str: ...


class SecurityDefaults(Protocol):
    """The config file's sections the defaults come from."""

    @property
    def security(self) -> _Security: ...

    @property
    def ocpp(self) -> _Ocpp: ...


def security_key_specs(
    config: SecurityDefaults, profile_allowed: Callable[[str], bool]
) -> list[KeySpec]:
    """`profile_allowed` judges a new SecurityProfile (only upwards, only usable ones)."""
    security = config.security
    return [
        ADDITIONAL_ROOT_CERTIFICATE_CHECK.spec(security.additional_root_certificate_check),
        AUTHORIZATION_KEY.spec(security.authorization_key, check=valid_authorization_key),
        CERTIFICATE_SIGNED_MAX_CHAIN_SIZE.spec(CERTIFICATE_SIGNED_MAX_CHAIN_BYTES),
        CERTIFICATE_STORE_MAX_LENGTH.spec(security.certificate_store_max_length),
        CPO_NAME.spec(security.cpo_name, check=lambda value: len(value) <= CPO_NAME_MAX_LENGTH),
        SECURITY_PROFILE.spec(
            security.effective_profile(config.ocpp.csms_url), accept_change=profile_allowed
        ),
    ]
