"""pytket-iqm: run pytket circuits on IQM quantum computers or on the bundled IQM emulator.

The public names are imported on first use (PEP 562), so that importing a submodule, e.g.
the emulator's command line, does not load the backend and pytket's compilation stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytket.extensions.iqm._metadata import __extension_name__, __extension_version__

if TYPE_CHECKING:
    from pytket.extensions.iqm.backends import IQMBackend
    from pytket.extensions.iqm.backends.connection.retry import RetryPolicy
    from pytket.extensions.iqm.config import IQMConfig, set_iqm_config
    from pytket.extensions.iqm.errors import (
        IQMAuthenticationError,
        IQMBackendError,
        IQMClientVersionError,
        IQMCredentialsError,
        IQMDeviceError,
        IQMHandleError,
        IQMJobCancelledError,
        IQMJobFailedError,
        IQMServerError,
        IQMTimeoutError,
        IQMTranslationError,
    )

_ERRORS = "pytket.extensions.iqm.errors"
_HOMES = {
    "IQMBackend": "pytket.extensions.iqm.backends",
    "RetryPolicy": "pytket.extensions.iqm.backends.connection.retry",
    "IQMConfig": "pytket.extensions.iqm.config",
    "set_iqm_config": "pytket.extensions.iqm.config",
    "IQMAuthenticationError": _ERRORS,
    "IQMBackendError": _ERRORS,
    "IQMClientVersionError": _ERRORS,
    "IQMCredentialsError": _ERRORS,
    "IQMDeviceError": _ERRORS,
    "IQMHandleError": _ERRORS,
    "IQMJobCancelledError": _ERRORS,
    "IQMJobFailedError": _ERRORS,
    "IQMServerError": _ERRORS,
    "IQMTimeoutError": _ERRORS,
    "IQMTranslationError": _ERRORS,
}
"""Where each public name lives: the module imported when the name is first used."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "IQMAuthenticationError",
    "IQMBackend",
    "IQMBackendError",
    "IQMClientVersionError",
    "IQMConfig",
    "IQMCredentialsError",
    "IQMDeviceError",
    "IQMHandleError",
    "IQMJobCancelledError",
    "IQMJobFailedError",
    "IQMServerError",
    "IQMTimeoutError",
    "IQMTranslationError",
    "RetryPolicy",
    "__extension_name__",
    "__extension_version__",
    "set_iqm_config",
]
