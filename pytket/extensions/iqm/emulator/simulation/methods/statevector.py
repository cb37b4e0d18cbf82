"""A pure state of the simulated components, and the numpy kernels the density matrix reuses.

The amplitudes are one flat complex128 array; axis ``i`` of the ``(2,)*n`` view is component ``i``
(component 0 is the most significant bit of the flat index). The vector need not be normalised:
non-unitary steps (no-jump damping, projections) leave the norm alone and every probability is
computed relative to the current norm.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]

# A 1q gate is a batched 2×2 matmul over the blocks above and below its axis. Each BLAS call is
# kept to at most this many columns: OpenBLAS multithreads larger calls, which is much slower when
# the machine's cores are busy (measured 30-100× on a loaded 2-core VM).
_MATMUL_CHUNK = 2048
# When at most this many amplitudes sit below the axis, the gate is kron(U, I_B) applied from the
# right to rows of 2·B amplitudes instead (numpy's batched 2×2 matmul is slow on tiny blocks).
_KRON_MAX_INNER = 8
# rows·(2B)² stays below OpenBLAS's multithreading threshold for the same reason.
_KRON_WORK = 8192

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
    source: ComplexArray, target: ComplexArray, n_axes: int, axis: int, matrix: ComplexArray
) -> None:
    """Write ``matrix`` (2×2) applied to ``axis`` of ``source`` into ``target``.

    :param source: flat amplitudes (not modified).
    :param target: flat array of the same size, overwritten.
    :param n_axes: number of axes.
    :param axis: target axis.
    :param matrix: 2×2 complex matrix.
    """
    outer = 1 << axis
    inner = 1 << (n_axes - axis - 1)
    if inner <= _KRON_MAX_INNER:
        rows = min(outer, max(1, _KRON_WORK // (4 * inner * inner)))
        lifted = np.kron(matrix, np.eye(inner, dtype=np.complex128)).T
        rows_shape = (outer // rows, rows, 2 * inner)
        np.matmul(source.reshape(rows_shape), lifted, out=target.reshape(rows_shape))
    elif inner > _MATMUL_CHUNK:
        chunked = (outer, 2, inner // _MATMUL_CHUNK, _MATMUL_CHUNK)
        np.matmul(
            matrix,
            source.reshape(chunked).transpose(0, 2, 1, 3),
            out=target.reshape(chunked).transpose(0, 2, 1, 3),
        )
    else:
        shape = (outer, 2, inner)
        np.matmul(matrix, source.reshape(shape), out=target.reshape(shape))


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


class Workspace:
    """One spare amplitude buffer shared by the states of one simulation (double buffering)."""

    def __init__(self) -> None:
        """Start without a buffer; the first gate allocates it."""
        self._spare: ComplexArray | None = None

    def exchange(self, used: ComplexArray) -> ComplexArray:
        """A buffer of ``used``'s size to write into; ``used`` becomes the spare."""
        spare = self._spare
        if spare is None or spare.shape != used.shape:
            spare = np.empty_like(used)
        self._spare = used
        return spare

    def release(self) -> None:
        """Drop the spare buffer."""
        self._spare = None


# From this many pending diagonal matrices on, flushing them builds their tensor product (about
# two passes) instead of scaling half of the state once per axis.
_DIAGONAL_PRODUCT_MIN = 4
# Gates on a few consecutive axes are multiplied into one pending matrix and applied in one
# batched matmul, which costs about as much as a single-axis gate (measured at 20 qubits: 1.5 ms
# for one axis, 1.7 ms for two, 2.3-3.9 ms for four). Windows of up to _WINDOW_MAX axes are
# allowed where at least _WINDOW_MIN_INNER amplitudes sit below them or at the very bottom of the
# index; in between, the matmul blocks get short and only pairs pay off.
_WINDOW_MAX = 4
_WINDOW_MIN_INNER = 64
_WINDOW_MAX_SHORT = 2
# Each BLAS call of a window stays below OpenBLAS's multithreading threshold (see _MATMUL_CHUNK).
_WINDOW_WORK = 16384

_PAULI_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_PAULI_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)


@functools.lru_cache(maxsize=4096)
def _no_jump_kraus(damping: float) -> ComplexArray:
    root = float(np.sqrt(1.0 - damping))
    return np.array([[1.0, 0.0], [0.0, root]], dtype=np.complex128)


_JUMP = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.complex128)


