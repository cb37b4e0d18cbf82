"""Dynamic circuits end to end: mid-circuit measurement, reset and classically controlled PRX."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytket.circuit import Bit, Circuit, OpType, Qubit

from pytket.extensions.iqm import IQMBackend, IQMDeviceError, IQMTranslationError
from pytket.extensions.iqm.emulator import IQMEmulator

LEVELS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def emulator() -> Iterator[IQMEmulator]:
    with IQMEmulator(device=["garnet", "adonis"], noise=False, seed=21) as ideal:
        yield ideal


@pytest.fixture(scope="module")
def garnet(emulator: IQMEmulator) -> IQMBackend:
    return IQMBackend(emulator.root_url, device="garnet")


def teleportation(theta: float, phi: float) -> Circuit:
    """Teleport Rz(phi)Ry(theta)|0> from qubit 0 to qubit 2, then undo the preparation on
    qubit 2: bit 2 reads 0 exactly when the state arrived intact."""
    circuit = Circuit(3, 3)
    circuit.Ry(theta, 0).Rz(phi, 0)
    circuit.H(1).CX(1, 2)
    circuit.CX(0, 1).H(0)
    circuit.Measure(Qubit(0), Bit(0)).Measure(Qubit(1), Bit(1))
    circuit.X(2, condition_bits=[Bit(1)], condition_value=1)
    circuit.Z(2, condition_bits=[Bit(0)], condition_value=1)
    circuit.Rz(-phi, 2).Ry(-theta, 2)
    circuit.Measure(Qubit(2), Bit(2))
    return circuit


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("theta", "phi"), [(0.37, 0.81), (1.3, -0.4), (0.9, 1.7)])
def test_teleportation_is_exact_without_noise(
    garnet: IQMBackend, level: int, theta: float, phi: float
) -> None:
    compiled = garnet.get_compiled_circuit(teleportation(theta, phi), optimisation_level=level)
    assert compiled.n_gates_of_type(OpType.Conditional) >= 2
    counts = garnet.run_circuit(compiled, n_shots=400).get_counts()
    fidelity = sum(count for outcome, count in counts.items() if outcome[2] == 0) / 400
    assert fidelity == 1.0
    # The Bell measurement itself is uniform over its four outcomes.
    for m0 in (0, 1):
        for m1 in (0, 1):
            share = sum(n for outcome, n in counts.items() if outcome[:2] == (m0, m1)) / 400
            assert abs(share - 0.25) < 0.1


def test_teleportation_with_noise_is_close_to_ideal() -> None:
    with IQMEmulator(device="garnet", noise=True, seed=4) as noisy:
        backend = IQMBackend(noisy.root_url, device=noisy.devices[0])
        compiled = backend.get_compiled_circuit(teleportation(0.37, 0.81))
        counts = backend.run_circuit(compiled, n_shots=2000).get_counts()
    fidelity = sum(count for outcome, count in counts.items() if outcome[2] == 0) / 2000
    # Three readouts at ~97.5 % and a few gates at >= 99 %: about 0.9, far above the 0.5 of a
    # teleportation that ignored the corrections.
    assert 0.82 < fidelity < 0.99


@pytest.mark.parametrize("level", LEVELS)
def test_active_reset_of_a_qubit_in_one(garnet: IQMBackend, level: int) -> None:
    circuit = Circuit(1, 2).X(0).Measure(0, 0)
    circuit.X(0, condition_bits=[Bit(0)], condition_value=1)
    circuit.Measure(0, 1)
    compiled = garnet.get_compiled_circuit(circuit, optimisation_level=level)
    result = garnet.run_circuit(compiled, n_shots=500)
    zeros = sum(n for outcome, n in result.get_counts().items() if outcome[1] == 0) / 500
    assert zeros >= 0.98
    assert result.get_counts() == {(1, 0): 500}


@pytest.mark.parametrize("level", LEVELS)
def test_measure_reset_reuse(garnet: IQMBackend, level: int) -> None:
    circuit = Circuit(1, 3).X(0).Measure(0, 0)
    circuit.add_gate(OpType.Reset, [0]).Measure(0, 1)
    circuit.X(0).Measure(0, 2)
    compiled = garnet.get_compiled_circuit(circuit, optimisation_level=level)
    assert compiled.n_gates_of_type(OpType.Reset) == 1
    assert garnet.run_circuit(compiled, n_shots=100).get_counts() == {(1, 0, 1): 100}


def test_a_bit_measured_twice_holds_its_last_value(garnet: IQMBackend) -> None:
    circuit = Circuit(1, 1).Measure(0, 0).X(0).Measure(0, 0)
    compiled = garnet.get_compiled_circuit(circuit, optimisation_level=0)
    assert garnet.run_circuit(compiled, n_shots=20).get_counts() == {(1,): 20}


FEEDBACK_RULE = (
    "IQM feedback supports only single-qubit gates conditioned on a single bit being 1, where "
    "that bit was written by an earlier Measure."
)


def _multi_bit_condition() -> Circuit:
    circuit = Circuit(2, 2).Measure(0, 0).Measure(1, 1)
    circuit.X(0, condition_bits=[Bit(0), Bit(1)], condition_value=3)
    return circuit.measure_all()


def _condition_on_zero() -> Circuit:
    circuit = Circuit(1, 1).Measure(0, 0)
    circuit.X(0, condition_bits=[Bit(0)], condition_value=0)
    return circuit.Measure(0, 0)


def _condition_on_unmeasured_bit() -> Circuit:
    circuit = Circuit(1, 1)
    circuit.X(0, condition_bits=[Bit(0)], condition_value=1)
    return circuit.Measure(0, 0)


@pytest.mark.parametrize(
    ("circuit", "message"),
    [
        (_multi_bit_condition(), "conditioned on bits c[0], c[1] == 3: " + FEEDBACK_RULE),
        (_condition_on_zero(), "conditioned on c[0] == 0: " + FEEDBACK_RULE),
        (_condition_on_unmeasured_bit(), "no earlier Measure writes c[0]. " + FEEDBACK_RULE),
    ],
    ids=["multi-bit", "value-0", "unmeasured-bit"],
)
def test_conditions_iqm_cannot_express(garnet: IQMBackend, circuit: Circuit, message: str) -> None:
    compiled = garnet.get_compiled_circuit(circuit)
    with pytest.raises(IQMTranslationError) as raised:
        garnet.process_circuit(compiled, n_shots=10)
    assert str(raised.value).endswith(message)


def test_condition_on_a_bit_written_by_a_classical_operation(garnet: IQMBackend) -> None:
    circuit = Circuit(1, 2).Measure(0, 0)
    circuit.add_c_setbits([True], [Bit(1)])
    circuit.X(0, condition_bits=[Bit(1)], condition_value=1)
    circuit.Measure(0, 0)
    compiled = garnet.get_compiled_circuit(circuit)
    with pytest.raises(
        IQMTranslationError,
        match=r"Circuit 0 contains the classical operation SetBits\(1\) c\[1\];; IQM devices run "
        r"no classical computation\.",
    ):
        garnet.process_circuit(compiled, n_shots=10)


def test_device_without_feedback_refuses_dynamic_circuits(emulator: IQMEmulator) -> None:
    adonis = IQMBackend(emulator.root_url, device="adonis")
    info = adonis.backend_info
    assert not info.supports_fast_feedforward
    assert not info.supports_reset
    assert not info.supports_midcircuit_measurement

    controlled = Circuit(1, 2).X(0).Measure(0, 0)
    controlled.X(0, condition_bits=[Bit(0)], condition_value=1).Measure(0, 1)
    with pytest.raises(
        IQMDeviceError, match="adonis has no cc_prx gate, so it cannot run classical"
    ):
        adonis.process_circuit(adonis.get_compiled_circuit(controlled), n_shots=10)

    mid_measure = Circuit(1, 2).Measure(0, 0).X(0).Measure(0, 1)
    with pytest.raises(IQMDeviceError, match="supports measurements only at the end"):
        adonis.process_circuit(adonis.get_compiled_circuit(mid_measure), n_shots=10)


def test_feedback_flags_of_a_device_with_cc_prx(garnet: IQMBackend) -> None:
    info = garnet.backend_info
    assert info.supports_fast_feedforward
    assert info.supports_reset
    assert info.supports_midcircuit_measurement
    assert OpType.Reset in info.gate_set
