"""The IQM Server API's chip artifacts through the real iqm-client 36: chip label, chip topology,
feedback groups (IQM's protobuf channel properties), and the 501 of the pulse-level settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from iqm_client_line import IQM_CLIENT_36, REASON_36

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.devices.catalogue import get_device

pytestmark = pytest.mark.skipif(not IQM_CLIENT_36, reason=REASON_36)

DEVICES = ("garnet", "deneb", "adonis")  # Crystal, Star, and one without feedback


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(list(DEVICES), noise=False) as emu:
        yield emu


def client_of(emulator: IQMEmulator, device: str) -> Any:
    from iqm.iqm_client import IQMClient

    # from_url is iqm-client 36's (the tests' mypy reads the 22.x line)
    return IQMClient.from_url(emulator.root_url, quantum_computer=device)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", DEVICES)
def test_chip_label_and_topology(emulator: IQMEmulator, name: str) -> None:
    device = get_device(name)
    client = client_of(emulator, name)
    assert client.get_chip_label() == device.dut_label
    topology = client.get_chip_topology()
    assert topology.qubits_sorted == device.qubits
    assert topology.computational_resonators_sorted == device.computational_resonators
    couplings = {frozenset(components) for components in topology.coupler_to_components.values()}
    assert couplings == {frozenset(pair) for pair in device.connectivity}
    assert len(topology.couplers) == len(device.connectivity)
    first, second = device.connectivity[0]
    assert topology.get_coupler_for(first, second) in topology.couplers


@pytest.mark.parametrize("name", DEVICES)
def test_feedback_groups(emulator: IQMEmulator, name: str) -> None:
    device = get_device(name)
    groups = client_of(emulator, name).get_feedback_groups()
    if device.default_calibration.supports_feedback:
        assert groups == (frozenset(device.qubits),)
    else:
        assert groups == ()


def test_settings_are_a_clear_501(emulator: IQMEmulator) -> None:
    answer = httpx.get(
        f"{emulator.root_url}/api/v1/quantum-computers/garnet/artifacts/settings",
        headers={"Accept": "application/protobuf"},
        timeout=10,
    )
    assert answer.status_code == 501
    assert answer.json() == {
        "message": "The settings of 'garnet' (the station's settings tree for pulse-level "
        "compilation) are not emulated: the emulator runs circuits, not pulse schedules. Submit "
        "circuit jobs, which need no settings.",
        "error_code": "not_implemented",
        "source": "iqm-server",
    }


def test_unknown_quantum_computer_is_404(emulator: IQMEmulator) -> None:
    answer = httpx.get(
        f"{emulator.root_url}/api/v1/quantum-computers/falcon/artifacts/chip-design-records",
        timeout=10,
    )
    assert answer.status_code == 404
