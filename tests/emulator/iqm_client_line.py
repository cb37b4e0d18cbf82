"""Which iqm-client line is installed (read without importing it), for emulator tests.

The emulator itself needs no iqm-client; tests that talk to it through iqm-client 22.x skip
themselves under another line with :func:`require_iqm_client_22`, and the IQM Server API tests
that drive iqm-client 36 use :data:`IQM_CLIENT_36`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest


def _installed() -> str | None:
    try:
        return version("iqm-client")
    except PackageNotFoundError:
        return None


INSTALLED = _installed()
"""The installed iqm-client version, or ``None``."""
MAJOR = int(INSTALLED.split(".")[0]) if INSTALLED else None
IQM_CLIENT_22 = MAJOR == 22
"""iqm-client 22.x (the CoCoS V1 line) is installed."""
IQM_CLIENT_36 = MAJOR == 36
"""iqm-client 36.x (the IQM Server API line) is installed."""
REASON_22 = (
    f"drives the emulator through iqm-client 22.x, but iqm-client {INSTALLED or '(none)'} is "
    "installed; the IQM Server API line is covered by test_server_api.py"
)
REASON_36 = (
    f"drives the emulator through iqm-client 36.x, but iqm-client {INSTALLED or '(none)'} is "
    "installed"
)


def require_iqm_client_22() -> None:
    """Skip the calling test module unless iqm-client 22.x is installed."""
    if not IQM_CLIENT_22:
        pytest.skip(REASON_22, allow_module_level=True)
