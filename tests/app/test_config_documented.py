"""Every config key is declared once, in `firmware/config.py`; the example file and the
README's key tables are checked against that schema, both ways."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from pievse.firmware.config import (
    SECTIONS,
    Config,
    ConfigError,
    MeterLossPolicy,
    SiteMode,
    dump_config,
    key,
    parse_config,
    with_values,
)
from pievse.firmware.config.docs import example_file, readme_with_table
from pievse.firmware.config.docs import main as config_docs_main
from pievse.hal.declared import entries
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


def test_the_readme_table_and_the_example_are_rendered_from_the_declaration() -> None:
    """`python -m pievse.firmware.config.docs README.md deploy/pievse.example.toml`
    rewrites both when a key changes; until then this fails."""
    readme = (ROOT / "README.md").read_text()
    assert readme_with_table(readme) == readme
    assert example_file() == EXAMPLE.read_text()
    assert config_docs_main([str(ROOT / "README.md"), str(EXAMPLE), "--check"]) == 0


def test_a_changed_declaration_makes_the_check_fail(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(
        (ROOT / "README.md").read_text().replace("| 1 to 20 characters |", "| 1..20 |")
    )
    example = tmp_path / "example.toml"
    example.write_text(EXAMPLE.read_text().replace("tick_ms = 100", "tick_ms = 50"))
    assert config_docs_main([str(stale), str(example), "--check"]) == 1
    assert config_docs_main([str(stale), str(example)]) == 0
    assert stale.read_text() == (ROOT / "README.md").read_text()
    assert example.read_text() == EXAMPLE.read_text()


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_default_is_of_its_declared_type_and_passes_its_check(section: str) -> None:
    for entry in entries(SECTIONS[section]):
        assert type(entry.default) is entry.kind, f"[{section}] {entry.name}"
        check = entry.check()
        assert check is None or check.holds(entry.default), f"[{section}] {entry.name}"


def test_code_names_a_key_by_attribute_and_a_misspelt_one_fails_at_once() -> None:
    fuse = key(lambda c: c.site.main_fuse_a)
    assert str(fuse) == "[site] main_fuse_a"
    config = with_values(Config(), {fuse: 32}, "test")
    assert fuse.of(config) == 32.0
    with pytest.raises(AttributeError, match=r"site\.main_fuse"):
        key(lambda c: c.site.main_fuse)  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="sites"):
        key(lambda c: c.sites.main_fuse_a)  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        key(lambda c: c.site)


def test_values_set_by_key_are_checked_as_in_a_file() -> None:
    with pytest.raises(
        ConfigError, match=r"^--flag: \[control\] tick_ms: expected 10..1000, got 5$"
    ):
        with_values(Config(), {key(lambda c: c.control.tick_ms): 5}, "--flag")


def test_enumerations_are_typed() -> None:
    config = parse_config({"site": {"mode": "pv"}, "meter": {"on_loss": "continue"}})
    assert config.site.mode is SiteMode.PV
    assert config.meter.on_loss is MeterLossPolicy.CONTINUE
    assert dump_config(config).count('mode = "pv"') == 1
