"""The installed distribution is what users get: metadata, license, typing marker, device data.

In CI the suite runs against the installed wheel, so these tests read the wheel's metadata; in a
development install (``pip install -e``) they read what the same ``setup.py`` produces.
"""

from __future__ import annotations

import json
import sysconfig
from importlib import resources
from importlib.metadata import Distribution, distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import pytket.extensions.iqm as package
from pytket.extensions.iqm import __extension_name__, __extension_version__

# Both iqm-client lines and nothing between them (see setup.py): 22.x from 22.3, and 36.x.
IQM_CLIENT_SPECIFIER = SpecifierSet(
    ">=22.3," + ",".join(f"!={major}.*" for major in range(23, 36)) + ",<37"
)
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
# Metadata is written at install time: a development install older than setup.py is stale.
STALE = "installed metadata differs from setup.py; reinstall (pip install -e .) if setup.py changed"


def _site_packages() -> list[str]:
    return sorted({sysconfig.get_path(name) for name in ("purelib", "platlib")})


def _distribution() -> Distribution:
    # Looked up in site-packages only: a build leaves pytket_iqm.egg-info in the checkout, which
    # importlib.metadata would otherwise find first (the working directory is on sys.path).
    found = list(distributions(name="pytket-iqm", path=_site_packages()))
    if not found:
        pytest.fail('pytket-iqm is not installed: run the tests after pip install ".[test]"')
    (installed,) = found
    return installed


def _installed_files() -> set[str]:
    files = _distribution().files or []
    return {str(path) for path in files}


def _requirement(name: str) -> Requirement:
    requirements = [Requirement(line) for line in _distribution().requires or []]
    (found,) = [r for r in requirements if r.name == name and r.marker is None]
    return found


def test_metadata_matches_distribution() -> None:
    assert __extension_name__ == "pytket-iqm"
    assert _distribution().version == __extension_version__


def test_iqm_client_requirement_admits_exactly_the_two_lines() -> None:
    specifier = _requirement("iqm-client").specifier
    assert specifier == IQM_CLIENT_SPECIFIER, STALE
    admitted = ["22.3", "22.16", "36.0.0", "36.9"]
    refused = ["22.2", "23.0", "24.1", "29.14.0", "35.0.3", "37.0.0"]
    assert [specifier.contains(v) for v in admitted + refused] == [True] * 4 + [False] * 6


def test_python_versions_and_classifiers() -> None:
    metadata = _distribution().metadata
    assert metadata["Requires-Python"] == ">=3.10", STALE
    classifiers = metadata.get_all("Classifier") or []
    assert [c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")] == [
        f"Programming Language :: Python :: {version}" for version in PYTHON_VERSIONS
    ]


def test_license_is_declared_and_shipped() -> None:
    metadata = _distribution().metadata
    assert metadata["License-Expression"] == "Apache-2.0", STALE
    assert metadata.get_all("License-File") == ["LICENSE"]
    (license_file,) = [f for f in _distribution().files or [] if f.name == "LICENSE"]
    assert "Apache License" in license_file.read_text()
    assert "Version 2.0, January 2004" in license_file.read_text()


def test_typing_marker_and_device_data_are_installed() -> None:
    # Read through the package under test: the installed wheel's files in CI (see the last test).
    root = resources.files("pytket.extensions.iqm")
    assert root.joinpath("py.typed").is_file()
    for device in ("adonis", "apollo", "garnet", "deneb", "emerald"):
        assert (root / "emulator" / "devices" / "data" / f"{device}.json").is_file()


def test_tests_are_not_installed() -> None:
    assert not any(name.startswith("tests/") for name in _installed_files())


def test_a_wheel_install_is_the_package_under_test() -> None:
    # A checkout's pytket/extensions/iqm (on sys.path as the working directory) must not shadow
    # an installed wheel: pytket extends its namespace path after its own site-packages folder.
    direct_url = _distribution().read_text("direct_url.json")
    editable = bool(direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"))
    if editable:
        return  # a development install imports the checkout by design
    where = Path(package.__file__).resolve()
    site = {Path(folder).resolve() for folder in _site_packages()}
    assert any(root in where.parents for root in site), where
