"""Every config key is declared once, in `firmware/config.py`; the example file and the
README's key tables are checked against that schema, both ways."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields

from pievse.firmware.config import Config, parse_config
from tests.rigs.paths import ROOT

EXAMPLE = ROOT / "deploy" / "pievse.example.toml"


def _schema() -> dict[str, set[str]]:
    return {
        section.name: {key.name for key in fields(section.default_factory())}  # type: ignore[misc]
        for section in fields(Config)
    }


def test_the_example_lists_every_key_and_only_keys_of_the_schema() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    schema = _schema()
    assert set(example) == set(schema)
    for section, keys in schema.items():
        assert set(example[section]) == keys, section


def test_the_example_shows_the_defaults() -> None:
    assert parse_config(tomllib.loads(EXAMPLE.read_text()), "example") == Config()


def _readme_keys() -> dict[str, set[str]]:
    """`[section] key` rows of the configuration table (a row may name more keys of its
    section after the first, as `key`), and the keys the Security section names."""
    text = (ROOT / "README.md").read_text()
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        row = re.match(r"\| `\[(\w+)\] ([^|]+)\|", line)
        if row:
            found.setdefault(row[1], set()).update(re.findall(r"`?(\w+)`?", row[2]))
    security = text[text.index("### Security") :]
    security = security[: security.index("\n## ")]
    found.setdefault("security", set()).update(re.findall(r"`(?:\[security\] )?(\w+)`", security))
    return found


def test_the_readme_documents_every_key_and_no_other() -> None:
    documented = _readme_keys()
    for section, keys in _schema().items():
        missing = keys - documented.get(section, set())
        assert not missing, f"README lacks [{section}] {sorted(missing)}"
    for section, keys in documented.items():
        if section != "security":  # its prose names other things in backticks too
            assert keys <= _schema()[section], (
                f"README names [{section}] {keys - _schema()[section]}"
            )
