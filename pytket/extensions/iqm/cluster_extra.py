"""The optional Dask dependency (the ``cluster`` extra), for the backend's parallel compilation
and the emulator's cluster path alike: one place says how to install it."""

from __future__ import annotations

import importlib
from typing import Any

CLUSTER_EXTRA = "cluster"
"""The pip extra that installs Dask: ``pip install "pytket-iqm[cluster]"``."""


def import_distributed(needed_for: str, instead: str) -> Any:
    """The ``distributed`` module, imported on first use (Dask is optional).

    :param needed_for: what needs Dask, as the start of a sentence ("Compiling on a Dask
        cluster").
    :param instead: what to do without it, completing "or ..." ("leave executor out").
    :raises ImportError: Dask is not installed; the message names the extra.
    """
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ImportError(
            f"{needed_for} needs dask and distributed, which are not installed. Install them "
            f'with pip install "pytket-iqm[{CLUSTER_EXTRA}]", or {instead}.'
        ) from None


__all__ = ["CLUSTER_EXTRA", "import_distributed"]
