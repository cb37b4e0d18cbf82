"""Which iqm-client line is installed (and so which API the backend speaks)."""

from __future__ import annotations

import importlib.metadata

from packaging.version import InvalidVersion, Version

from pytket.extensions.iqm.backends.connection.types import SUPPORTED_IQM_CLIENT, ApiLine
from pytket.extensions.iqm.errors import IQMClientVersionError


def installed_api_line() -> ApiLine:
    """The API line of the installed iqm-client.

    :raises IQMClientVersionError: iqm-client is missing, or its version is neither 22.x
        (from 22.3) nor 36.x.
    """
    try:
        installed = importlib.metadata.version("iqm-client")
    except importlib.metadata.PackageNotFoundError:
        raise IQMClientVersionError(
            f"iqm-client is not installed. {_SUPPORTED_VERSIONS_HINT}"
        ) from None
    try:
        version = Version(installed)
    except InvalidVersion:
        raise IQMClientVersionError(
            f"iqm-client {installed!r} has an unreadable version. {_SUPPORTED_VERSIONS_HINT}"
        ) from None
    if version.major == 22 and version >= Version("22.3"):
        return ApiLine.REST_V1
    if version.major == 36:
        return ApiLine.SERVER_API
    raise IQMClientVersionError(f"iqm-client {installed} is installed. {_SUPPORTED_VERSIONS_HINT}")


_SUPPORTED_VERSIONS_HINT = (
    "pytket-iqm supports iqm-client "
    f"{SUPPORTED_IQM_CLIENT[ApiLine.SERVER_API]} (the IQM Server API of IQM Resonance, "
    "Python 3.11+; what pip install pytket-iqm gets there) and "
    f"{SUPPORTED_IQM_CLIENT[ApiLine.REST_V1]} (IQM's REST API of on-premises servers; "
    f'pip install pytket-iqm "iqm-client{SUPPORTED_IQM_CLIENT[ApiLine.REST_V1]}"). '
    'See "Which IQM API" in the pytket-iqm docs.'
)


__all__ = ["installed_api_line"]
