"""A row of the `pievse` command's table: a sub-command's names, how it adds its parser to
the command's, and what runs it. Each sub-command's module makes its row."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True, kw_only=True)
class Subcommand:
    names: tuple[str, ...]
    """The sub-commands `add` adds; `run` is told which one by `args.command`."""
    add: Callable[[SubParsers], None]
    run: Callable[[argparse.Namespace], int]
    """The exit code: 0 done, 1 failed, 2 bad flags, config or files, 130 interrupted."""
