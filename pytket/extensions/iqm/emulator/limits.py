"""Size limits of the simulation methods, importable without numpy (the configuration and the
command line read them)."""

from __future__ import annotations

#: The exact methods simulate at most this many components (a state vector of 2**24 amplitudes
#: takes 256 MiB, and trajectories hold several); beyond it ``auto`` runs the stabilizer or the
#: matrix-product state.
EXACT_MAX_COMPONENTS = 24
#: Default cap on the components a circuit may touch, whatever the method: more than the largest
#: catalogue device (54 qubits), with a matrix-product state of at most
#: 128·2·64²·16 B = 16 MiB.
DEFAULT_MAX_ACTIVE_QUBITS = 128
#: Default cap on the bond dimension of the matrix-product state. A 1-D brickwork of depth d
#: needs 2**(d/2); 64 covers depth 12 exactly, and a two-site update at this size (a 128×128
#: SVD) takes about a millisecond.
DEFAULT_MAX_BOND = 64

__all__ = ["DEFAULT_MAX_ACTIVE_QUBITS", "DEFAULT_MAX_BOND", "EXACT_MAX_COMPONENTS"]
