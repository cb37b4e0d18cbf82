"""A mixed state of the simulated components, with the exact noise channels.

ρ is stored like a state vector of 2n axes, interleaved: axis ``2q`` is the row (ket) index of
component ``q`` and axis ``2q+1`` its column (bra) index. A single-component channel (a gate
U ↦ U⊗conj(U), damping, dephasing, depolarizing, reset, projection) is then a 4×4 matrix on two
*adjacent* axes, so the state-vector machinery (pending windows on consecutive axes, batched
matmul kernels) applies it and fuses neighbouring channels. Cost does not depend on shots.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    MOVE_PHASE,
    ComplexArray,
    FloatArray,
    StateVector,
    Workspace,
    axes_view,
    marginal,
)

# Renormalise ρ when unnormalised depolarizing steps have grown it by this factor.
_RESCALE_ABOVE = 1e100


def _unitary_superoperator(matrix: ComplexArray) -> ComplexArray:
    """U·ρ·U† on one component's (row, column) axis pair, index 2·row + column."""
    superoperator: ComplexArray = np.kron(matrix, np.conj(matrix)).astype(np.complex128)
    return superoperator


def _damping_superoperator(damping: float) -> ComplexArray:
    root = np.sqrt(1.0 - damping)
    return np.array(
        [[1, 0, 0, damping], [0, root, 0, 0], [0, 0, root, 0], [0, 0, 0, 1 - damping]],
        dtype=np.complex128,
    )


def _dephasing_superoperator(probability: float) -> ComplexArray:
    return np.diag([1.0, 1.0 - 2.0 * probability, 1.0 - 2.0 * probability, 1.0]).astype(
        np.complex128
    )


# ρ ↦ Tr(ρ)·I on one component (the "trace and replace" map), index 2·row + column.
_TRACE_TO_IDENTITY = np.array(
    [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]], dtype=np.complex128
)
_PAULIS = (
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
)
# ρ ↦ Tr(ρ)·|0><0|: an unrecorded measurement followed by a flip to 0.
_RESET = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.complex128)


