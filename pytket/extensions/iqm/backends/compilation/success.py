"""The estimated success probability of a circuit: ∏(1 − e) over its gates and readouts.

One routine, :func:`log_success`, walks the circuit for both kinds of device; what differs is
where the error figures come from (an :class:`ErrorModel`): a plain device's per-qubit and
per-coupler figures (:class:`~.error_figures.NoiseFigures`), or on a Star device the
:class:`~.star_device.StarLayout`'s CZ and MOVE figures, resonators included
(:class:`StarErrors`).
"""

from __future__ import annotations

import math
from typing import Protocol

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, Conditional, OpType
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import qubit_for_node
from pytket.extensions.iqm.backends.compilation.error_figures import NoiseFigures, noise_figures
from pytket.extensions.iqm.backends.compilation.star_device import (
    StarLayout,
    is_move,
    is_resonator_qubit,
)

__all__ = [
    "ErrorModel",
    "StarErrors",
    "estimated_success_probability",
    "log_success",
    "star_success_probability",
]


class ErrorModel(Protocol):
    """Error probabilities of a device's operations, as :func:`log_success` reads them."""

    def prx_error(self, qubit: UnitID) -> float:
        """Error of a single-qubit gate on ``qubit``."""

    def cz_error(self, a: UnitID, b: UnitID) -> float:
        """Error of a CZ (or another two-qubit gate) on ``a`` and ``b``."""

    def move_error(self, qubit: UnitID, resonator: UnitID) -> float:
        """Error of a MOVE between ``qubit`` and ``resonator``."""

    def readout_error(self, qubit: UnitID) -> float:
        """Error of reading ``qubit`` out."""

    def multi_qubit_error(self) -> float:
        """Error per qubit pair of a gate on more than two qubits."""


class StarErrors:
    """A Star device's figures: CZ and MOVE errors by locus (resonators included) from its
    :class:`~.star_device.StarLayout`, single-qubit and readout errors from its
    :class:`~.error_figures.NoiseFigures`."""

    def __init__(self, layout: StarLayout, noise: NoiseFigures) -> None:
        self._layout = layout
        self._noise = noise

    def _component(self, unit: UnitID) -> str:
        if is_resonator_qubit(unit):
            return self._layout.resonators[unit.index[0]]
        return qubit_for_node(unit)

    def prx_error(self, qubit: UnitID) -> float:
        """See :meth:`ErrorModel.prx_error`."""
        return self._noise.prx_error(qubit)

    def cz_error(self, a: UnitID, b: UnitID) -> float:
        """See :meth:`ErrorModel.cz_error`."""
        return self._layout.cz_error(self._component(a), self._component(b))

    def move_error(self, qubit: UnitID, resonator: UnitID) -> float:
        """See :meth:`ErrorModel.move_error`."""
        return self._layout.move_error(self._component(qubit), self._component(resonator))

    def readout_error(self, qubit: UnitID) -> float:
        """See :meth:`ErrorModel.readout_error`."""
        return self._noise.readout_error(qubit)

    def multi_qubit_error(self) -> float:
        """See :meth:`ErrorModel.multi_qubit_error`: the layout's median CZ error."""
        return self._layout.cz_error("", "")


def log_success(circuit: Circuit, errors: ErrorModel, single_qubit: bool = True) -> float:
    """Natural log of the estimated success probability (see
    :func:`estimated_success_probability`); without single-qubit gates if not
    ``single_qubit``."""
    total = 0.0
    for command in circuit.get_commands():
        op = command.op
        optype = op.type
        if isinstance(op, Conditional):
            optype = op.op.type
        qubits = command.qubits
        if optype == OpType.Measure:
            total += math.log1p(-errors.readout_error(qubits[0]))
        elif is_move(op):
            total += math.log1p(-errors.move_error(qubits[0], qubits[1]))
        elif optype in (OpType.Barrier, OpType.Reset, OpType.Phase) or not qubits:
            continue
        elif optype == OpType.SWAP:
            total += 3 * math.log1p(-errors.cz_error(qubits[0], qubits[1]))
        elif optype == OpType.BRIDGE:
            # A CX across a middle qubit: two CX on each of its two couplers.
            total += 2 * math.log1p(-errors.cz_error(qubits[0], qubits[1]))
            total += 2 * math.log1p(-errors.cz_error(qubits[1], qubits[2]))
        elif len(qubits) == 1:
            if single_qubit:
                total += math.log1p(-errors.prx_error(qubits[0]))
        elif len(qubits) == 2:
            total += math.log1p(-errors.cz_error(qubits[0], qubits[1]))
        else:
            # Not native: count a multi-qubit gate as a CZ per qubit pair it could need.
            total += (len(qubits) - 1) * 2 * math.log1p(-errors.multi_qubit_error())
    return total


def estimated_success_probability(circuit: Circuit, backend_info: BackendInfo) -> float:
    """Estimate the probability that no error occurs when ``circuit`` runs on the device.

    The estimate is ∏(1 − e) over every ``PhasedX`` (``prx``), ``CZ`` and measurement, using the
    device's per-qubit and per-coupler figures from ``backend_info`` (falling back to the
    averaged figures, then to the median of known figures for components without one, then to
    nominal IQM-like figures when the device publishes none). A conditional gate counts as its
    inner gate; barriers, resets and global phases are free. For circuits not yet compiled,
    other single-qubit gates count as a ``PhasedX``, other two-qubit gates as a ``CZ`` and a
    ``SWAP`` as three ``CZ``.

    :param circuit: a circuit, usually compiled for the device (qubits are ``Node`` s).
    :param backend_info: the device's description.
    :return: the estimate, between 0 and 1.
    """
    return math.exp(log_success(circuit, noise_figures(backend_info)))


def star_success_probability(circuit: Circuit, backend_info: BackendInfo) -> float:
    """Estimated success probability ∏(1 − e) over PRX, CZ (qubit–qubit and qubit–resonator),
    MOVE and readouts, from the device's figures (median of the known ones, else nominal, for
    components without one). Barriers, resets and phases are free; other gates count as in
    :func:`estimated_success_probability`.

    :param circuit: a compiled circuit (after MOVE insertion)
    :param backend_info: the device's description
    :return: the estimate, between 0 and 1
    """
    errors = StarErrors(StarLayout.from_backend_info(backend_info), noise_figures(backend_info))
    return math.exp(log_success(circuit, errors))
