"""The releases on the box, side by side, each in its own venv:

    <root>/releases/<version>/venv/     installed from a bundle, offline
    <root>/releases/<version>/.complete written last: a release without it is half-made
    <root>/current  -> releases/<version>   what systemd starts
    <root>/previous -> releases/<version>   where a failed update goes back to

A venv cannot be moved (its scripts name their interpreter by absolute path), so a release is
built in place and marked complete last; an incomplete one is removed and built again. The
links are swapped atomically (a new link renamed over the old), so a power cut leaves either
the old or the new target, never none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pievse.firmware.updates.release_bundle import (
    BundleError,
    Canceled,
    Source,
    extract,
    read_manifest,
)

log = logging.getLogger(__name__)
PIP_TIMEOUT_S = 600.0
SMOKE_TIMEOUT_S = 60.0
STOP_POLL_S = 0.2


class ReleaseError(RuntimeError):
    """`status`: InstallationFailed (it could not be installed) or InstallVerificationFailed
    (it was installed but does not run)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def compile_command(venv: Path) -> list[str]:
    """Bytecode for the service's PYTHONOPTIMIZE=2 (the unit's Environment=), written at
    install: otherwise every start compiles every module, slower and with a few MB more RSS
    left behind, and a read-only release could never cache it."""
    return [
        str(venv / "bin" / "python"),
        "-OO",
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        str(venv / "lib"),
    ]


class Releases:
    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, version: str) -> Path:
        return self.root / "releases" / version

    def executable(self, version: str) -> Path:
        return self.directory(version) / "venv" / "bin" / "pievse"

    def _target(self, name: str) -> str | None:
        link = self.root / name
        if not link.is_symlink():
            return None
        return Path(os.readlink(link)).name

    def current(self) -> str | None:
        return self._target("current")

    def previous(self) -> str | None:
        return self._target("previous")

    def is_complete(self, version: str) -> bool:
        return (self.directory(version) / ".complete").exists()

    def install(self, bundle: Source, stop: threading.Event | None = None) -> str:
        """Installs the bundle's release (if not there yet) and returns its version; once
        `stop` is set the work ends (Canceled) and leaves no half-made release."""
        try:
            version = self._install(bundle, stop or threading.Event())
        except BundleError as exc:
            raise ReleaseError("InstallationFailed", str(exc)) from exc
        try:
            self.verify(version)
        except ReleaseError:
            if version not in (self.current(), self.previous()):
                shutil.rmtree(self.directory(version), ignore_errors=True)
            raise
        return version

    def _install(self, bundle: Source, stop: threading.Event) -> str:
        version = read_manifest(bundle).version
        if self.is_complete(version):
            return version
        directory = self.directory(version)
        if directory.exists():
            log.warning("removing the half-made release %s", version)
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        try:
            return self._build(bundle, directory, stop)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def _build(self, bundle: Source, directory: Path, stop: threading.Event) -> str:
        manifest = extract(bundle, directory / "bundle", stop)
        venv = directory / "venv"
        self._run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "venv", stop)
        self._run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(venv / "bin" / "python"),
                "install",
                "--quiet",
                "--no-index",
                "--no-cache-dir",
                "--find-links",
                str(directory / "bundle" / "wheels"),
                manifest.requirement,
            ],
            "pip install",
            stop,
        )
        self._compile(venv, stop)
        shutil.rmtree(directory / "bundle")
        (directory / ".complete").write_text(manifest.version + "\n")
        return manifest.version

    def _compile(self, venv: Path, stop: threading.Event) -> None:
        """Best effort: a module that does not compile is found by `verify` or by the
        release's own start (and then rolled back), as without bytecode."""
        try:
            self._run(compile_command(venv), "compileall", stop)
        except ReleaseError as exc:
            log.warning("%s; those modules compile at start", exc)

    def _run(self, command: list[str], what: str, stop: threading.Event) -> None:
        """`command` to its end, or until `stop` is set (then it is killed: Canceled)."""
        with tempfile.TemporaryFile("w+") as output:
            try:
                process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
            except OSError as exc:
                raise ReleaseError("InstallationFailed", f"{what}: {exc}") from exc
            deadline = time.monotonic() + PIP_TIMEOUT_S
            while process.poll() is None and not stop.is_set() and time.monotonic() < deadline:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(STOP_POLL_S)
            if process.poll() is None:
                process.kill()
                process.wait()
                if stop.is_set():
                    raise Canceled(f"{what}: the update was canceled")
                raise ReleaseError("InstallationFailed", f"{what}: no end in {PIP_TIMEOUT_S:g} s")
            output.seek(0)
            lines = output.read().strip().splitlines()
        if process.returncode != 0:
            raise ReleaseError(
                "InstallationFailed",
                f"{what} failed: {lines[-1] if lines else process.returncode}",
            )

    def verify(self, version: str) -> None:
        """The installed release starts and says it is this version."""
        try:
            done = subprocess.run(
                [str(self.executable(version)), "--version"],
                capture_output=True,
                text=True,
                timeout=SMOKE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReleaseError(
                "InstallVerificationFailed", f"{version} does not start: {exc}"
            ) from exc
        if done.returncode != 0 or done.stdout.strip() != f"pievse {version}":
            raise ReleaseError(
                "InstallVerificationFailed",
                f"{version} does not run: {(done.stdout + done.stderr).strip()[-200:]!r}",
            )

    def _link(self, name: str, version: str) -> None:
        link = self.root / name
        temporary = self.root / f".{name}.new"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(Path("releases") / version)
        os.replace(temporary, link)

    def switch(self, version: str) -> None:
        """`version` becomes current, what was current becomes previous."""
        running = self.current()
        if running is not None and running != version:
            self._link("previous", running)
        self._link("current", version)

    def roll_back(self) -> str:
        """current goes back to previous; returns the version now current."""
        previous = self.previous()
        if previous is None or not self.is_complete(previous):
            raise ReleaseError("InstallationFailed", "no previous release to go back to")
        self._link("current", previous)
        return previous
