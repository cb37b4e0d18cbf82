"""Drawing shots: indices from a distribution, bits of indices, readout errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pytket.extensions.iqm.emulator.simulation.methods.statevector import (
    FloatArray,
)
from pytket.extensions.iqm.emulator.simulation.quantum_state import SimulatedState
from pytket.extensions.iqm.emulator.simulation.result import (
    BitArray,
    IntArray,
)


def sample_indices(weights: FloatArray, count: int, rng: np.random.Generator) -> IntArray:
    """``count`` independent draws of an index with probability proportional to ``weights``."""
    size = len(weights)
    if size >= _TWO_LEVEL_MIN_SIZE and count * _TWO_LEVEL_BLOCK < size:
        # Few draws from a big distribution: pick a block of the index range by its total
        # weight, then the index inside it, instead of a cumulative sum over everything.
        blocks = weights.reshape(-1, _TWO_LEVEL_BLOCK)
        chosen = sample_indices(blocks.sum(axis=1), count, rng)
        unique, row = np.unique(chosen, return_inverse=True)
        cdf = np.cumsum(blocks[unique], axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        # One search over all chosen blocks: row r's normalised cdf is shifted into (r, r + 1].
        shifted = (cdf + np.arange(len(unique))[:, None]).reshape(-1)
        found = np.searchsorted(shifted, row + rng.random(count), side="right")
        inside = np.clip(found - row * _TWO_LEVEL_BLOCK, 0, _TWO_LEVEL_BLOCK - 1)
        two_level: IntArray = (unique[row] * _TWO_LEVEL_BLOCK + inside).astype(np.int64)
        return two_level
    cdf = np.cumsum(weights)
    total = cdf[-1]
    if not total > 0.0:
        raise FloatingPointError("the simulated state has zero norm")
    found = np.searchsorted(cdf, rng.random(count) * total, side="right")
    drawn_flat: IntArray = np.minimum(found, size - 1).astype(np.int64)
    return drawn_flat


_TWO_LEVEL_MIN_SIZE = 1 << 14
_TWO_LEVEL_BLOCK = 1 << 10


def sample_bits(
    state: SimulatedState, axes: Sequence[int], count: int, rng: np.random.Generator
) -> BitArray:
    """``count`` joint outcomes of measuring ``axes``: shape (count, len(axes)), axes' order."""
    n = state.n
    weights = state.weights()
    in_order = sorted(axes)
    if len(in_order) < n:
        others = tuple(axis for axis in range(n) if axis not in axes)
        weights = weights.reshape((2,) * n).sum(axis=others).reshape(-1)
    bits = index_bits(sample_indices(weights, count, rng), len(in_order))
    if list(axes) == in_order:
        return bits
    return np.ascontiguousarray(bits[:, [in_order.index(axis) for axis in axes]])


def index_bits(indices: IntArray, width: int) -> BitArray:
    """Bits of each index, most significant first, shape (len(indices), width)."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((indices[:, None] >> shifts[None, :]) & 1).astype(np.uint8)


def apply_readout_errors(
    bits: BitArray, p1_given_0: FloatArray, p0_given_1: FloatArray, rng: np.random.Generator
) -> BitArray:
    """Classical readout confusion applied to true outcomes."""
    if not (p1_given_0.any() or p0_given_1.any()):
        return bits
    flip_probability = np.where(bits == 1, p0_given_1[None, :], p1_given_0[None, :])
    flips = rng.random(bits.shape) < flip_probability
    return bits ^ flips.astype(np.uint8)


def choose_positions(count: int, total: int, rng: np.random.Generator) -> IntArray:
    """``count`` distinct positions out of ``total``, uniformly."""
    return np.sort(rng.choice(total, size=count, replace=False)).astype(np.int64)
