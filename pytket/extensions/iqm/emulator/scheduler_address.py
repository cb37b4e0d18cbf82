"""The form of a Dask scheduler's address, checked without importing numpy or Dask (the
configuration and the command line check it before anything heavy loads)."""

from __future__ import annotations

import re

_SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")


def check_scheduler_address(address: str) -> None:
    """:raises ValueError: ``address`` is not a Dask scheduler address."""
    if not isinstance(address, str) or not _SCHEDULER_ADDRESS.match(address):
        raise ValueError(
            f"dask_scheduler must be a Dask scheduler address such as tcp://host:8786, not "
            f"{address!r}."
        )
