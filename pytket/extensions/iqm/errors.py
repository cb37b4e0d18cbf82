"""Exception types raised by pytket-iqm.

Every error the package raises for a mistake it can detect is one of these (or a plain
``ValueError`` / pytket ``CircuitNotValidError``), with a message that says what to change.
"""

from __future__ import annotations


class IQMBackendError(RuntimeError):
    """Base class of pytket-iqm's own errors."""


class IQMClientVersionError(IQMBackendError, ImportError):
    """The installed iqm-client is not a version pytket-iqm supports (22.x from 22.3, or 36.x)."""


class IQMCredentialsError(IQMBackendError, ValueError):
    """Credentials are missing, half-given or given from conflicting sources."""


class IQMAuthenticationError(IQMBackendError):
    """The server or auth server refused the credentials."""


class IQMDeviceError(IQMBackendError, ValueError):
    """The device cannot be used as asked (unknown qubits, unsupported components, bad ``arch``)."""


class IQMTranslationError(IQMBackendError, ValueError):
    """A circuit contains something that cannot be expressed as IQM instructions."""


class IQMHandleError(IQMBackendError, ValueError):
    """A result handle is malformed or belongs to another backend."""


class IQMJobFailedError(IQMBackendError):
    """The server reports the job as failed; the message carries the server's reason."""


class IQMJobCancelledError(IQMBackendError):
    """The job was aborted before it produced results."""


class IQMTimeoutError(IQMBackendError, TimeoutError):
    """Waiting for a job took longer than the timeout; the handle stays valid."""


class IQMServerError(IQMBackendError):
    """The server could not be reached or answered with an unexpected error."""


__all__ = [
    "IQMAuthenticationError",
    "IQMBackendError",
    "IQMClientVersionError",
    "IQMCredentialsError",
    "IQMDeviceError",
    "IQMHandleError",
    "IQMJobCancelledError",
    "IQMJobFailedError",
    "IQMServerError",
    "IQMTimeoutError",
    "IQMTranslationError",
]
