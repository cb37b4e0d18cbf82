"""A pure state of the simulated components as a matrix-product state (MPS), with truncation.

It offers the operations the shot simulator's trajectory unravelling needs (gates, Kraus
operators of the noise, projections, sampling), so the same noise model and the same presampled
noise events drive it as they drive the state vector; only the state is stored differently. Its
memory grows with the entanglement (the bond dimension) rather than exponentially with the number
of components, which is what lets circuits on all 54 qubits of a Crystal device run.

Layout: one tensor of shape ``(left bond, 2, right bond)`` per site, in a chain order of the
components that changes as gates act (two-component gates on distant sites first swap one of
them next to the other, and the swapped site stays there). The state is kept in mixed canonical
form around one site, the *centre*: sites left of it are left isometries, sites right of it
right isometries, so the centre tensor alone carries the norm and the weights of every
singular-value decomposition are the exact Schmidt weights. Like the state vector it need not
be normalised; probabilities are relative to the current norm.

Truncation: a two-site update keeps at most :attr:`MatrixProductState.max_bond` singular values
(and drops those that are numerically zero). The relative weight dropped is added to
:attr:`MatrixProductState.discarded`; the sum of these over a run bounds the error
(``‖ψ − ψ̃‖² ≤ 2·discarded`` for normalised states).

Tensors are never modified in place, so a copy shares them with its original.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from pytket.extensions.iqm.emulator.limits import DEFAULT_MAX_BOND
from pytket.extensions.iqm.emulator.simulation.methods.statevector import MOVE_PHASE, marginal

ComplexArray = npt.NDArray[np.complex128]
FloatArray = npt.NDArray[np.float64]
BitArray = npt.NDArray[np.uint8]

# Singular values whose squared relative weight is below this are numerically zero: dropping
# them keeps bonds small without counting as truncation.
_NEGLIGIBLE_WEIGHT = 1e-14
# Tolerance of the cheap unitarity test that decides whether a 2×2 matrix may be applied away
# from the centre.
_UNITARY_TOLERANCE = 1e-12

_ZERO_SITE: ComplexArray = np.array([1.0, 0.0], dtype=np.complex128).reshape(1, 2, 1)
_ZERO_SITE.flags.writeable = False
_SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
_PAULI_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_PAULI_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
_JUMP = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.complex128)
_PROJECTORS = (
    np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.complex128),
    np.array([[0.0, 0.0], [0.0, 1.0]], dtype=np.complex128),
)


def _is_unitary(matrix: ComplexArray) -> bool:
    (a, b), (c, d) = matrix.tolist()
    return bool(
        abs(abs(a) ** 2 + abs(c) ** 2 - 1.0) < _UNITARY_TOLERANCE
        and abs(abs(b) ** 2 + abs(d) ** 2 - 1.0) < _UNITARY_TOLERANCE
        and abs(a.conjugate() * b + c.conjugate() * d) < _UNITARY_TOLERANCE
    )


def _apply_site(matrix: ComplexArray, tensor: ComplexArray) -> ComplexArray:
    """``matrix`` (2×2) on the physical index of a site tensor."""
    result: ComplexArray = np.einsum("st,atb->asb", matrix, tensor)
    return result


def _svd(theta: ComplexArray) -> tuple[ComplexArray, FloatArray, ComplexArray]:
    try:
        u, s, vh = np.linalg.svd(theta, full_matrices=False)
    except np.linalg.LinAlgError:
        # LAPACK's divide and conquer rarely fails to converge; the eigenvectors of θθ† give
        # the same decomposition more slowly.
        eigenvalues, u = np.linalg.eigh(theta @ theta.conj().T)
        order = np.argsort(eigenvalues)[::-1]
        u = u[:, order]
        s = np.sqrt(np.clip(eigenvalues[order], 0.0, None))
        nonzero = s > 0.0
        u, s = u[:, nonzero], s[nonzero]
        vh = (u.conj().T @ theta) / s[:, None]
    return u, s, vh


class TruncationLimitError(ArithmeticError):
    """Truncation has dropped more weight than the caller allows."""

    def __init__(self, discarded: float, limit: float, max_bond: int) -> None:
        super().__init__(
            f"discarded weight {discarded:.3g} exceeds {limit:.3g} at bond dimension {max_bond}"
        )
        self.discarded = discarded
        self.limit = limit
        self.max_bond = max_bond


class MatrixProductState:
    """A pure state of ``n`` components as an MPS, initially |0…0>.

    :param n: number of components (axes), each in |0>.
    :param max_bond: largest bond dimension kept; larger ones are truncated and the weight
        dropped is added to :attr:`discarded`.
    :param max_discarded: raise :class:`TruncationLimitError` as soon as :attr:`discarded`
        exceeds this.
    :param neighbours: axis → an axis next to which :meth:`grow` places it (when that one is
        there already), e.g. its first partner in a two-component gate, so that the gate needs
        no swaps; other axes go to the end of the chain.
    """

    def __init__(
        self,
        n: int = 0,
        max_bond: int = DEFAULT_MAX_BOND,
        max_discarded: float = math.inf,
        neighbours: Mapping[int, int] | None = None,
    ) -> None:
        if max_bond < 1:
            raise ValueError(f"max_bond must be at least 1, got {max_bond}.")
        self.n = n
        self.max_bond = max_bond
        self.max_discarded = max_discarded
        self.neighbours: Mapping[int, int] = neighbours if neighbours is not None else {}
        self.tensors: list[ComplexArray] = [_ZERO_SITE] * n
        self.axis_at: list[int] = list(range(n))
        """Chain position → axis."""
        self.position_of: list[int] = list(range(n))
        """Axis → chain position."""
        self.center = 0
        self.dirty: tuple[int, int] | None = None
        """Range of positions where a non-unitary factor was applied away from the centre
        (the canonical form is restored there only when something needs it)."""
        self.discarded = 0.0
        """Sum of the relative weights dropped by truncation so far."""
        self.largest_bond = 1
        """Largest bond dimension this state (or the one it was copied from) has held."""

    def copy(self) -> MatrixProductState:
        """An independent copy (tensors are shared: they are never modified in place)."""
        twin = MatrixProductState.__new__(MatrixProductState)
        twin.n = self.n
        twin.max_bond = self.max_bond
        twin.max_discarded = self.max_discarded
        twin.neighbours = self.neighbours
        twin.tensors = list(self.tensors)
        twin.axis_at = list(self.axis_at)
        twin.position_of = list(self.position_of)
        twin.center = self.center
        twin.dirty = self.dirty
        twin.discarded = self.discarded
        twin.largest_bond = self.largest_bond
        return twin

    def grow(self, n: int) -> None:
        """Add components ``self.n .. n−1`` in |0>, each after its neighbour (see
        :class:`MatrixProductState`) or at the end of the chain."""
        for axis in range(self.n, n):
            neighbour = self.neighbours.get(axis)
            if neighbour is None or neighbour >= axis:
                position = axis
                site = _ZERO_SITE
            else:
                # |0> with an identity on the bond it is inserted into: an isometry both ways,
                # so the canonical form holds.
                position = self.position_of[neighbour] + 1
                bond = self.tensors[position - 1].shape[2]
                site = np.zeros((bond, 2, bond), dtype=np.complex128)
                site[:, 0, :] = np.eye(bond)
                if position <= self.center:
                    self.center += 1
                if self.dirty is not None:
                    lo, hi = self.dirty
                    self.dirty = (lo + (lo >= position), hi + (hi >= position))
            self.tensors.insert(position, site)
            self.axis_at.insert(position, axis)
            self.position_of.append(position)
            for shifted in self.axis_at[position + 1 :]:
                self.position_of[shifted] += 1
            self.n = axis + 1

    @property
    def nbytes(self) -> int:
        """Memory held by the tensors."""
        return sum(int(tensor.nbytes) for tensor in self.tensors)

    @staticmethod
    def bytes_bound(n: int, max_bond: int) -> int:
        """The most memory a state of ``n`` components with this bond cap can hold."""
        return 16 * 2 * n * max_bond * max_bond

    def flush(self, axes: Sequence[int] | None = None) -> None:
        """Nothing is pending in an MPS (the state vector's interface has this)."""

    # -- canonical form ------------------------------------------------------------------------

    def _move_center(self, position: int) -> None:
        tensors = self.tensors
        while self.center < position:
            site = tensors[self.center]
            left, _, right = site.shape
            q, r = np.linalg.qr(site.reshape(2 * left, right))
            tensors[self.center] = q.reshape(left, 2, -1)
            following = tensors[self.center + 1]
            tensors[self.center + 1] = np.tensordot(r, following, axes=(1, 0))
            self.center += 1
        while self.center > position:
            site = tensors[self.center]
            left, _, right = site.shape
            q, r = np.linalg.qr(site.reshape(left, 2 * right).conj().T)
            tensors[self.center] = q.conj().T.reshape(-1, 2, right)
            previous = tensors[self.center - 1]
            tensors[self.center - 1] = np.tensordot(previous, r.conj().T, axes=(2, 0))
            self.center -= 1

    # -- gates ---------------------------------------------------------------------------------

    def _restore(self) -> None:
        """Make the form canonical again where non-unitary factors broke it.

        A sweep re-orthogonalises every site it passes: first to the left end of the broken
        range, then to its right end (left isometries behind), then back to the centre.
        """
        if self.dirty is None:
            return
        lo, hi = self.dirty
        center = self.center
        self._move_center(min(lo, center))
        self._move_center(max(hi, center))
        self._move_center(center)
        self.dirty = None

    def apply_1q(self, axis: int, matrix: ComplexArray) -> None:
        """Apply a 2×2 matrix (unitary or not) to ``axis``."""
        position = self.position_of[axis]
        if position != self.center and not _is_unitary(matrix):
            # A non-unitary factor away from the centre breaks the isometry of its site; the
            # state stays exact, and the form is restored when weights are needed (no-jump
            # damping after every gate would otherwise cost a sweep each time).
            lo, hi = self.dirty if self.dirty is not None else (position, position)
            self.dirty = (min(lo, position), max(hi, position))
        self.tensors[position] = _apply_site(matrix, self.tensors[position])

    def apply_2q(self, a: int, b: int, matrix: ComplexArray) -> None:
        """Apply a 4×4 matrix on axes ``a`` (most significant) and ``b``."""
        pa, pb = self.position_of[a], self.position_of[b]
        # Bring the site farther from the centre next to the nearer one.
        if abs(pb - self.center) < abs(pa - self.center):
            a, b, pa, pb = b, a, pb, pa
            matrix = _SWAP @ matrix @ _SWAP
        step = 1 if pb > pa else -1
        while abs(pb - pa) > 1:
            self._two_site(pb - 1 if step == 1 else pb, _SWAP, towards=pa)
            pb -= step
        if pb < pa:
            matrix = _SWAP @ matrix @ _SWAP
            pa = pb
        else:
            pa = min(pa, pb)
        self._two_site(pa, matrix, towards=pa)

    def _two_site(self, position: int, matrix: ComplexArray, towards: int) -> None:
        """``matrix`` on the sites at ``position`` and ``position + 1``; the centre ends on the
        one nearer to ``towards`` (where the next update is expected)."""
        if self.center <= position:
            self._move_center(position)
        else:
            self._move_center(position + 1)
        first, second = self.tensors[position], self.tensors[position + 1]
        left, right = first.shape[0], second.shape[2]
        theta = np.tensordot(first, second, axes=(2, 0))  # (left, 2, 2, right)
        theta = np.einsum("ij,ajb->aib", matrix, theta.reshape(left, 4, right))
        u, s, vh = _svd(theta.reshape(2 * left, 2 * right))
        weights = s * s
        total = float(weights.sum())
        if not total > 0.0:
            raise FloatingPointError("the simulated state has zero norm")
        keep = int(np.count_nonzero(weights > total * _NEGLIGIBLE_WEIGHT))
        if keep > self.max_bond and self.dirty is not None:
            # Truncation needs the true Schmidt weights: store the exact split, restore the
            # canonical form, and split this bond again.
            self._store_split(position, u, s, vh, keep=len(s), towards=towards)
            self._restore()
            self._two_site(position, _IDENTITY_4, towards)
        else:
            self._truncate_and_store(position, (u, s, vh), keep, towards)
        if matrix is _SWAP:
            lower, upper = self.axis_at[position], self.axis_at[position + 1]
            self.axis_at[position], self.axis_at[position + 1] = upper, lower
            self.position_of[upper], self.position_of[lower] = position, position + 1

    def _truncate_and_store(
        self,
        position: int,
        split: tuple[ComplexArray, FloatArray, ComplexArray],
        keep: int,
        towards: int,
    ) -> None:
        u, s, vh = split
        weights = s * s
        total = float(weights.sum())
        keep = max(1, min(keep, self.max_bond))
        if keep < len(s):
            truncated = float(weights[keep:].sum()) / total
            if keep == self.max_bond:
                self.discarded += truncated
                if self.discarded > self.max_discarded:
                    raise TruncationLimitError(self.discarded, self.max_discarded, self.max_bond)
            u, s, vh = u[:, :keep], s[:keep], vh[:keep]
        self.largest_bond = max(self.largest_bond, keep)
        self._store_split(position, u, s, vh, keep=keep, towards=towards)

    def _store_split(
        self,
        position: int,
        u: ComplexArray,
        s: FloatArray,
        vh: ComplexArray,
        *,
        keep: int,
        towards: int,
    ) -> None:
        left, right = u.shape[0] // 2, vh.shape[1] // 2
        if towards <= position:
            self.tensors[position] = (u * s[None, :]).reshape(left, 2, keep)
            self.tensors[position + 1] = vh.reshape(keep, 2, right)
            self.center = position
        else:
            self.tensors[position] = u.reshape(left, 2, keep)
            self.tensors[position + 1] = (s[:, None] * vh).reshape(keep, 2, right)
            self.center = position + 1

    def apply_cz(self, a: int, b: int) -> None:
        """CZ between two axes."""
        self.apply_2q(a, b, _CZ)

    def apply_swap(self, a: int, b: int, phase: complex) -> None:
        """|1₍a₎0₍b₎> ← phase·|0₍a₎1₍b₎>, |0₍a₎1₍b₎> ← phase⁻¹·|1₍a₎0₍b₎>, |11> unchanged."""
        matrix = np.array(
            [[1, 0, 0, 0], [0, 0, np.conj(phase), 0], [0, phase, 0, 0], [0, 0, 0, 1]],
            dtype=np.complex128,
        )
        self.apply_2q(a, b, matrix)

    def apply_move(self, qubit: int, resonator: int) -> None:
        """MOVE, with the state vector's phase convention."""
        self.apply_swap(qubit, resonator, MOVE_PHASE)

    def apply_pauli(self, axis: int, pauli: int) -> None:
        """Pauli by index 0=I, 1=X, 2=Y, 3=Z (Y up to a global phase)."""
        if pauli in (2, 3):
            self.apply_1q(axis, _PAULI_Z)
        if pauli in (1, 2):
            self.apply_1q(axis, _PAULI_X)

    def damp_no_jump(self, axis: int, damping: float) -> None:
        """The no-jump Kraus operator diag(1, √(1−γ)) (unnormalised)."""
        root = math.sqrt(1.0 - damping)
        self.apply_1q(axis, np.array([[1.0, 0.0], [0.0, root]], dtype=np.complex128))

    def damp_jump(self, axis: int) -> None:
        """The jump |1> → |0> (unnormalised)."""
        self.apply_1q(axis, _JUMP)

    # -- measurement ---------------------------------------------------------------------------

    def excited_probability(self, axis: int) -> float:
        """P(axis is 1) relative to the current norm."""
        position = self.position_of[axis]
        self._restore()
        self._move_center(position)
        site = self.tensors[position]
        zero = float(np.vdot(site[:, 0, :], site[:, 0, :]).real)
        one = float(np.vdot(site[:, 1, :], site[:, 1, :]).real)
        if not zero + one > 0.0:
            raise FloatingPointError("the simulated state has zero norm")
        return one / (zero + one)

    def project(self, axes: Sequence[int], bits: Sequence[int]) -> None:
        """Project onto ``axes`` = ``bits`` and renormalise."""
        self._restore()
        for axis, bit in zip(axes, bits, strict=True):
            self._move_center(self.position_of[axis])
            self.tensors[self.center] = _apply_site(_PROJECTORS[bit], self.tensors[self.center])
        site = self.tensors[self.center]
        norm = float(np.linalg.norm(site))
        if not norm > 0.0:
            raise FloatingPointError("projected onto an outcome of probability 0")
        self.tensors[self.center] = site / norm

    def sample_bits(self, axes: Sequence[int], count: int, rng: np.random.Generator) -> BitArray:
        """``count`` joint outcomes of measuring ``axes``: shape (count, len(axes)), axes' order.

        One sweep along the chain, from the end nearer the centre, draws every site up to the
        farthest measured one from its conditional distribution (the sites beyond are
        isometries and need not be visited); drawing unmeasured sites too leaves the measured
        ones' joint distribution unchanged.
        """
        bits = np.zeros((count, len(axes)), dtype=np.uint8)
        if count == 0 or not axes:
            return bits
        self._restore()
        column_of = {self.position_of[axis]: column for column, axis in enumerate(axes)}
        if self.center < self.n - 1 - self.center:
            self._move_center(0)
            positions = range(max(column_of) + 1)
            sites = [self.tensors[p] for p in positions]
        else:
            self._move_center(self.n - 1)
            positions = range(self.n - 1, min(column_of) - 1, -1)
            sites = [self.tensors[p].transpose(2, 1, 0) for p in positions]
        rows = np.arange(count)
        left: ComplexArray = np.ones((count, 1), dtype=np.complex128)
        for position, site in zip(positions, sites, strict=True):
            bond, _, right = site.shape
            branches = (left @ site.reshape(bond, 2 * right)).reshape(count, 2, right)
            weights = np.einsum("csr,csr->cs", branches, branches.conj()).real
            totals = weights.sum(axis=1)
            if not np.all(totals > 0.0):
                raise FloatingPointError("the simulated state has zero norm")
            drawn = (rng.random(count) * totals < weights[:, 1]).astype(np.int64)
            left = branches[rows, drawn] / np.sqrt(weights[rows, drawn])[:, None]
            column = column_of.get(position)
            if column is not None:
                bits[:, column] = drawn
        return bits

    def weights(self) -> FloatArray:
        """|amplitude|² of every basis state (for small states and tests)."""
        weights: FloatArray = np.abs(self.amplitudes()) ** 2
        return weights

    def probabilities(self, axes: Sequence[int]) -> FloatArray:
        """Outcome distribution of measuring ``axes`` (small states only; the simulator
        samples large ones with :meth:`sample_bits`)."""
        return marginal(self.weights(), self.n, axes)

    def amplitudes(self) -> ComplexArray:
        """The full state vector, axis 0 most significant (for small states and tests)."""
        if self.n > 24:
            raise ValueError(f"amplitudes() of {self.n} components would not fit in memory.")
        result: ComplexArray = np.ones((1, 1), dtype=np.complex128)
        for site in self.tensors:
            result = np.tensordot(result, site, axes=(result.ndim - 1, 0))
        result = result.reshape((2,) * self.n) if self.n else result.reshape(())
        order = [self.position_of[axis] for axis in range(self.n)]
        flat: ComplexArray = np.ascontiguousarray(np.transpose(result, order)).reshape(-1)
        return flat


_CZ = np.diag(np.array([1.0, 1.0, 1.0, -1.0], dtype=np.complex128))
_IDENTITY_4 = np.eye(4, dtype=np.complex128)

__all__ = ["DEFAULT_MAX_BOND", "MatrixProductState", "TruncationLimitError"]
