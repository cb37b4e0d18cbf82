"""pytket-iqm: run pytket circuits on IQM quantum computers or on the bundled IQM emulator."""

from pytket.extensions.iqm._metadata import __extension_name__, __extension_version__
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
