"""pytket-iqm's errors that are also the installed iqm-client's own exception for the same case,
so code written for iqm-client's exceptions (or for pytket-iqm 0.18, which let them through)
keeps catching them. Each line's connection module holds its table (``COMPATIBLE_ERRORS``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TypeVar, cast

from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.errors import IQMBackendError, IQMClientVersionError

_E = TypeVar("_E", bound=IQMBackendError)

CompatibleErrors = Mapping[type[IQMBackendError], type[IQMBackendError]]
"""pytket-iqm's error types, each with its subclass that also derives from the installed
iqm-client's own exception for the same case."""

_LINE_MODULES = {
    ApiLine.REST_V1: "pytket.extensions.iqm.backends.connection.rest_v1",
    ApiLine.SERVER_API: "pytket.extensions.iqm.backends.connection.server_api",
}


def compatible_subclass(
    ours: type[IQMBackendError], theirs: tuple[type[Exception], ...], module: str
) -> type[IQMBackendError]:
    """A subclass of ``ours`` that is also each of iqm-client's ``theirs``, under the name of
    ``ours``: code written for iqm-client's exceptions (or for older pytket-iqm, which let
    them through) keeps catching, and so does ``except`` with pytket-iqm's own type."""
    names = ", ".join(f"{kind.__module__}.{kind.__name__}" for kind in theirs)
    subclass = type(
        ours.__name__,
        (ours, *theirs),
        {"__module__": module, "__doc__": f"{ours.__doc__}\n\nAlso a {names}."},
    )
    return cast("type[IQMBackendError]", subclass)


def compatible_error(kind: type[_E], message: str) -> _E:
    """``kind(message)``, as the subclass that is also the installed iqm-client's own exception
    for the same case where it has one (see :data:`CompatibleErrors`), else ``kind`` itself."""
    try:
        line = installed_api_line()
    except IQMClientVersionError:
        return kind(message)
    # Imported here: each table lives with its line's connection and imports its iqm-client.
    table: CompatibleErrors = importlib.import_module(_LINE_MODULES[line]).COMPATIBLE_ERRORS
    return cast("_E", table.get(kind, kind)(message))


__all__ = ["CompatibleErrors", "compatible_error", "compatible_subclass"]
