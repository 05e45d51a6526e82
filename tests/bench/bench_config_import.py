"""What reading the config's declaration costs at start-up: CPU time and RSS growth of
`import pievse.firmware.config` (the whole declaration, hal/declared and the loader) and of
reading a config file, each in a fresh interpreter after the stdlib modules it uses.

Run: python tests/bench/bench_config_import.py [--runs 15] [--with PYTHON]

`--with PYTHON`: an interpreter that has msgspec, to print the library's own import cost
beside ours (the comparison that chose stdlib dataclasses; see hal/declared.py).
CPU time (time.process_time) rather than wall time: a loaded machine disturbs it less.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STDLIB = "import dataclasses, enum, typing, json, tomllib, pathlib, ipaddress, re, functools"
PROBE = """{stdlib}
import time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1])
before, started = rss(), time.process_time()
{statement}
print((time.process_time() - started) * 1000, rss() - before)
"""
CASES = {
    "import pievse.firmware.config": "import pievse.firmware.config",
    "... and read a config file": (
        "from pievse.firmware.config import parse_config\n"
        "parse_config({'site': {'main_fuse_a': 20, 'mode': 'pv'}, 'control': {'tick_ms': 50}})"
    ),
}


def measure(python: str, statement: str, runs: int) -> tuple[list[float], list[int]]:
    code = PROBE.format(stdlib=STDLIB, statement=statement)
    cpu, rss = [], []
    for _ in range(runs):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        ms, kb = out.stdout.split()
        cpu.append(float(ms))
        rss.append(int(kb))
    return cpu, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--with", dest="other", help="a python with msgspec installed")
    args = parser.parse_args()
    cases = [(sys.executable, name, statement) for name, statement in CASES.items()]
    if args.other:
        cases.append((args.other, "import msgspec (the library alone)", "import msgspec"))
    for python, name, statement in cases:
        cpu, rss = measure(python, statement, args.runs)
        print(
            f"{name:40s} CPU {min(cpu):5.1f} ms (median {statistics.median(cpu):5.1f})"
            f"  RSS +{min(rss)} kB (median {statistics.median(rss):.0f})"
        )


if __name__ == "__main__":
    main()
