"""Field install figures: deploy/install.sh from a fresh clone (no bundle: it builds one in a
venv of its own), the same from a bundle (offline), and the size of a bundle per platform
(this machine's, and with --platforms the Pi's: aarch64 and armv7l, with the pi extra).

Each install goes into its own --prefix tree from a `git clone` of this repository's HEAD.
Times depend on the pip cache and on the network for the clone's build.

Run: python tests/bench/bench_install.py [--platforms]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def timed(command: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    return time.monotonic() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--platforms", action="store_true", help="also aarch64 and armv7l")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        clone = work / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        install = str(clone / "deploy" / "install.sh")
        took, _ = timed([install, "--prefix", str(work / "from-clone")])
        print(f"{'install.sh from a clone (builds a bundle)':45} {took:7.1f} s")
        maker = [sys.executable, str(clone / "deploy" / "make_bundle.py"), "--out"]
        took, out = timed([*maker, str(work / "dist")])
        bundle = Path(out.splitlines()[0])
        print(f"{'make_bundle.py (this machine)':45} {took:7.1f} s")
        took, _ = timed([install, "--prefix", str(work / "from-bundle"), "--bundle", str(bundle)])
        print(f"{'install.sh --bundle (offline)':45} {took:7.1f} s")
        sizes = {"native": bundle.stat().st_size}
        for target in ("aarch64", "armv7l") if args.platforms else ():
            took, out = timed([*maker, str(work / target), "--platform", target, "--extra", "pi"])
            sizes[target] = Path(out.splitlines()[0]).stat().st_size
            print(f"{'make_bundle.py --platform ' + target + ' --extra pi':45} {took:7.1f} s")
        for target, size in sizes.items():
            print(f"{'bundle size, ' + target:45} {size / 1e6:7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
