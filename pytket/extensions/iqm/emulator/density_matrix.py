"""A mixed state of the simulated components, with the exact noise channels.

ρ is stored like a state vector of 2n axes: axes ``0..n-1`` are the row (ket) indices and axes
``n..2n-1`` the column (bra) indices, so a gate U is U on the row axis and conj(U) on the column
axis, and every channel is a few elementwise passes over views. Cost does not depend on shots.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pytket.extensions.iqm.emulator.statevector import (
    MOVE_PHASE,
    ComplexArray,
    FloatArray,
    Workspace,
    apply_matrix_1q,
    axes_view,
    flip_sign_11,
    marginal,
    swap_with_phase,
)


class DensityMatrix:
    """ρ of ``n`` components, initially |0…0><0…0|."""

    def __init__(
        self, n: int, workspace: Workspace | None = None, data: ComplexArray | None = None
    ) -> None:
        """Create |0…0><0…0| on ``n`` components, or wrap ``data`` (taken over, not copied)."""
        self.n = n
        if data is None:
            data = np.zeros(1 << (2 * n), dtype=np.complex128)
            data[0] = 1.0
        self.data: ComplexArray = data
        self.workspace = workspace if workspace is not None else Workspace()

    def copy(self) -> DensityMatrix:
        """An independent copy (sharing the workspace)."""
        return DensityMatrix(self.n, self.workspace, self.data.copy())

    @property
    def nbytes(self) -> int:
        """Memory held by ρ."""
        return int(self.data.nbytes)

    def _pair(self, axis: int) -> ComplexArray:
        """View with the row and column index of ``axis`` first."""
        return axes_view(self.data, 2 * self.n, (axis, self.n + axis))

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None:
        """U ρ U† for a 2×2 unitary on ``axis``."""
        for target_axis, factor in ((axis, matrix), (self.n + axis, np.conj(matrix))):
            target = self.workspace.exchange(self.data)
            apply_matrix_1q(self.data, target, 2 * self.n, target_axis, factor)
            self.data = target

    def apply_cz(self, a: int, b: int) -> None:
        """CZ between two axes."""
        flip_sign_11(self.data, 2 * self.n, a, b)
        flip_sign_11(self.data, 2 * self.n, self.n + a, self.n + b)

    def apply_move(self, qubit: int, resonator: int) -> None:
        """MOVE (same phases as :meth:`StateVector.apply_move`)."""
        swap_with_phase(self.data, 2 * self.n, qubit, resonator, MOVE_PHASE)
        swap_with_phase(
            self.data, 2 * self.n, self.n + qubit, self.n + resonator, np.conj(MOVE_PHASE)
        )

    def amplitude_damp(self, axis: int, damping: float) -> None:
        """Amplitude damping with parameter γ."""
        view = self._pair(axis)
        view[0, 0] += damping * view[1, 1]
        view[1, 1] *= 1.0 - damping
        coherence = float(np.sqrt(1.0 - damping))
        view[0, 1] *= coherence
        view[1, 0] *= coherence

    def dephase(self, axis: int, flip_probability: float) -> None:
        """Z with probability q."""
        view = self._pair(axis)
        view[0, 1] *= 1.0 - 2.0 * flip_probability
        view[1, 0] *= 1.0 - 2.0 * flip_probability

    def depolarize(self, axes: Sequence[int], p: float) -> None:
        """E(ρ) = (1−p)ρ + p·I/2ᵏ ⊗ Tr_axes ρ on one or two axes."""
        k = len(axes)
        view = axes_view(self.data, 2 * self.n, tuple(axes) + tuple(self.n + a for a in axes))
        diagonal = [tuple(int(bit) for bit in np.binary_repr(i, k)) * 2 for i in range(1 << k)]
        traced = sum((view[index] for index in diagonal[1:]), view[diagonal[0]].copy())
        view *= 1.0 - p
        share = p / (1 << k)
        for index in diagonal:
            view[index] += share * traced

    def reset_to_zero(self, axis: int) -> None:
        """ρ → |0><0| ⊗ Tr_axis ρ (an unrecorded measurement followed by a flip to 0)."""
        view = self._pair(axis)
        view[0, 0] += view[1, 1]
        view[0, 1] = 0.0
        view[1, 0] = 0.0
        view[1, 1] = 0.0

    def _diagonal(self) -> FloatArray:
        dim = 1 << self.n
        return np.ascontiguousarray(self.data.reshape(dim, dim).diagonal().real)

    def weights(self) -> FloatArray:
        """Diagonal of ρ (the outcome weights of all components), flat."""
        return np.clip(self._diagonal(), 0.0, None)

    def probabilities(self, axes: Sequence[int]) -> FloatArray:
        """Outcome distribution of measuring ``axes`` (flat, first axis most significant)."""
        return marginal(np.clip(self._diagonal(), 0.0, None), self.n, axes)

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None:
        """Project onto ``axes`` = ``bits`` and renormalise."""
        for axis, bit in zip(axes, bits, strict=True):
            view = self._pair(axis)
            view[1 - bit, :] = 0.0
            view[:, 1 - bit] = 0.0
        trace = float(self._diagonal().sum())
        if not trace > 0.0:
            raise FloatingPointError("projected onto an outcome of probability 0")
        self.data /= trace


__all__ = ["DensityMatrix"]
