"""The installed distribution is what users get: metadata, typing marker, device data, no tests."""

from __future__ import annotations

from importlib.metadata import distribution

from pytket.extensions.iqm import __extension_name__, __extension_version__


def _installed_files() -> set[str]:
    files = distribution("pytket-iqm").files or []
    return {str(path) for path in files}


def test_metadata_matches_distribution() -> None:
    assert __extension_name__ == "pytket-iqm"
    assert distribution("pytket-iqm").version == __extension_version__


def test_typing_marker_and_device_data_are_installed() -> None:
    files = _installed_files()
    assert "pytket/extensions/iqm/py.typed" in files
    device_files = {
        name for name in files if name.startswith("pytket/extensions/iqm/emulator/data/")
    }
    assert {
        f"pytket/extensions/iqm/emulator/data/{device}.json"
        for device in ("adonis", "apollo", "garnet", "deneb", "emerald")
    } <= device_files


def test_tests_are_not_installed() -> None:
    assert not any(name.startswith("tests/") for name in _installed_files())
