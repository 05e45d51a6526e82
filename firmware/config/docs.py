"""The README's key table and the example config file, rendered from the declaration in
`sections.py`, so that neither can drift from the loader.

`python -m pievse.firmware.config.docs README.md deploy/pievse.example.toml` rewrites
both; with `--check` it only says whether they differ (exit 1), as the tests do.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from pievse.firmware.config import SECTIONS, toml_value
from pievse.hal.declared import Entry, entries

TABLE_START = (
    "<!-- key table: generated from firmware/config/sections.py by "
    "`python -m pievse.firmware.config.docs README.md deploy/pievse.example.toml` -->"
)
TABLE_END = "<!-- end of the key table -->"
EXAMPLE_HEAD = (
    "# pievse configuration. Every key is optional; the values shown are the defaults.\n"
    '# See README.md, "Configuration", for what each key does. Generated from\n'
    "# firmware/config/sections.py (python -m pievse.firmware.config.docs).\n"
)
UNCHECKED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
SECRET = 'secret: never logged, and `pievse config` shows `"(set)"`'
COMMENT_AT = 26
WIDTH = 96


def key_table() -> str:
    """The README's table: one row per key, its default, the values it takes (from its
    check) and what it does."""
    rows = ["| key | default | values | meaning |", "| --- | --- | --- | --- |"]
    for section, cls in SECTIONS.items():
        for entry in entries(cls):
            meaning = entry.declaration.doc
            if entry.declaration.secret:
                meaning = f"{meaning}; {SECRET}"
            cells = (f"`[{section}] {entry.name}`", _default(entry), _values(entry), meaning)
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _default(entry: Entry) -> str:
    value = entry.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    return str(value)


def _values(entry: Entry) -> str:
    check = entry.check()
    if check is not None:
        return check.expected
    base = str if issubclass(entry.kind, str) else entry.kind
    return UNCHECKED[base]


def example_file() -> str:
    """Every key with its default, a short note beside it (or above, when it is long)."""
    lines = [EXAMPLE_HEAD]
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        for entry in entries(cls):
            line = f"{entry.name} = {toml_value(entry.default)}"
            note = entry.declaration.note
            beside = f"{line:<{COMMENT_AT - 1}} # {note}"
            if not note:
                lines.append(line)
            elif len(beside) <= WIDTH + 4:
                lines.append(beside)
            else:
                lines.extend(
                    textwrap.wrap(note, WIDTH, initial_indent="# ", subsequent_indent="# ")
                )
                lines.append(line)
        lines.append("")
    return "\n".join(lines)


def readme_with_table(readme: str) -> str:
    """`readme` with the text between the table's markers replaced by `key_table()`."""
    start = readme.index(TABLE_START) + len(TABLE_START)
    end = readme.index(TABLE_END, start)
    return f"{readme[:start]}\n\n{key_table()}\n{readme[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pievse.firmware.config.docs")
    parser.add_argument("readme", type=Path)
    parser.add_argument("example", type=Path)
    parser.add_argument("--check", action="store_true", help="only say what differs")
    args = parser.parse_args(argv)
    wanted = {
        args.readme: readme_with_table(args.readme.read_text()),
        args.example: example_file(),
    }
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path}: differs from firmware/config/sections.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"{path}: rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