def _kron(a: ComplexArray, b: ComplexArray) -> ComplexArray:
    """Kronecker product of two small square matrices (np.kron has a large fixed cost)."""
    product: ComplexArray = (a[:, None, :, None] * b[None, :, None, :]).reshape(
        a.shape[0] * b.shape[0], -1
    )
    return product


def _is_diagonal(matrix: ComplexArray) -> bool:
    return bool(np.count_nonzero(matrix - np.diag(np.diagonal(matrix))) == 0)


class _Window:
    """A pending operator on the consecutive axes ``lo..hi`` (``lo`` most significant)."""

    __slots__ = ("hi", "lo", "matrix")

    def __init__(self, lo: int, hi: int, matrix: ComplexArray) -> None:
        self.lo = lo
        self.hi = hi
        self.matrix = matrix

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1

    def multiply(self, matrix: ComplexArray, axis: int) -> None:
        """Left-multiply the window's operator by ``matrix`` on the axes starting at ``axis``."""
        if matrix.shape[0] == 1 << self.size:
            self.matrix = matrix @ self.matrix
            return
        dim = 1 << self.size
        blocks = self.matrix.reshape(1 << (axis - self.lo), matrix.shape[0], -1)
        self.matrix = np.matmul(matrix, blocks).reshape(dim, dim)

    def cz_signs(self, a: int, b: int) -> npt.NDArray[np.float64]:
        """Diagonal of CZ(a, b) on the window."""
        return _cz_signs(self.size, self.hi - a, self.hi - b)


@functools.lru_cache(maxsize=256)
def _cz_signs(size: int, shift_a: int, shift_b: int) -> npt.NDArray[np.float64]:
    """Diagonal of CZ on ``size`` axes between the bits ``shift_a`` and ``shift_b`` (read-only)."""
    index = np.arange(1 << size)
    both = ((index >> shift_a) & 1) & ((index >> shift_b) & 1)
    signs: npt.NDArray[np.float64] = (1 - 2 * both).astype(np.float64)
    signs.flags.writeable = False
    return signs


