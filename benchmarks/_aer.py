"""qiskit-aer's side of the simulation benchmark and of the compatibility test.

The noise model is built the way qiskit-iqm's fake backends build theirs (``IQMFakeBackend``),
from the emulator's calibration figures, without qiskit-iqm: after every ``r`` (PRX) on qubit q,
``thermal_relaxation_error(T1_q, T2_q, t_prx).compose(depolarizing_error(p_q, 1))``; after every
``cz`` on a locus (a, b), for both orders,
``thermal(a).tensor(thermal(b)).compose(depolarizing_error(p_ab, 2))``, with qiskit's tensor
convention putting ``thermal(a)`` on the locus's *second* qubit (the fake backends' T1/T2 swap);
a per-qubit ``ReadoutError``. MOVE is noiseless (the fake backends' second quirk) and is
simulated as qiskit-iqm's ``MOVE_GATE_UNITARY`` (a SWAP with phases e^(∓0.7i)).

Only the components a circuit acts on become qiskit qubits, in order of first use, as the
emulator does.
"""

from __future__ import annotations

import cmath
from collections.abc import Sequence
from typing import Any

from pytket.extensions.iqm.emulator.devices.device import Calibration
from pytket.extensions.iqm.emulator.simulation.program import Operation


def active_components(ops: Sequence[Operation]) -> list[str]:
    """Components the circuit acts on, in order of first use (barrier and delay excluded)."""
    seen: dict[str, None] = {}
    for op in ops:
        if op.name not in ("barrier", "delay"):
            seen.update(dict.fromkeys(op.qubits))
    return list(seen)


def aer_circuit(ops: Sequence[Operation]) -> tuple[Any, list[tuple[str, int]]]:
    """The circuit in qiskit (prx → RGate, cz, move → unitary, terminal measure).

    :return: the circuit and, per classical bit in order, ``(key, position in the measure)``.
    """
    from qiskit import QuantumCircuit  # type: ignore[import-untyped]
    from qiskit.circuit.library import RGate, UnitaryGate  # type: ignore[import-untyped]

    components = active_components(ops)
    index = {name: i for i, name in enumerate(components)}
    measured = [(op, q) for op in ops if op.name == "measure" for q in op.qubits]
    circuit = QuantumCircuit(len(components), len(measured))
    # qiskit little-endian on [qubit, resonator]: |01> is the qubit excited.
    phase = cmath.exp(0.7j)
    move = [[1, 0, 0, 0], [0, 0, phase.conjugate(), 0], [0, phase, 0, 0], [0, 0, 0, 1]]
    clbit = 0
    bits: list[tuple[str, int]] = []
    for op in ops:
        targets = [index[q] for q in op.qubits if q in index]
        if op.name == "prx":
            circuit.append(RGate(op.angle, op.phase), targets)
        elif op.name == "cz":
            circuit.cz(*targets)
        elif op.name == "move":
            circuit.append(UnitaryGate(move), targets)
        elif op.name == "measure":
            assert op.key is not None
            for position, target in enumerate(targets):
                circuit.measure(target, clbit)
                bits.append((op.key, position))
                clbit += 1
        elif op.name not in ("barrier", "delay"):
            raise ValueError(f"{op.name} is not part of the benchmark's qiskit translation")
    return circuit, bits


def fake_backend_noise_model(calibration: Calibration, components: Sequence[str]) -> Any:
    """The qiskit-iqm fake backends' Aer ``NoiseModel`` restricted to ``components``."""
    from qiskit_aer.noise import (  # type: ignore[import-untyped]
        NoiseModel,
        ReadoutError,
        depolarizing_error,
        thermal_relaxation_error,
    )

    index = {name: i for i, name in enumerate(components)}
    model = NoiseModel(basis_gates=["r", "cz"])

    def thermal(component: str, duration: float) -> Any:
        return thermal_relaxation_error(
            calibration.t1[component], calibration.t2[component], duration
        )

    t_prx, t_cz = calibration.durations["prx"], calibration.durations["cz"]
    for qubit in components:
        if qubit not in calibration.prx_depolarizing:
            continue  # a resonator: no single-qubit gates
        error = thermal(qubit, t_prx).compose(
            depolarizing_error(calibration.prx_depolarizing[qubit], 1)
        )
        model.add_quantum_error(error, "r", [index[qubit]])
        p0, p1 = calibration.readout_p1_given_0[qubit], calibration.readout_p0_given_1[qubit]
        model.add_readout_error(ReadoutError([[1 - p0, p0], [p1, 1 - p1]]), [index[qubit]])
    for (a, b), p in calibration.cz_depolarizing.items():
        if a not in index or b not in index:
            continue
        for first, second in ((a, b), (b, a)):
            error = (
                thermal(first, t_cz).tensor(thermal(second, t_cz)).compose(depolarizing_error(p, 2))
            )
            model.add_quantum_error(error, "cz", [index[first], index[second]])
    return model


def aer_counts_to_bits(counts: dict[str, int]) -> dict[str, int]:
    """Aer's count keys (clbit 0 rightmost) → bit strings with clbit 0 first."""
    return {key.replace(" ", "")[::-1]: value for key, value in counts.items()}
