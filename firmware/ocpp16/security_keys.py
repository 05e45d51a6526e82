"""The Security Whitepaper's configuration keys, with their values from the config file."""

from __future__ import annotations

from collections.abc import Callable

from pievse.firmware.authorization_key import valid_authorization_key
from pievse.firmware.config import Config
from pievse.firmware.csms.configuration_keys import KeySpec

CERTIFICATE_SIGNED_MAX_CHAIN_SIZE = 10_000
CPO_NAME_MAX_LENGTH = 64


def security_key_specs(config: Config, profile_allowed: Callable[[str], bool]) -> list[KeySpec]:
    """`profile_allowed` judges a new SecurityProfile (only upwards, only usable ones)."""
    security = config.security
    return [
        KeySpec(
            "AdditionalRootCertificateCheck",
            "bool",
            "true" if security.additional_root_certificate_check else "false",
            readonly=True,
        ),
        KeySpec(
            "AuthorizationKey",
            "str",
            security.authorization_key,
            check=valid_authorization_key,
            write_only=True,
        ),
        KeySpec(
            "CertificateSignedMaxChainSize",
            "int",
            str(CERTIFICATE_SIGNED_MAX_CHAIN_SIZE),
            readonly=True,
        ),
        KeySpec(
            "CertificateStoreMaxLength",
            "int",
            str(security.certificate_store_max_length),
            readonly=True,
        ),
        KeySpec(
            "CpoName",
            "str",
            security.cpo_name,
            check=lambda value: len(value) <= CPO_NAME_MAX_LENGTH,
        ),
        KeySpec(
            "SecurityProfile",
            "int",
            str(security.effective_profile(config.ocpp.csms_url)),
            maximum=3,
            accept_change=profile_allowed,
        ),
    ]
