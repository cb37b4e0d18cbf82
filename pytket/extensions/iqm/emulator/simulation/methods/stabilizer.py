"""Clifford circuits with Pauli noise, sampled by stim's stabilizer (Pauli-frame) simulator.

A :class:`StabilizerCircuit` is built step by step from the shot simulator's compiled steps:
single-qubit Clifford matrices (any PRX whose angle and phase are multiples of π/2), CZ, MOVE
(as SWAP: its undefined phase cancels within the MOVE sandwiches the server's validation
requires), Pauli noise channels, measurements and resets. stim then draws all shots at once;
the cost grows about linearly with qubits, gates and shots, so all 54 qubits of a Crystal device
are cheap. Readout confusion is applied by the caller, as for the other methods.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import stim  # type: ignore[import-untyped]

from pytket.extensions.iqm.emulator.simulation.result import SimulationCancelledError

STABILIZER_WORK_PER_CANCELLATION_CHECK = 20_000_000
"""Circuit lines × shots stim samples between two checks for an abort: stim samples about
10⁸ of them a second here (a 700 000-line circuit takes 0.8 s for 256 shots), so a batch takes
about 0.2 s and an abort stops the sampling well within its second."""

_STIM_SHOT_BATCH = 256
"""stim samples shots in SIMD batches of this size: smaller batches cost as much."""

ComplexArray = npt.NDArray[np.complex128]
BitArray = npt.NDArray[np.uint8]

# Entries of a Clifford matrix computed from angles (cos, sin of multiples of π/4) are rounded to
# this many decimals before stim checks them, so float noise does not make a Clifford look
# non-Clifford.
_MATRIX_DECIMALS = 9
_CLIFFORD_TOLERANCE = 1e-6

# stim's named single-qubit gates, one for every single-qubit Clifford up to a global phase.
_SINGLE_QUBIT_CLIFFORDS = (
    "I", "X", "Y", "Z", "H", "H_XY", "H_YZ", "H_NXY", "H_NXZ", "H_NYZ", "S", "S_DAG",
    "SQRT_X", "SQRT_X_DAG", "SQRT_Y", "SQRT_Y_DAG", "C_XYZ", "C_ZYX", "C_NXYZ", "C_NZYX",
    "C_XNYZ", "C_XYNZ", "C_ZNYX", "C_ZYNX",
)  # fmt: skip


class NotCliffordError(ValueError):
    """A matrix is not a Clifford operation (up to a global phase)."""


@functools.cache
def _gate_of_tableau() -> dict[str, str]:
    return {str(stim.Tableau.from_named_gate(name)): name for name in _SINGLE_QUBIT_CLIFFORDS}


@functools.lru_cache(maxsize=4096)
def _clifford_gate(raw: bytes) -> str | None:
    # Compiled circuits repeat their angles: cached on the matrix's bytes.
    matrix = np.round(np.frombuffer(raw, dtype=np.complex128), _MATRIX_DECIMALS).reshape(2, 2)
    matrix = matrix + 0.0  # turns −0.0 into 0.0
    try:
        tableau = stim.Tableau.from_unitary_matrix(matrix, endian="little")
    except ValueError:
        return None
    # stim does not check that the matrix is a Clifford: compare its tableau's unitary with the
    # matrix up to a global phase, |Tr(C†U)| = 2.
    clifford = tableau.to_unitary_matrix(endian="little")
    if abs(abs(np.trace(clifford.conj().T @ matrix)) - 2.0) > _CLIFFORD_TOLERANCE:
        return None
    return _gate_of_tableau().get(str(tableau))


def clifford_gate(matrix: ComplexArray) -> str | None:
    """stim's name of a 2×2 unitary that is a Clifford up to a global phase, else None."""
    return _clifford_gate(np.ascontiguousarray(matrix, dtype=np.complex128).tobytes())


