"""The installed distribution is what users get: metadata, typing marker, device data, no tests."""

from __future__ import annotations

import sysconfig
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

import pytest

import pytket.extensions.iqm as package
from pytket.extensions.iqm import __extension_name__, __extension_version__


def _imported_from_install() -> bool:
    """Whether the package under test is an installed copy (not a source tree on the path)."""
    where = Path(package.__file__).resolve()
    roots = {Path(sysconfig.get_path(name)).resolve() for name in ("purelib", "platlib")}
    return any(root in where.parents for root in roots)


def _distribution() -> Distribution:
    try:
        return distribution("pytket-iqm")
    except PackageNotFoundError:
        # Tests run from a source checkout (PYTHONPATH) have no distribution to check; an
        # installed copy without its metadata is a real failure.
        if _imported_from_install():
            raise
        pytest.skip("pytket-iqm is not installed (imported from the source tree)")


def _installed_files() -> set[str]:
    files = _distribution().files or []
    return {str(path) for path in files}


def test_metadata_matches_distribution() -> None:
    assert __extension_name__ == "pytket-iqm"
    assert _distribution().version == __extension_version__


def test_typing_marker_and_device_data_are_installed() -> None:
    files = _installed_files()
    assert "pytket/extensions/iqm/py.typed" in files
    device_files = {
        name for name in files if name.startswith("pytket/extensions/iqm/emulator/devices/data/")
    }
    assert {
        f"pytket/extensions/iqm/emulator/devices/data/{device}.json"
        for device in ("adonis", "apollo", "garnet", "deneb", "emerald")
    } <= device_files


def test_tests_are_not_installed() -> None:
    assert not any(name.startswith("tests/") for name in _installed_files())
