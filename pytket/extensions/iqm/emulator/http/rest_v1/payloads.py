"""The REST v1 (iqm-client 22.x) bodies that are not device descriptions (those live in
:mod:`pytket.extensions.iqm.emulator.devices.descriptions`)."""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion, Version


def client_libraries(min_version: str = "22.0", max_version: str = "23.0") -> dict[str, Any]:
    """The ``info/client-libraries`` body: the iqm-client versions the server supports.

    The client accepts itself iff ``min_version <= installed < max_version``.

    :raises ValueError: if either bound is not a version number (PEP 440), or
        ``max_version`` is not above ``min_version``.
    """
    parsed = {}
    for label, text in (("min_version", min_version), ("max_version", max_version)):
        try:
            parsed[label] = Version(text)
        except InvalidVersion:
            raise ValueError(
                f"{label} {text!r} is not a version number; use a form like '22.0'."
            ) from None
    if parsed["max_version"] <= parsed["min_version"]:
        raise ValueError(
            f"max_version {max_version!r} must be greater than min_version {min_version!r}."
        )
    return {
        "iqm-client": {
            "name": "IQM Client",
            "package_name": "iqm-client",
            "repo_url": "https://github.com/iqm-finland/iqm-client",
            "package_url": "https://pypi.org/project/iqm-client/",
            "min": min_version,
            "max": max_version,
        }
    }


__all__ = ["client_libraries"]
