"""A pure state of the simulated components, and the numpy kernels the density matrix reuses.

The amplitudes are one flat complex128 array; axis ``i`` of the ``(2,)*n`` view is component ``i``
(component 0 is the most significant bit of the flat index). The vector need not be normalised:
non-unitary steps (no-jump damping, projections) leave the norm alone and every probability is
computed relative to the current norm.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]

# Below this many amplitudes after the target axis a 1q gate is one GEMM with kron(U, I_B)ᵀ, which
# beats numpy's batched 2×2 matmul by far when the batches are tiny.
_KRON_GEMM_MAX_INNER = 16

#: MOVE's undefined phase, as in qiskit-iqm's ``MOVE_GATE_UNITARY``: moving the excitation from
#: the qubit into the resonator multiplies it by e^(−0.7i), moving it back by e^(+0.7i), so a
#: MOVE sandwich is exactly the identity. |11> is left alone (MOVE = SWAP up to these phases).
MOVE_PHASE = complex(np.exp(0.7j))


def axes_view(data: ComplexArray, n_axes: int, axes: Sequence[int]) -> ComplexArray:
    """A view of ``data`` whose first ``len(axes)`` dimensions are the given axes (size 2 each).

    The other axes are merged into as few dimensions as the memory layout allows, which keeps
    numpy's elementwise loops fast.

    :param data: flat array of length 2**n_axes (contiguous).
    :param n_axes: number of binary axes.
    :param axes: distinct target axes, in the order wanted.
    :return: a writable view.
    """
    order = sorted(range(len(axes)), key=lambda i: axes[i])
    shape: list[int] = []
    position = [0] * len(axes)
    previous = -1
    for i in order:
        axis = axes[i]
        shape.append(1 << (axis - previous - 1))
        position[i] = len(shape)
        shape.append(2)
        previous = axis
    shape.append(1 << (n_axes - previous - 1))
    return np.moveaxis(data.reshape(shape), position, list(range(len(axes))))


def apply_matrix_1q(
    data: ComplexArray, n_axes: int, axis: int, matrix: ComplexArray
) -> ComplexArray:
    """``matrix`` (2×2) applied to ``axis``; returns the new flat array (``data`` is unchanged).

    :param data: flat amplitudes.
    :param n_axes: number of axes of ``data``.
    :param axis: target axis.
    :param matrix: 2×2 complex matrix.
    :return: new flat array.
    """
    outer = 1 << axis
    inner = 1 << (n_axes - axis - 1)
    if inner > _KRON_GEMM_MAX_INNER:
        blocks = data.reshape(outer, 2, inner)
        result: ComplexArray = np.matmul(matrix, blocks)
        return result.reshape(-1)
    lifted = np.kron(matrix, np.eye(inner, dtype=np.complex128)).T
    result = data.reshape(outer, 2 * inner) @ lifted
    return result.reshape(-1)


def flip_sign_11(data: ComplexArray, n_axes: int, a: int, b: int) -> None:
    """CZ in place: negate the amplitudes where both axes are 1."""
    view = axes_view(data, n_axes, (a, b))
    view[1, 1] *= -1.0


def swap_with_phase(data: ComplexArray, n_axes: int, a: int, b: int, phase: complex) -> None:
    """MOVE in place: |1₍a₎0₍b₎> ← phase·|0₍a₎1₍b₎>, |0₍a₎1₍b₎> ← phase⁻¹·|1₍a₎0₍b₎>."""
    view = axes_view(data, n_axes, (a, b))
    saved = view[0, 1].copy()
    np.multiply(view[1, 0], np.conj(phase), out=view[0, 1])
    np.multiply(saved, phase, out=view[1, 0])


def scale_one(data: ComplexArray, n_axes: int, axis: int, factor: complex) -> None:
    """Multiply the amplitudes where ``axis`` is 1 by ``factor`` (diagonal gate diag(1, f))."""
    axes_view(data, n_axes, (axis,))[1] *= factor


def apply_x(data: ComplexArray, n_axes: int, axis: int) -> None:
    """Pauli X in place."""
    view = axes_view(data, n_axes, (axis,))
    saved = view[0].copy()
    view[0] = view[1]
    view[1] = saved


def lower(data: ComplexArray, n_axes: int, axis: int) -> None:
    """σ₋ = |0><1| in place (the amplitude-damping jump, unnormalised)."""
    view = axes_view(data, n_axes, (axis,))
    view[0] = view[1]
    view[1] = 0.0


def marginal(probabilities: FloatArray, n_axes: int, axes: Sequence[int]) -> FloatArray:
    """Marginal distribution of ``axes``, flat, first axis most significant.

    :param probabilities: flat array of 2**n_axes non-negative weights (need not sum to 1).
    :param n_axes: number of axes.
    :param axes: axes to keep, in output bit order.
    :return: normalised flat array of 2**len(axes) probabilities.
    """
    tensor = probabilities.reshape((2,) * n_axes)
    others = tuple(axis for axis in range(n_axes) if axis not in axes)
    kept = tensor.sum(axis=others) if others else tensor
    remaining = [axis for axis in range(n_axes) if axis in axes]
    kept = np.transpose(kept, [remaining.index(axis) for axis in axes])
    flat: FloatArray = np.ascontiguousarray(kept, dtype=np.float64).reshape(-1)
    total = float(flat.sum())
    if not total > 0.0:
        raise FloatingPointError("the simulated state has zero norm")
    flat /= total
    return flat


class StateVector:
    """A pure state of ``n`` components, initially |0…0>."""

    def __init__(self, n: int, data: ComplexArray | None = None) -> None:
        """Create |0…0> on ``n`` components, or wrap ``data`` (taken over, not copied)."""
        self.n = n
        if data is None:
            data = np.zeros(1 << n, dtype=np.complex128)
            data[0] = 1.0
        self.data: ComplexArray = data

    def copy(self) -> StateVector:
        """An independent copy."""
        return StateVector(self.n, self.data.copy())

    @property
    def nbytes(self) -> int:
        """Memory held by the amplitudes."""
        return int(self.data.nbytes)

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None:
        """Apply a 2×2 matrix (unitary or not) to ``axis``."""
        self.data = apply_matrix_1q(self.data, self.n, axis, matrix)

    def apply_cz(self, a: int, b: int) -> None:
        """CZ between two axes."""
        flip_sign_11(self.data, self.n, a, b)

    def apply_move(self, qubit: int, resonator: int) -> None:
        """MOVE (qiskit-iqm phases, see :data:`MOVE_PHASE`)."""
        swap_with_phase(self.data, self.n, qubit, resonator, MOVE_PHASE)

    def apply_x(self, axis: int) -> None:
        """Pauli X."""
        apply_x(self.data, self.n, axis)

    def apply_z(self, axis: int) -> None:
        """Pauli Z."""
        scale_one(self.data, self.n, axis, -1.0)

    def apply_pauli(self, axis: int, pauli: int) -> None:
        """Pauli by index 0=I, 1=X, 2=Y, 3=Z (Y up to a global phase)."""
        if pauli in (2, 3):
            self.apply_z(axis)
        if pauli in (1, 2):
            self.apply_x(axis)

    def damp_no_jump(self, axis: int, damping: float) -> None:
        """The no-jump Kraus operator diag(1, √(1−γ)) (unnormalised)."""
        scale_one(self.data, self.n, axis, float(np.sqrt(1.0 - damping)))

    def damp_jump(self, axis: int) -> None:
        """The jump |1> → |0> (unnormalised)."""
        lower(self.data, self.n, axis)

    def excited_probability(self, axis: int) -> float:
        """P(axis is 1) relative to the current norm."""
        return float(self.probabilities((axis,))[1])

    def probabilities(self, axes: Sequence[int]) -> FloatArray:
        """Outcome distribution of measuring ``axes`` (flat, first axis most significant)."""
        weights = np.abs(self.data) ** 2
        return marginal(weights, self.n, axes)

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None:
        """Project onto ``axes`` = ``bits`` and renormalise."""
        for axis, bit in zip(axes, bits, strict=True):
            axes_view(self.data, self.n, (axis,))[1 - bit] = 0.0
        norm = float(np.linalg.norm(self.data))
        if not norm > 0.0:
            raise FloatingPointError("projected onto an outcome of probability 0")
        self.data /= norm

    def reset_to_zero(self, axis: int, outcome: int) -> None:
        """After measuring ``outcome`` on ``axis`` (already projected): bring it to |0>."""
        if outcome == 1:
            self.apply_x(axis)


__all__ = ["MOVE_PHASE", "StateVector", "axes_view", "marginal"]
