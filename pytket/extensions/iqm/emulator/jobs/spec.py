"""A job as the emulator runs it, whichever API line it came in on: :class:`JobSpec`.

The HTTP layer turns a request into a :class:`JobSpec` once, at submission; the store keeps it
(as JSON, so a job survives a restart) and the worker runs it without knowing any wire format.
A REST v1 request that cannot become a spec (a qubit mapping or implementation the calibration
does not have) is still accepted, as IQM's servers do, and becomes a :class:`RejectedJob` that
fails when it is compiled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec, Operation


@dataclass(frozen=True)
class JobSpec:
    """The circuits (physical names, radians) and execution options of one job."""

    circuits: tuple[CircuitSpec, ...]
    shots: int
    heralding_zeros: bool
    """Post-select the shots whose heralding readout is all zeros."""
    move_validation_mode: str
    """``strict``, ``allow_prx`` or ``none``."""
    max_circuit_duration_over_t2: float | None
    """The request's duration limit; ``None``: the server's default."""


@dataclass(frozen=True)
class RejectedJob:
    """An accepted request that cannot run; the job fails with :attr:`reason` when compiled."""

    reason: str


JobPlan = JobSpec | RejectedJob
"""What the store keeps of a job for the worker."""


def plan_to_json(plan: JobPlan) -> str:
    """JSON text of a plan, read back by :func:`plan_from_json`."""
    if isinstance(plan, RejectedJob):
        return json.dumps({"rejected": plan.reason})
    return json.dumps({"spec": asdict(plan)}, separators=(",", ":"))


def plan_from_json(text: str) -> JobPlan:
    """The plan :func:`plan_to_json` wrote.

    :raises ValueError: if the text is not such a plan (a hand-edited database).
    """
    try:
        data = json.loads(text)
        if "rejected" in data:
            return RejectedJob(str(data["rejected"]))
        spec: dict[str, Any] = data["spec"]
        circuits = tuple(
            CircuitSpec(
                name=circuit["name"],
                operations=tuple(
                    Operation(**{**op, "qubits": tuple(op["qubits"])})
                    for op in circuit["operations"]
                ),
            )
            for circuit in spec["circuits"]
        )
        return JobSpec(
            circuits=circuits,
            shots=int(spec["shots"]),
            heralding_zeros=bool(spec["heralding_zeros"]),
            move_validation_mode=str(spec["move_validation_mode"]),
            max_circuit_duration_over_t2=spec["max_circuit_duration_over_t2"],
        )
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"not a stored job plan: {error!r}") from None
