"""Emulators and backends for the end-to-end tests: real IQMClient, real HTTP, real emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.emulator import IQMEmulator


@pytest.fixture(scope="session")
def ideal_garnet() -> Iterator[IQMEmulator]:
    """A noiseless garnet: every outcome of a deterministic circuit is exact."""
    with IQMEmulator(device="garnet", noise=False, seed=11) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def garnet_backend(ideal_garnet: IQMEmulator) -> IQMBackend:
    return IQMBackend(ideal_garnet.root_url, device=ideal_garnet.devices[0])


@pytest.fixture(scope="session")
def noisy_garnet() -> Iterator[IQMEmulator]:
    with IQMEmulator(device="garnet", noise=True, seed=5) as emulator:
        yield emulator


@pytest.fixture
def slow_garnet() -> Iterator[IQMEmulator]:
    """Jobs rest for seconds in each queue stage: time to cancel them, or to time out."""
    with IQMEmulator(device="garnet", noise=False, stage_delay=3.0) as emulator:
        yield emulator
