"""Real release bundles for the update tests, built once per session with deploy/make_bundle.py
from copies of this project at other versions, signed with a manufacturer PKI made here."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from tests.rigs.paths import ROOT
from tests.rigs.pki import Issued, Pki

BASE = "0.1.0"
UPDATE = "0.1.1"
NEVER_REGISTERS = "0.1.2"
DOES_NOT_RUN = "0.1.4"
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "node_modules",
)  # fmt: skip


@dataclass(frozen=True)
class Bundles:
    directory: Path
    maker: Pki
    """The ManufacturerRootCertificate's PKI."""
    signer: Issued
    """Its firmware signing certificate."""
    stranger: Issued
    """A signing certificate of another root."""

    def path(self, version: str) -> Path:
        return self.directory / f"pievse-{version}.bundle"

    def signature(self, version: str) -> str:
        return self.path(version).with_name(f"pievse-{version}.bundle.sig").read_text().strip()

    def tampered(self) -> Path:
        """The update bundle with one byte of its pievse wheel changed (manifest untouched)."""
        path = self.directory / "tampered.bundle"
        if path.exists():
            return path
        with tarfile.open(self.path(UPDATE)) as source, tarfile.open(path, "w") as out:
            for member in source:
                data = source.extractfile(member).read()  # type: ignore[union-attr]
                if member.name.startswith("wheels/pievse-"):
                    data = data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
                out.addfile(member, io.BytesIO(data))
        return path


def _signer(maker: Pki, name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = maker.issue(name, key.public_key(), days=(-1, 365), code_signing=True)
    return Issued(key, certificate)


EXTRA_MIGRATION = """
MIGRATIONS = (*MIGRATIONS, Migration("ALTER TABLE sessions ADD COLUMN tariff TEXT;"))
"""
"""What NEVER_REGISTERS adds to the schema: an additive migration, so the release it rolls
back to must keep running on the database it migrated."""


def _project_at(version: str, work: Path, broken: bool = False, migrates: bool = False) -> Path:
    copy = work / f"project-{version}"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'version = "{BASE}"', f'version = "{version}"')
    )
    if broken:
        cli = copy / "firmware" / "cli" / "commands.py"
        cli.write_text("import no_such_module_in_this_release\n" + cli.read_text())
    if migrates:
        migrations = copy / "firmware" / "persistence" / "migrations.py"
        migrations.write_text(migrations.read_text() + EXTRA_MIGRATION)
    return copy


def _make(out: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make_bundle.py"), "--out", str(out), *args],
        check=True,
        capture_output=True,
        text=True,
    )


def build(directory: Path) -> Bundles:
    maker = Pki("Maker Root")
    signer = _signer(maker, "pievse firmware signing")
    stranger = _signer(Pki("Someone Else"), "not our firmware")
    certificate, key = signer.write(directory, "signer")
    _make(directory)
    wheels = directory / "wheels"
    wheels.mkdir()
    with tarfile.open(directory / f"pievse-{BASE}.bundle") as tar:
        for member in tar:
            if member.name.startswith("wheels/"):
                (wheels / Path(member.name).name).write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    for version in (UPDATE, NEVER_REGISTERS, DOES_NOT_RUN):
        project = _project_at(
            version, directory, broken=version == DOES_NOT_RUN, migrates=version == NEVER_REGISTERS
        )
        _make(directory, "--project", str(project), "--wheels", str(wheels),
              "--key", str(key), "--certificate", str(certificate))  # fmt: skip
        shutil.rmtree(project)
    return Bundles(directory, maker, signer, stranger)


def install(prefix: Path, bundle: Path) -> None:
    subprocess.run(
        [str(ROOT / "deploy" / "install.sh"), "--prefix", str(prefix), "--bundle", str(bundle)],
        check=True,
        capture_output=True,
        text=True,
    )
