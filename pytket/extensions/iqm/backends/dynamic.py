"""What IQM's feedback can run: clear errors for dynamic-circuit features a device lacks.

IQM servers offer mid-circuit measurement, ``reset`` and ``cc_prx`` (a PRX applied when an
earlier measurement gave 1) only on devices that list ``cc_prx``, and no classical computation
at all. pytket's predicates would refuse such circuits with a "try compiling" hint that cannot
help, so these checks run first and say what is supported instead.
"""

from __future__ import annotations

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, OpType
from pytket.predicates import NoMidMeasurePredicate

from pytket.extensions.iqm.errors import IQMDeviceError, IQMTranslationError

_SUPPORTED = (
    "IQM devices with feedback run mid-circuit measurements, Reset, and single-qubit gates "
    "conditioned on one measured bit being 1"
)


def check_dynamic_features(circuit: Circuit, backend_info: BackendInfo, index: int) -> None:
    """Refuse classical operations, and dynamic features the device does not offer.

    :param index: the circuit's position in the submitted list, for the message.
    :raises IQMTranslationError: the circuit contains a classical operation.
    :raises IQMDeviceError: the circuit uses classical control, reset or mid-circuit
        measurement on a device without ``cc_prx``.
    """
    device = backend_info.device_name or "this device"
    has_feedback = backend_info.supports_fast_feedforward
    for command in circuit.get_commands():
        op_type = command.op.type
        if not command.qubits and op_type not in (OpType.Barrier, OpType.Phase):
            raise IQMTranslationError(
                f"Circuit {index} contains the classical operation {command}; IQM devices run "
                f"no classical computation. {_SUPPORTED}; do classical processing on the results."
            )
        if op_type == OpType.Conditional and not has_feedback:
            raise IQMDeviceError(
                f"Circuit {index} has the classically controlled gate {command}, but {device} "
                "has no cc_prx gate, so it cannot run classical control. Use a device with "
                "feedback, or remove the condition."
            )
        if op_type == OpType.Reset and not backend_info.supports_reset:
            raise IQMDeviceError(
                f"Circuit {index} resets a qubit ({command}), but {device} has no cc_prx gate, "
                "so it cannot reset qubits. Use a device with feedback."
            )
    if not backend_info.supports_midcircuit_measurement and not NoMidMeasurePredicate().verify(
        circuit
    ):
        raise IQMDeviceError(
            f"Circuit {index} measures a qubit before its last gate, but {device} has no cc_prx "
            "gate, so it supports measurements only at the end. Measure each qubit once, last."
        )
