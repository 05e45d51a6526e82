"""The pure `Host` and `Origin` checks: which names and origins are the box's own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.api.request_origin import host_allowed, same_origin, split_host
from pievse.firmware.config import ConfigError, allowed_host_names, parse_config

NONE: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("host", "local", "listen", "allowed", "ok"),
    [
        ("127.0.0.1:8080", "127.0.0.1", "127.0.0.1", NONE, True),
        ("localhost:8080", "127.0.0.1", "127.0.0.1", NONE, True),
        ("localhost", "192.168.1.5", "0.0.0.0", NONE, False),  # over the LAN it is not us
        ("192.168.1.5", "192.168.1.5", "0.0.0.0", NONE, True),
        ("192.168.1.6", "192.168.1.5", "0.0.0.0", NONE, False),
        ("0.0.0.0:8080", "127.0.0.1", "0.0.0.0", NONE, False),
        ("[::1]:8080", "::1", "::1", NONE, True),
        ("[::ffff:127.0.0.1]", "127.0.0.1", "127.0.0.1", NONE, True),
        ("127.0.0.1", "::ffff:127.0.0.1", "::", NONE, True),
        ("pievse.local", "192.168.1.5", "pievse.local", NONE, True),
        ("wallbox.lan:443", "127.0.0.1", "127.0.0.1", frozenset({"wallbox.lan"}), True),
        ("wallbox.lan.evil.example", "127.0.0.1", "127.0.0.1", frozenset({"wallbox.lan"}), False),
        ("evil.example", "127.0.0.1", "127.0.0.1", NONE, False),
        ("127.0.0.1.evil.example", "127.0.0.1", "127.0.0.1", NONE, False),
        ("", "127.0.0.1", "127.0.0.1", NONE, False),
        ("::1", "::1", "::1", NONE, False),  # IPv6 without brackets is not a Host
        ("127.0.0.1:99999", "127.0.0.1", "127.0.0.1", NONE, False),
        ("127.0.0.1:80:80", "127.0.0.1", "127.0.0.1", NONE, False),
        ("local host", "127.0.0.1", "127.0.0.1", NONE, False),
    ],
)
def test_hosts(host: str, local: str, listen: str, allowed: frozenset[str], ok: bool) -> None:
    assert host_allowed(host, local, listen, allowed) is ok


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", True),
        ("http://127.0.0.1:8081", "127.0.0.1:8080", False),
        ("http://localhost:8080", "127.0.0.1:8080", False),
        ("https://wallbox.lan", "wallbox.lan", True),
        ("https://wallbox.lan", "wallbox.lan:443", True),
        ("http://wallbox.lan", "wallbox.lan:80", True),
        ("http://wallbox.lan", "wallbox.lan:443", False),
        ("null", "127.0.0.1:8080", False),
        ("file://", "127.0.0.1:8080", False),
        ("ws://127.0.0.1:8080", "127.0.0.1:8080", False),
        ("http://user@127.0.0.1:8080", "127.0.0.1:8080", False),
        ("http://127.0.0.1:8080/path", "127.0.0.1:8080", False),
        ("http://[::1", "127.0.0.1:8080", False),
        ("HTTP://127.0.0.1:8080", "127.0.0.1:8080", True),
    ],
)
def test_origins(origin: str, host: str, ok: bool) -> None:
    assert same_origin(origin, host) is ok


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_header_text_is_answered_without_an_exception(host: str, origin: str) -> None:
    assert isinstance(host_allowed(host, "127.0.0.1", "127.0.0.1", NONE), bool)
    assert isinstance(same_origin(origin, host), bool)
    parts = split_host(host)
    assert parts is None or (parts[0] and parts[0] == parts[0].lower())


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}\.){0,3}[a-z]{2,6}", fullmatch=True))
def test_a_configured_name_is_allowed_with_any_port_and_only_itself(name: str) -> None:
    allowed = allowed_host_names(name)
    assert allowed == {name}
    assert host_allowed(f"{name.upper()}:8080", "127.0.0.1", "127.0.0.1", allowed)
    assert not host_allowed(f"{name}.evil.example", "127.0.0.1", "127.0.0.1", allowed)
    assert not host_allowed(f"x{name}", "127.0.0.1", "127.0.0.1", allowed)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", set()),
        ("wallbox.lan, Pievse.Local.", {"wallbox.lan", "pievse.local"}),
        ("192.168.1.5,::1", {"192.168.1.5", "::1"}),
        ("wallbox.lan:8080", None),
        ("wall box", None),
        ("a/b", None),
        (",".join(f"h{n}" for n in range(17)), None),
    ],
)
def test_allowed_hosts_config(value: str, names: set[str] | None) -> None:
    assert allowed_host_names(value) == (None if names is None else frozenset(names))


def test_a_bad_allowed_hosts_key_names_itself() -> None:
    with pytest.raises(ConfigError, match=r"\[api\] allowed_hosts: expected comma-separated"):
        parse_config({"api": {"allowed_hosts": "wallbox.lan:8080"}}, "pievse.toml")
    with pytest.raises(ConfigError, match=r"\[api\] head_timeout_s: expected 1..300"):
        parse_config({"api": {"head_timeout_s": 0}}, "pievse.toml")