class DensityMatrix:
    """ρ of ``n`` components, initially |0…0><0…0|."""

    def __init__(
        self, n: int, workspace: Workspace | None = None, data: ComplexArray | None = None
    ) -> None:
        """Create |0…0><0…0| on ``n`` components, or wrap ``data`` (interleaved layout, taken
        over, not copied)."""
        self.n = n
        self.vector = StateVector(2 * n, workspace, data)
        self._scale = 1.0  # how much larger than trace 1 ρ may have grown (see depolarize)

    @property
    def data(self) -> ComplexArray:
        """The amplitudes of ρ in the interleaved layout (pending operations applied)."""
        self.vector.flush()
        if self._scale != 1.0:
            self.vector.data /= self._scale
            self._scale = 1.0
        return self.vector.data

    def copy(self) -> DensityMatrix:
        """An independent copy (sharing the workspace)."""
        twin = DensityMatrix.__new__(DensityMatrix)
        twin.n = self.n
        twin.vector = self.vector.copy()
        twin._scale = self._scale
        return twin

    def grow(self, n: int) -> None:
        """Append components ``self.n .. n−1`` in |0><0| (see :meth:`StateVector.grow`)."""
        if n > self.n:
            self.vector.grow(2 * n)
            self.n = n

    @property
    def nbytes(self) -> int:
        """Memory held by ρ."""
        return self.vector.nbytes

    def _local(self, axis: int, superoperator: ComplexArray) -> None:
        self.vector.apply_local(2 * axis, 2 * axis + 1, superoperator)

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None:
        """U ρ U† for a 2×2 unitary on ``axis``."""
        self._local(axis, _unitary_superoperator(matrix))

    def apply_cz(self, a: int, b: int) -> None:
        """CZ between two axes."""
        self.vector.apply_cz(2 * a, 2 * b)
        self.vector.apply_cz(2 * a + 1, 2 * b + 1)

    def apply_move(self, qubit: int, resonator: int) -> None:
        """MOVE (same phases as :meth:`StateVector.apply_move`)."""
        self.vector.apply_swap(2 * qubit, 2 * resonator, MOVE_PHASE)
        self.vector.apply_swap(2 * qubit + 1, 2 * resonator + 1, np.conj(MOVE_PHASE))

    def amplitude_damp(self, axis: int, damping: float) -> None:
        """Amplitude damping with parameter γ."""
        self._local(axis, _damping_superoperator(damping))

    def dephase(self, axis: int, flip_probability: float) -> None:
        """Z with probability q."""
        self._local(axis, _dephasing_superoperator(flip_probability))

    def pauli_channel(self, axis: int, probabilities: tuple[float, float, float]) -> None:
        """X, Y, Z on ``axis`` with the given probabilities."""
        p_x, p_y, p_z = probabilities
        superoperator = (1.0 - p_x - p_y - p_z) * np.eye(4, dtype=np.complex128)
        for p, pauli in zip(probabilities, _PAULIS, strict=True):
            superoperator = superoperator + p * _unitary_superoperator(pauli)
        self._local(axis, superoperator)

    def depolarize(self, axes: Sequence[int], p: float) -> None:
        """E(ρ) = (1−p)ρ + p·I/2ᵏ ⊗ Tr_axes ρ on one or two axes."""
        if len(axes) == 1:
            self._local(axes[0], (1.0 - p) * np.eye(4) + (p / 2.0) * _TRACE_TO_IDENTITY)
            return
        a, b = sorted(axes)
        if p >= 1.0:
            self.vector.flush()
            traced = self._traced_out(axes)
            self.vector.data[:] = 0.0
            self._add_identity_times(axes, traced, 1.0)
            return
        # (1−p)·ρ + p/4·I_ab ⊗ Tr_ab(ρ). ρ is kept up to a positive factor (every probability is
        # taken relative to the trace), so this adds p/(4(1−p))·I_ab ⊗ Tr_ab(ρ) to the four
        # blocks where both components' row and column bits agree: a quarter of ρ is read and
        # written instead of several full passes.
        self.vector.flush([2 * a, 2 * a + 1, 2 * b, 2 * b + 1])
        self._add_identity_times(axes, self._traced_out(axes), p / (4.0 * (1.0 - p)))
        self._scale /= 1.0 - p
        if self._scale > _RESCALE_ABOVE:
            _ = self.data  # folds the factor back in

    def _blocks(self, axes: Sequence[int]) -> ComplexArray:
        a, b = axes
        return axes_view(self.vector.data, 2 * self.n, (2 * a, 2 * a + 1, 2 * b, 2 * b + 1))

    def _traced_out(self, axes: Sequence[int]) -> ComplexArray:
        view = self._blocks(axes)
        traced: ComplexArray = view[0, 0, 0, 0] + view[1, 1, 0, 0]
        traced += view[0, 0, 1, 1]
        traced += view[1, 1, 1, 1]
        return traced

    def _add_identity_times(self, axes: Sequence[int], traced: ComplexArray, factor: float) -> None:
        view = self._blocks(axes)
        scaled = traced * factor
        for x in (0, 1):
            for y in (0, 1):
                view[x, x, y, y] += scaled

    def reset_to_zero(self, axis: int) -> None:
        """ρ → |0><0| ⊗ Tr_axis ρ (an unrecorded measurement followed by a flip to 0)."""
        self._local(axis, _RESET)

    def weights(self) -> FloatArray:
        """Diagonal of ρ (the outcome weights of all components), flat."""
        pairs = self.data.reshape((4,) * self.n)
        diagonal = pairs[(slice(0, 4, 3),) * self.n].real  # row bit = column bit: 00 and 11
        weights: FloatArray = np.clip(diagonal, 0.0, None).reshape(-1)
        return weights

    def probabilities(self, axes: Sequence[int]) -> FloatArray:
        """Outcome distribution of measuring ``axes`` (flat, first axis most significant)."""
        return marginal(self.weights(), self.n, axes)

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None:
        """Project onto ``axes`` = ``bits`` and renormalise."""
        for axis, bit in zip(axes, bits, strict=True):
            keep = np.zeros((4, 4), dtype=np.complex128)
            keep[3 * bit, 3 * bit] = 1.0  # only the (bit, bit) block survives
            self._local(axis, keep)
        trace = float(self.weights().sum())
        if not trace > 0.0:
            raise FloatingPointError("projected onto an outcome of probability 0")
        self.vector.data /= trace
        self._scale = 1.0


__all__ = ["DensityMatrix"]