class StabilizerCircuit:
    """A Clifford circuit with Pauli noise on integer axes, sampled all shots at once."""

    def __init__(self) -> None:
        """Start empty (every axis in |0>)."""
        # Instructions as stim program text, parsed once when sampling: stim's append is
        # slow per call (measured 0.25 ms each on a loaded 2-core VM).
        self._lines: list[str] = []
        self.measurements = 0
        """Number of measurement results each shot records so far."""

    def gate_1q(self, axis: int, matrix: ComplexArray) -> None:
        """A single-qubit Clifford given as its matrix.

        :raises NotCliffordError: if ``matrix`` is not a Clifford.
        """
        name = clifford_gate(matrix)
        if name is None:
            raise NotCliffordError("the matrix is not a single-qubit Clifford")
        if name != "I":
            self._lines.append(f"{name} {axis}")

    def cz(self, a: int, b: int) -> None:
        """CZ."""
        self._lines.append(f"CZ {a} {b}")

    def swap(self, a: int, b: int) -> None:
        """SWAP (MOVE without its phase)."""
        self._lines.append(f"SWAP {a} {b}")

    def pauli_channel(self, axis: int, probabilities: tuple[float, float, float]) -> None:
        """X, Y, Z with the given probabilities."""
        p_x, p_y, p_z = probabilities
        self._lines.append(f"PAULI_CHANNEL_1({p_x!r}, {p_y!r}, {p_z!r}) {axis}")

    def dephase(self, axis: int, probability: float) -> None:
        """Z with the given probability."""
        self._lines.append(f"Z_ERROR({probability!r}) {axis}")

    def depolarize(self, axes: Sequence[int], p: float) -> None:
        """Depolarizing in qiskit's convention (1 − p)ρ + p·I/2ᵏ on one or two axes."""
        paulis = 4 ** len(axes)
        name = "DEPOLARIZE1" if len(axes) == 1 else "DEPOLARIZE2"
        targets = " ".join(str(axis) for axis in axes)
        self._lines.append(f"{name}({p * (paulis - 1) / paulis!r}) {targets}")

    def measure(self, axes: Sequence[int]) -> int:
        """Measure ``axes`` in Z; returns the column of the first result."""
        first = self.measurements
        self._lines.append("M " + " ".join(str(axis) for axis in axes))
        self.measurements += len(axes)
        return first

    def reset(self, axis: int) -> None:
        """Reset to |0>."""
        self._lines.append(f"R {axis}")

    def sample(
        self,
        shots: int,
        rng: np.random.Generator,
        cancelled: Callable[[], bool] | None = None,
    ) -> BitArray:
        """Every shot's measurement results, shape ``(shots, measurements)``.

        :param shots: number of shots.
        :param rng: seeds stim's sampler, so a seeded generator gives reproducible results.
        :param cancelled: checked between batches of shots (see
            :data:`STABILIZER_WORK_PER_CANCELLATION_CHECK`).
        :raises SimulationCancelledError: ``cancelled`` said stop.
        """
        seed = int(rng.integers(0, 2**63))
        circuit = stim.Circuit("\n".join(self._lines))
        sampler = circuit.compile_sampler(seed=seed)
        batch = shots_per_batch(len(self._lines))
        chunks: list[BitArray] = [np.zeros((0, circuit.num_measurements), dtype=np.uint8)]
        for start in range(0, shots, batch):
            if cancelled is not None and cancelled():
                raise SimulationCancelledError("The simulation was cancelled.")
            chunks.append(sampler.sample(min(batch, shots - start)).astype(np.uint8))
        return np.concatenate(chunks)


def shots_per_batch(lines: int) -> int:
    """Shots sampled between two checks for an abort, for a circuit of ``lines`` lines."""
    batches = max(1, STABILIZER_WORK_PER_CANCELLATION_CHECK // (max(lines, 1) * _STIM_SHOT_BATCH))
    return batches * _STIM_SHOT_BATCH


__all__ = [
    "STABILIZER_WORK_PER_CANCELLATION_CHECK",
    "NotCliffordError",
    "StabilizerCircuit",
    "clifford_gate",
    "shots_per_batch",
]


# stim's first tableau-to-unitary conversion imports numpy's array module from C++ code that
# holds a static-initialisation lock while it waits for the GIL: two worker threads making that
# first call together deadlock (seen as a hung emulator under load). Making the call once here,
# under Python's import lock, leaves nothing for the workers to import.
_clifford_gate(np.eye(2, dtype=np.complex128).tobytes())
stim.Circuit("H 0\nM 0").compile_sampler(seed=0).sample(1)