def apply_window(
    source: ComplexArray, target: ComplexArray, n_axes: int, lo: int, matrix: ComplexArray
) -> None:
    """Write ``matrix`` applied to the consecutive axes starting at ``lo`` into ``target``."""
    dim = matrix.shape[0]
    outer = 1 << lo
    inner = source.size // (outer * dim)
    if inner == 1:
        # Rows of ``dim`` contiguous amplitudes times matrixᵀ, in batches of small GEMMs.
        rows = min(outer, max(1, 2 * _WINDOW_WORK // (dim * dim)))
        rows_shape = (outer // rows, rows, dim)
        np.matmul(source.reshape(rows_shape), matrix.T, out=target.reshape(rows_shape))
        return
    chunk = min(inner, max(1, _WINDOW_WORK // (dim * dim)))
    shape = (outer, dim, inner // chunk, chunk)
    np.matmul(
        matrix,
        source.reshape(shape).transpose(0, 2, 1, 3),
        out=target.reshape(shape).transpose(0, 2, 1, 3),
    )


class StateVector:
    """A pure state of ``n`` components, initially |0…0>.

    Gates are not applied at once: they are multiplied into pending matrices on small windows of
    consecutive axes (a single axis, or up to :data:`_WINDOW_MAX` axes away from the bottom of
    the index), and a window is applied in one pass when something needs its axes (a gate that
    does not fit, a probability, a projection). Pending diagonal matrices commute with CZ and
    stay pending across it.
    """

    def __init__(
        self, n: int, workspace: Workspace | None = None, data: ComplexArray | None = None
    ) -> None:
        """Create |0…0> on ``n`` components, or wrap ``data`` (taken over, not copied)."""
        self.n = n
        if data is None:
            data = np.zeros(1 << n, dtype=np.complex128)
            data[0] = 1.0
        self.data: ComplexArray = data
        self.workspace = workspace if workspace is not None else Workspace()
        self.windows: dict[int, _Window] = {}
        """Axis → the pending window covering it."""

    def copy(self) -> StateVector:
        """An independent copy (sharing the workspace)."""
        twin = StateVector(self.n, self.workspace, self.data.copy())
        for window in {id(w): w for w in self.windows.values()}.values():
            clone = _Window(window.lo, window.hi, window.matrix)  # matrices are never mutated
            for axis in range(window.lo, window.hi + 1):
                twin.windows[axis] = clone
        return twin

    def grow(self, n: int) -> None:
        """Append components ``self.n .. n−1`` in |0> as the least significant axes.

        A circuit's components are numbered by first use, so a state can start with none and
        grow as the circuit reaches new ones: gates before that run on a smaller vector.
        Pending windows keep their axes.
        """
        if n <= self.n:
            return
        grown = np.zeros(1 << n, dtype=np.complex128)
        grown.reshape(self.data.size, -1)[:, 0] = self.data
        self.data = grown
        self.n = n

    @property
    def nbytes(self) -> int:
        """Memory held by the amplitudes."""
        return int(self.data.nbytes)

    # -- pending windows ------------------------------------------------------------------------

    def _span(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The window span to use for gates on ``lo..hi`` (maybe extended to the bottom)."""
        if lo == hi:
            return lo, hi
        inner = 1 << (self.n - 1 - hi)
        if inner >= _WINDOW_MIN_INNER or inner == 1:
            return (lo, hi) if hi - lo < _WINDOW_MAX else None
        if self.n - lo <= _WINDOW_MAX:
            return lo, self.n - 1
        return (lo, hi) if hi - lo < _WINDOW_MAX_SHORT else None

    def _grow(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The smallest allowed span over ``lo..hi`` and every window it touches, or None."""
        while True:
            span = self._span(lo, hi)
            if span is None:
                return None
            covered = [w for axis in range(span[0], span[1] + 1) if (w := self.windows.get(axis))]
            new_lo = min([span[0], *(w.lo for w in covered)])
            new_hi = max([span[1], *(w.hi for w in covered)])
            if (new_lo, new_hi) == (lo, hi):
                return lo, hi
            lo, hi = new_lo, new_hi

    def _window_over(self, axes: Sequence[int]) -> _Window | None:
        """The pending window covering ``axes``, merging windows if that fits; None if not."""
        span = self._grow(min(axes), max(axes))
        if span is None:
            return None
        lo, hi = span
        existing = self.windows.get(lo)
        if existing is not None and existing.lo == lo and existing.hi == hi:
            return existing
        matrix: ComplexArray = np.ones((1, 1), dtype=np.complex128)
        axis = lo
        while axis <= hi:
            covering = self.windows.get(axis)
            if covering is None:
                end = axis
                while end < hi and (end + 1) not in self.windows:
                    end += 1
                matrix = _kron(matrix, np.eye(1 << (end - axis + 1), dtype=np.complex128))
                axis = end + 1
            else:
                matrix = _kron(matrix, covering.matrix)
                axis = covering.hi + 1
        window = _Window(lo, hi, matrix)
        for axis in range(lo, hi + 1):
            self.windows[axis] = window
        return window

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None:
        """Apply a 2×2 matrix (unitary or not) to ``axis``."""
        window = self.windows.get(axis)
        if window is None:
            self.windows[axis] = _Window(axis, axis, matrix)  # matrices are never mutated
            return
        window.multiply(matrix, axis)

    def apply_local(self, lo: int, hi: int, matrix: ComplexArray) -> None:
        """Apply a matrix (unitary or not) on the consecutive axes ``lo..hi``."""
        window = self._window_over((lo, hi))
        if window is None:
            self.flush(range(lo, hi + 1))
            target = self.workspace.exchange(self.data)
            apply_window(self.data, target, self.n, lo, matrix)
            self.data = target
            return
        window.multiply(matrix, lo)

    def apply_swap(self, a: int, b: int, phase: complex) -> None:
        """|1₍a₎0₍b₎> ← phase·|0₍a₎1₍b₎>, |0₍a₎1₍b₎> ← phase⁻¹·|1₍a₎0₍b₎>, |11> unchanged."""
        self.flush([a, b])
        swap_with_phase(self.data, self.n, a, b, phase)

    def apply_x(self, axis: int) -> None:
        """Pauli X."""
        self.apply_1q(axis, _PAULI_X)

    def apply_z(self, axis: int) -> None:
        """Pauli Z."""
        self.apply_1q(axis, _PAULI_Z)

    def apply_pauli(self, axis: int, pauli: int) -> None:
        """Pauli by index 0=I, 1=X, 2=Y, 3=Z (Y up to a global phase)."""
        if pauli in (2, 3):
            self.apply_z(axis)
        if pauli in (1, 2):
            self.apply_x(axis)

    def damp_no_jump(self, axis: int, damping: float) -> None:
        """The no-jump Kraus operator diag(1, √(1−γ)) (unnormalised)."""
        self.apply_1q(axis, _no_jump_kraus(damping))

    def damp_jump(self, axis: int) -> None:
        """The jump |1> → |0> (unnormalised)."""
        self.apply_1q(axis, _JUMP)

    def flush(self, axes: Sequence[int] | None = None) -> None:
        """Apply the pending windows covering ``axes`` (all when None)."""
        chosen = self.windows.keys() if axes is None else axes
        windows = list({id(w): w for a in chosen if (w := self.windows.get(a))}.values())
        diagonal: dict[int, complex] = {}
        for window in windows:
            for axis in range(window.lo, window.hi + 1):
                del self.windows[axis]
            matrix = window.matrix
            if window.size == 1 and _is_diagonal(matrix) and abs(matrix[0, 0]) > 0.0:
                # States are unnormalised, so diag(d0, d1) may be applied as diag(1, d1/d0).
                ratio = complex(matrix[1, 1] / matrix[0, 0])
                if ratio != 1.0:
                    diagonal[window.lo] = ratio
                continue
            target = self.workspace.exchange(self.data)
            if window.size == 1:
                apply_matrix_1q(self.data, target, self.n, window.lo, matrix)
            else:
                apply_window(self.data, target, self.n, window.lo, matrix)
            self.data = target
        if len(diagonal) < _DIAGONAL_PRODUCT_MIN:
            for axis, ratio in diagonal.items():
                scale_one(self.data, self.n, axis, ratio)
            return
        # Many diagonals at once: one pass with their tensor product over the axes they span.
        first, last = min(diagonal), max(diagonal)
        product = np.ones(1, dtype=np.complex128)
        for axis in range(first, last + 1):
            product = np.multiply.outer(product, [1.0, diagonal.get(axis, 1.0)]).reshape(-1)
        view = self.data.reshape(1 << first, product.size, -1)
        view *= product[None, :, None]

    # -- gates ---------------------------------------------------------------------------------

    def apply_cz(self, a: int, b: int) -> None:
        """CZ between two axes."""
        window = self._window_over((a, b))
        span = self._span(min(a, b), max(a, b))
        if window is None and span is not None:
            # The pending windows around cannot grow to cover both: apply those that stick out
            # of the span and start a window on it.
            lo, hi = span
            self.flush(
                [
                    axis
                    for axis in range(lo, hi + 1)
                    if (w := self.windows.get(axis)) and (w.lo < lo or w.hi > hi)
                ]
            )
            window = self._window_over((a, b))
        if window is not None:
            window.matrix = window.cz_signs(a, b)[:, None] * window.matrix
            return
        self.flush([axis for axis in (a, b) if not self._pending_diagonal(axis)])
        flip_sign_11(self.data, self.n, a, b)

    def _pending_diagonal(self, axis: int) -> bool:
        window = self.windows.get(axis)
        return window is None or _is_diagonal(window.matrix)

    def apply_move(self, qubit: int, resonator: int) -> None:
        """MOVE (qiskit-iqm phases, see :data:`MOVE_PHASE`)."""
        self.apply_swap(qubit, resonator, MOVE_PHASE)

    # -- measurement ---------------------------------------------------------------------------

    def excited_probability(self, axis: int) -> float:
        """P(axis is 1) relative to the current norm."""
        return float(self.probabilities((axis,))[1])

    def weights(self) -> FloatArray:
        """|amplitude|² of every basis state (unnormalised), flat."""
        self.flush()
        weights = np.abs(self.data)
        np.square(weights, out=weights)
        return weights

    def probabilities(self, axes: Sequence[int]) -> FloatArray:
        """Outcome distribution of measuring ``axes`` (flat, first axis most significant)."""
        return marginal(self.weights(), self.n, axes)

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None:
        """Project onto ``axes`` = ``bits`` and renormalise."""
        self.flush()
        for axis, bit in zip(axes, bits, strict=True):
            axes_view(self.data, self.n, (axis,))[1 - bit] = 0.0
        norm = float(np.sqrt(np.vdot(self.data, self.data).real))
        if not norm > 0.0:
            raise FloatingPointError("projected onto an outcome of probability 0")
        self.data /= norm


__all__ = ["MOVE_PHASE", "StateVector", "Workspace", "axes_view", "marginal"]
