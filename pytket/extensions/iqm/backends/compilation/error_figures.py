"""A device's error figures as compilation and success estimates use them.

Read once from a ``BackendInfo`` (per-component figures, else averaged ones), clamped to
probabilities, with medians (or nominal IQM-like values) for components without a figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import OpType
from pytket.unit_id import Node, UnitID

# Nominal figures used only when the device publishes no error data (to rank circuits and
# estimate ESP): a CZ costs about ten PRX and a readout about twenty, typical of IQM devices.
NOMINAL_PRX_ERROR = 1e-3
NOMINAL_CZ_ERROR = 1e-2
NOMINAL_READOUT_ERROR = 2e-2


@dataclass(frozen=True)
class NoiseFigures:
    """Per-component error probabilities of a device, with fallbacks for missing entries."""

    prx: Mapping[Node, float]
    cz: Mapping[tuple[Node, Node], float]
    """Both orientations of every coupler."""
    readout: Mapping[Node, float]
    default_prx: float
    default_cz: float
    default_readout: float
    has_data: bool
    """Whether any figure came from the device (rather than nominal values)."""

    def prx_error(self, qubit: UnitID) -> float:
        """Error of a PRX on ``qubit``."""
        return self.prx.get(as_node(qubit), self.default_prx)

    def cz_error(self, a: UnitID, b: UnitID) -> float:
        """Error of a CZ on the coupler ``(a, b)``."""
        return self.cz.get((as_node(a), as_node(b)), self.default_cz)

    def readout_error(self, qubit: UnitID) -> float:
        """Error of reading ``qubit`` out (mean flip probability)."""
        return self.readout.get(as_node(qubit), self.default_readout)

    def move_error(self, qubit: UnitID, resonator: UnitID) -> float:
        """A MOVE priced as a CZ on its pair: a device without resonators has no MOVE figure."""
        return self.cz_error(qubit, resonator)

    def multi_qubit_error(self) -> float:
        """Error per qubit pair of a gate on more than two qubits (not native: a CZ each)."""
        return self.default_cz


def as_node(unit: UnitID) -> Node:
    """``unit`` as the ``Node`` of the same name and index (how ``BackendInfo`` keys qubits)."""
    return Node(unit.reg_name, unit.index)


def _probability(value: float) -> float:
    """An error figure as a probability in [0, 1): published figures can stray outside it
    (a fidelity above 1 gives a negative error), and an error of 1 would zero every estimate."""
    return min(max(float(value), 0.0), 1 - 1e-9)


def median_or(values: Iterable[float], fallback: float) -> float:
    """The median of ``values``, or ``fallback`` if there are none."""
    found = list(values)
    return statistics.median(found) if found else fallback


def noise_figures(backend_info: BackendInfo) -> NoiseFigures:
    """The device's figures: per-component ones where published, else the averaged ones, with
    the median (or a nominal value without any) for components without a figure."""
    prx: dict[Node, float] = {}
    for node, errors in (backend_info.all_node_gate_errors or {}).items():
        if OpType.PhasedX in errors:
            prx[as_node(node)] = _probability(errors[OpType.PhasedX])
    if not prx:
        prx = {
            as_node(node): _probability(error)
            for node, error in (backend_info.averaged_node_gate_errors or {}).items()
        }
    cz: dict[tuple[Node, Node], float] = {}
    for (a, b), errors in (backend_info.all_edge_gate_errors or {}).items():
        if OpType.CZ in errors:
            cz[(as_node(a), as_node(b))] = _probability(errors[OpType.CZ])
    if not cz:
        cz = {
            (as_node(a), as_node(b)): _probability(error)
            for (a, b), error in (backend_info.averaged_edge_gate_errors or {}).items()
        }
    # CZ is symmetric: fill in the orientation the info may have left out.
    for (a, b), error in list(cz.items()):
        cz.setdefault((b, a), error)
    readout: dict[Node, float] = {}
    for node, matrix in (backend_info.all_readout_errors or {}).items():
        # [[1 - p(1|0), p(1|0)], [p(0|1), 1 - p(0|1)]]: the mean flip probability.
        readout[as_node(node)] = _probability((float(matrix[0][1]) + float(matrix[1][0])) / 2)
    if not readout:
        readout = {
            as_node(node): _probability(error)
            for node, error in (backend_info.averaged_readout_errors or {}).items()
        }
    return NoiseFigures(
        prx=prx,
        cz=cz,
        readout=readout,
        default_prx=median_or(prx.values(), NOMINAL_PRX_ERROR),
        default_cz=median_or(cz.values(), NOMINAL_CZ_ERROR),
        default_readout=median_or(readout.values(), NOMINAL_READOUT_ERROR),
        has_data=bool(prx or cz or readout),
    )


__all__ = [
    "NOMINAL_CZ_ERROR",
    "NOMINAL_PRX_ERROR",
    "NOMINAL_READOUT_ERROR",
    "NoiseFigures",
    "as_node",
    "median_or",
    "noise_figures",
]
