"""The incumbent's compilation (pytket-iqm 0.18) rebuilt from pytket passes, as a baseline.

Same pass sequences as the incumbent's ``default_compilation_pass`` at levels 0, 1 and 2, but on
an ``Architecture`` built from the couplers in a fixed (sorted) order, because the incumbent's
hash-ordered coupler set alone moves its level-2 CZ total by about ±2.5 % between runs.
"""

from __future__ import annotations

from pytket.architecture import Architecture
from pytket.circuit import OpType
from pytket.passes import (
    AutoRebase,
    BasePass,
    CliffordSimp,
    DecomposeBoxes,
    DefaultMappingPass,
    DelayMeasures,
    FlattenRegisters,
    FullPeepholeOptimise,
    KAKDecomposition,
    RemoveRedundancies,
    SequencePass,
    SynthesiseTket,
)
from pytket.unit_id import Node


def fixed_order_architecture(architecture: Architecture) -> Architecture:
    """The same couplings, listed in sorted node order (both orientations collapsed)."""
    edges = sorted({tuple(sorted(edge)) for edge in architecture.coupling})
    return Architecture([(Node(a.index[0]), Node(b.index[0])) for a, b in edges])


def baseline_pass(architecture: Architecture, optimisation_level: int) -> BasePass:
    """The incumbent's pass at ``optimisation_level`` (0, 1 or 2) for ``architecture``.

    :raises ValueError: for any other level.
    """
    arch = fixed_order_architecture(architecture)
    rebase = AutoRebase({OpType.CZ, OpType.PhasedX})
    if optimisation_level == 0:
        passes = [DecomposeBoxes(), FlattenRegisters(), rebase]
    elif optimisation_level == 1:
        passes = [DecomposeBoxes(), FlattenRegisters(), SynthesiseTket()]
    elif optimisation_level == 2:
        passes = [DecomposeBoxes(), FlattenRegisters(), FullPeepholeOptimise()]
    else:
        raise ValueError(f"the baseline has levels 0, 1 and 2, not {optimisation_level}")
    passes += [DefaultMappingPass(arch), DelayMeasures()]
    if optimisation_level == 2:
        passes += [
            KAKDecomposition(allow_swaps=False),
            CliffordSimp(allow_swaps=False),
            SynthesiseTket(),
        ]
    passes += [AutoRebase({OpType.CZ, OpType.PhasedX}), RemoveRedundancies()]
    return SequencePass(passes)
