"""Compilation for IQM devices, from a :class:`~pytket.backends.backendinfo.BackendInfo` alone.

* :mod:`.levels`: the table from optimisation level to pipeline, and
  :func:`default_compilation_pass`;
* :mod:`.target`: what the device accepts (native gates, architecture, predicates) and the
  rebase;
* :mod:`.placement`, :mod:`.routing` and :mod:`.selection`: candidate placements, routings,
  and the choice among the routed candidates;
* :mod:`.finish`: the single-qubit finish (Z rotations pushed to the end, one PRX per run);
* :mod:`.success`: the estimated success probability (one routine for plain and Star
  devices), from the figures of :mod:`.error_figures`;
* :mod:`.star_device` and :mod:`.move_insertion`: Star devices (resonator, MOVE gates);
* :mod:`.circuits`: the circuit-copy toolkit the others share.

Modules here import pytket, ``backends.architecture`` (qubit names) and
``pytket.extensions.iqm.errors`` only: nothing of the connection, the backend or the emulator.
"""

from pytket.extensions.iqm.backends.compilation.levels import (
    OPTIMISATION_LEVELS,
    default_compilation_pass,
    pass_from_info,
)
from pytket.extensions.iqm.backends.compilation.success import (
    estimated_success_probability,
    star_success_probability,
)
from pytket.extensions.iqm.backends.compilation.target import rebase_pass, required_predicates

__all__ = [
    "OPTIMISATION_LEVELS",
    "default_compilation_pass",
    "estimated_success_probability",
    "pass_from_info",
    "rebase_pass",
    "required_predicates",
    "star_success_probability",
]
