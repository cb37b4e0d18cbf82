"""Star device end to end: pytket → IQMBackend → iqm-client → HTTP → the emulator's Deneb.

Deneb's six qubits interact only through the computational resonator CR1, so every two-qubit
gate of a compiled circuit is a MOVE · CZ · MOVE sandwich; the noiseless emulator executes MOVE
and validates sandwiches as the real server does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytket.architecture import Architecture
from pytket.circuit import Circuit, Node, OpType

from pytket.extensions.iqm import IQMBackend, IQMDeviceError, IQMJobFailedError
from pytket.extensions.iqm.backends.compilation.move_insertion import resonator_compilation_pass
from pytket.extensions.iqm.backends.compilation.star_device import (
    MOVE_GATE,
    count_moves,
    resonator_qubit,
)
from pytket.extensions.iqm.backends.connection.types import ApiLine
from pytket.extensions.iqm.emulator import IQMEmulator


@pytest.fixture(scope="module")
def deneb() -> Iterator[IQMBackend]:
    with IQMEmulator(device="deneb", noise=False, seed=3) as emulator:
        yield IQMBackend(emulator.root_url, device=emulator.devices[0])


def _compiled(backend: IQMBackend, circuit: Circuit) -> Circuit:
    compiled = backend.get_compiled_circuit(circuit)
    if count_moves(compiled) == 0:
        # Until passes.default_compilation_pass appends the resonator pass itself.
        resonator_compilation_pass(backend.backend_info, 2).apply(compiled)
    return compiled


def _raw() -> Circuit:
    """A placed circuit on QB1, QB2 and the resonator, with a measured QB2."""
    circuit = Circuit()
    for qubit in (Node(0), Node(1), resonator_qubit(0)):
        circuit.add_qubit(qubit)
    circuit.add_c_register("c", 1)
    return circuit


def test_resonator_is_not_a_placement_node(deneb: IQMBackend) -> None:
    info = deneb.backend_info
    architecture = info.architecture
    assert isinstance(architecture, Architecture)
    assert architecture.nodes == [Node(i) for i in range(6)]
    assert len(architecture.coupling) == 15  # every pair, through CR1
    assert info.misc["computational_resonators"] == ["CR1"]


def test_bell_distribution(deneb: IQMBackend) -> None:
    bell = Circuit(2, 2).H(0).CX(0, 1).measure_all()
    compiled = _compiled(deneb, bell)
    assert count_moves(compiled) == 2
    counts = deneb.run_circuit(compiled, n_shots=2000).get_counts()
    assert set(counts) == {(0, 0), (1, 1)}
    # Binomial(2000, 1/2) has standard deviation 22; 5 standard deviations either side.
    assert abs(counts[(0, 0)] - 1000) < 110


def test_ghz4_distribution(deneb: IQMBackend) -> None:
    ghz = Circuit(4, 4).H(0).CX(0, 1).CX(1, 2).CX(2, 3).measure_all()
    compiled = _compiled(deneb, ghz)
    assert compiled.n_gates_of_type(OpType.CZ) == 3
    counts = deneb.run_circuit(compiled, n_shots=1000).get_counts()
    assert set(counts) == {(0,) * 4, (1,) * 4}
    # Standard deviation 15.8; 5 standard deviations either side.
    assert abs(counts[(0,) * 4] - 500) < 80


def test_resonator_kept_across_czs_runs_correctly(deneb: IQMBackend) -> None:
    # A fan-out: the hub's state stays in CR1 for all three CZs (two MOVEs in all).
    fan = Circuit(4, 4).H(0).CX(0, 1).CX(0, 2).CX(0, 3).X(2).measure_all()
    compiled = _compiled(deneb, fan)
    assert count_moves(compiled) == 2
    counts = deneb.run_circuit(compiled, n_shots=500).get_counts()
    assert set(counts) == {(0, 0, 1, 0), (1, 1, 0, 1)}


def test_open_sandwich_is_rejected_by_the_server(deneb: IQMBackend) -> None:
    # iqm-client lets a sandwich left open at the end through (it checks that only when asked);
    # the server's strict validation fails the job.
    circuit = _raw()
    circuit.add_custom_gate(MOVE_GATE, [], [Node(0), resonator_qubit(0)])
    circuit.Measure(Node(1), circuit.bits[0])
    if deneb.api == ApiLine.REST_V1.value:
        handle = deneb.process_circuits([circuit], n_shots=10, valid_check=False)[0]
        with pytest.raises(IQMJobFailedError, match="ends inside a MOVE sandwich"):
            deneb.get_result(handle)
    else:  # the IQM Server API refuses the submission itself
        with pytest.raises(IQMDeviceError, match="ends inside a MOVE sandwich"):
            deneb.process_circuits([circuit], n_shots=10, valid_check=False)


def test_gate_inside_sandwich_is_refused_before_submission(deneb: IQMBackend) -> None:
    circuit = _raw()
    circuit.add_custom_gate(MOVE_GATE, [], [Node(0), resonator_qubit(0)])
    circuit.PhasedX(0.5, 0.0, Node(0))
    circuit.add_custom_gate(MOVE_GATE, [], [Node(0), resonator_qubit(0)])
    circuit.Measure(Node(0), circuit.bits[0])
    with pytest.raises(IQMDeviceError, match="while the state"):
        deneb.process_circuits([circuit], n_shots=10, valid_check=False)


def test_move_validation_mode_none_is_passed_through(deneb: IQMBackend) -> None:
    # The same open sandwich runs when validation is switched off: QB2 reads 0.
    circuit = _raw()
    circuit.add_custom_gate(MOVE_GATE, [], [Node(0), resonator_qubit(0)])
    circuit.Measure(Node(1), circuit.bits[0])
    handle = deneb.process_circuits(
        [circuit],
        n_shots=10,
        valid_check=False,
        move_validation_mode="none",
        move_gate_frame_tracking_mode="none",
    )[0]
    assert deneb.get_result(handle).get_counts() == {(0,): 10}
