"""The emulator's choice of noise model (``EmulatorConfig.noise_model``), end to end.

On Deneb the two models differ on MOVE: the physical one relaxes the qubit and the resonator
(T1 5.4 µs) over each MOVE, qiskit-fake makes MOVE noiseless. A qubit in |1> sent through many
MOVE sandwiches therefore reads 1 far less often under the physical model; the counts a job
gets back through the server must match the exact distribution of the model that was chosen,
and be many standard deviations away from the other one's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from iqm_client_line import IQM_CLIENT_22

from pytket.extensions.iqm.emulator import IQMEmulator
from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.simulation.program import Operation
from pytket.extensions.iqm.emulator.simulation.simulator import exact_distribution

if IQM_CLIENT_22:
    from iqm.iqm_client import IQMClient

SANDWICHES = 10
SHOTS = 4000


def test_config_default_noise_model_is_physical() -> None:
    assert EmulatorConfig().noise_model == "physical"
    assert EmulatorConfig(noise_model="qiskit-fake").noise_model == "qiskit-fake"


@pytest.mark.parametrize("value", ["aer", "Physical", ""])
def test_config_refuses_unknown_noise_model(value: str) -> None:
    message = (
        f"EmulatorConfig.noise_model must be one of physical, qiskit-fake, pauli, got {value!r}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        EmulatorConfig(noise_model=value)


def test_emulator_refuses_unknown_noise_model() -> None:
    with pytest.raises(ValueError, match="noise_model must be one of physical, qiskit-fake, pauli"):
        IQMEmulator("deneb", noise_model="aer")


def sandwiches_ops() -> list[Operation]:
    """QB1 in |1>, moved to CR1 and back ``SANDWICHES`` times, measured."""
    ops = [Operation("prx", ("QB1",), angle=math.pi, phase=0.0)]
    ops += [Operation("move", ("QB1", "CR1"))] * (2 * SANDWICHES)
    return [*ops, Operation("measure", ("QB1",), key="m")]


def p_one(qiskit_fake_compat: bool) -> float:
    """Exact probability of reading 1 from :func:`sandwiches_ops` under a model."""
    calibration = get_device("deneb").default_calibration
    noise = NoiseModel.from_calibration(calibration, qiskit_fake_compat=qiskit_fake_compat)
    return float(exact_distribution(sandwiches_ops(), noise)[1])


@pytest.mark.parametrize("model", ["physical", "qiskit-fake"])
def test_chosen_model_reaches_the_simulator(
    model: str, client_for: Callable[..., IQMClient], native: SimpleNamespace
) -> None:
    chosen, other = p_one(model == "qiskit-fake"), p_one(model != "qiskit-fake")
    sigma = math.sqrt(chosen * (1 - chosen) / SHOTS)
    # The physical model loses ~17 % of the excitations to the resonator's T1; a weaker effect
    # would make this test unable to tell the models apart.
    assert abs(chosen - other) > 15 * sigma
    move = native.instruction(name="move", qubits=("QB1", "CR1"), args={})
    circuit = native.circuit(
        name="sandwiches",
        instructions=(
            native.prx("QB1", 0.5, 0.0),
            *[move] * (2 * SANDWICHES),
            native.measure("QB1", key="m"),
        ),
    )
    with IQMEmulator("deneb", noise_model=model, seed=3, stage_delay=0) as emulator:
        client = client_for(emulator.url)
        job_id = client.submit_circuits([circuit], shots=SHOTS)
        result = client.wait_for_results(job_id, timeout_secs=30)
    assert result.measurements is not None
    ones = sum(shot[0] for shot in result.measurements[0]["m"])
    assert abs(ones / SHOTS - chosen) < 5 * sigma


def test_no_noise_wins_over_the_model(
    client_for: Callable[..., IQMClient], native: SimpleNamespace
) -> None:
    move = native.instruction(name="move", qubits=("QB1", "CR1"), args={})
    circuit = native.circuit(
        name="sandwiches",
        instructions=(native.prx("QB1", 0.5, 0.0), move, move, native.measure("QB1", key="m")),
    )
    with IQMEmulator("deneb", noise=False, noise_model="qiskit-fake", stage_delay=0) as emulator:
        client = client_for(emulator.url)
        result = client.wait_for_results(client.submit_circuits([circuit], shots=200), 30)
    assert result.measurements is not None
    assert result.measurements[0]["m"] == [[1]] * 200
