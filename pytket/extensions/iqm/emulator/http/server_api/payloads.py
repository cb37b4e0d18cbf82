"""Bodies of the IQM Server API route set, as JSON-ready dicts, and the job → ``JobData`` view.

Pure functions of devices, calibrations and stored jobs; the HTTP layer only serialises them.
Observation names are the ones real IQM servers use (``characterization.model.QB1.t1_time``,
``metrics.irb.cz.tgss.QB1__QB2.fidelity``, ``gates.prx.drag_gaussian.QB1.duration``, ...), so
iqm-client's ``ObservationFinder`` (and code written against a real server) reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pytket.extensions.iqm.emulator.devices import descriptions
from pytket.extensions.iqm.emulator.devices.device import Calibration, Device
from pytket.extensions.iqm.emulator.http.server_api.models import SOURCE, STATION_SOURCE, JobStatus
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import JobRecord

_QUANTUM_COMPUTER_NAMESPACE = uuid.UUID("6f1c0f5e-8d1a-5b7e-9c61-3e0f4b2a7d10")
"""Namespace of the quantum computers' ids (uuid5 of the device name): stable across runs."""
_OBSERVATION_SOURCE = {"type": "specification_source", "origin": "pytket-iqm emulator catalogue"}

JOB_STATUS: dict[Status, JobStatus] = {
    Status.RECEIVED: JobStatus.WAITING,
    Status.ACCEPTED: JobStatus.PROCESSING,
    Status.PROCESSING: JobStatus.PROCESSING,
    Status.PENDING_COMPILATION: JobStatus.PROCESSING,
    Status.COMPILED: JobStatus.PROCESSING,
    Status.PENDING_EXECUTION: JobStatus.PROCESSING,
    Status.READY: JobStatus.COMPLETED,
    Status.FAILED: JobStatus.FAILED,
    Status.ABORTED: JobStatus.CANCELLED,
    Status.PENDING_DELETION: JobStatus.CANCELLED,
    Status.DELETION_FAILED: JobStatus.FAILED,
    Status.DELETED: JobStatus.CANCELLED,
}
"""The job store's (22.x) status → the IQM Server API status: ``waiting`` until a worker
starts compiling, ``processing`` through compilation and execution."""

_TIMELINE_STAGES: tuple[tuple[str, str, str], ...] = (
    ("job_start", SOURCE, "created"),
    ("compile_start", STATION_SOURCE, "compilation_started"),
    ("compile_end", STATION_SOURCE, "compilation_ended"),
    ("execution_start", STATION_SOURCE, "execution_started"),
    ("execution_end", STATION_SOURCE, "execution_ended"),
)
"""Stored stage stamp → (source, status) of its timeline entry, in pipeline order."""

ARTIFACT_TYPES = ("measurements", "measurement_counts")
"""Artifacts of a completed circuit job."""

CANCELLED_MESSAGE = "The job was cancelled by the user."


def quantum_computer_id(device: Device) -> uuid.UUID:
    """The device's id in the registry: a UUID derived from its name, the same on every run."""
    return uuid.uuid5(_QUANTUM_COMPUTER_NAMESPACE, device.name)


def quantum_computer(device: Device) -> dict[str, Any]:
    """The device's registry entry (``alias`` is the device name; no station proxy)."""
    return {
        "id": str(quantum_computer_id(device)),
        "alias": device.name,
        "display_name": device.display_name,
        "proxy_path": None,
    }


def static_architectures(device: Device) -> list[dict[str, Any]]:
    """``GET …/artifacts/static-quantum-architectures``: one SQA, with the chip's label."""
    return [{"dut_label": device.dut_label, **descriptions.static_architecture(device)}]


def quality_metric_set_id(calibration: Calibration) -> uuid.UUID:
    """Id of the quality metric set describing ``calibration`` (derived, stable)."""
    return uuid.uuid5(calibration.calibration_set_id, "quality-metric-set")


def _observation(
    observation_id: int,
    name: str,
    *,
    value: float,
    unit: str,
    uncertainty: float | None,
    device: Device,
    set_id: uuid.UUID,
    timestamp: str,
) -> dict[str, Any]:
    return {
        "dut_field": name,
        "value": value,
        "unit": unit,
        "uncertainty": uncertainty,
        "invalid": False,
        "observation_id": observation_id,
        "created_timestamp": timestamp,
        "modified_timestamp": timestamp,
        "dut_label": device.dut_label,
        "source": dict(_OBSERVATION_SOURCE),
        "tags": [],
        "observation_set_ids": [str(set_id)],
    }


def _observation_set(
    kind: str,
    set_id: uuid.UUID,
    *,
    describes: uuid.UUID | None,
    device: Device,
    calibration: Calibration,
    observations: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    ts = calibration.created_timestamp
    return {
        "observation_set_type": kind,
        "describes_id": None if describes is None else str(describes),
        "invalid": False,
        "dut_label": device.dut_label,
        "observation_set_id": str(set_id),
        "created_timestamp": ts,
        "end_timestamp": ts,
        "observations": list(observations),
        "observation_ids": [o["observation_id"] for o in observations],
    }


def calibration_set(device: Device, calibration: Calibration) -> dict[str, Any]:
    """``GET calibration-sets/{qc}/{cal}``: the gate durations the calibration set fixes.

    Same observations (names, values, ids) as the 22.x ``CalibrationSet``.
    """
    set_id = calibration.calibration_set_id
    legacy = descriptions.calibration_set(device, calibration)["observations"]
    observations = [
        _observation(
            o["observation_id"],
            name,
            value=float(o["value"]),
            unit=o["unit"],
            uncertainty=None,
            device=device,
            set_id=set_id,
            timestamp=calibration.created_timestamp,
        )
        for name, o in legacy.items()
    ]
    return _observation_set(
        "calibration-set",
        set_id,
        describes=None,
        device=device,
        calibration=calibration,
        observations=observations,
    )


def quality_metric_set(device: Device, calibration: Calibration) -> dict[str, Any]:
    """``GET calibration-sets/{qc}/{cal}/metrics``: T1/T2, gate fidelities, readout errors.

    The observations are the 22.x ``QualityMetricSet`` metrics (same names and values, numbers
    instead of strings) except the gate durations, which are the calibration set's own
    observations (:func:`calibration_set`; iqm-client joins the two sets and warns about
    repeats); their ids follow those of the calibration set.
    """
    set_id = quality_metric_set_id(calibration)
    metrics = {
        name: metric
        for name, metric in descriptions.quality_metrics(device, calibration)["metrics"].items()
        if not name.startswith("gates.")
    }
    first_id = len(descriptions.calibration_set(device, calibration)["observations"]) + 1
    observations = [
        _observation(
            observation_id,
            name,
            value=float(metric["value"]),
            unit=metric["unit"],
            uncertainty=None if metric["uncertainty"] is None else float(metric["uncertainty"]),
            device=device,
            set_id=set_id,
            timestamp=metric["timestamp"],
        )
        for observation_id, (name, metric) in enumerate(metrics.items(), start=first_id)
    ]
    return _observation_set(
        "quality-metric-set",
        set_id,
        describes=calibration.calibration_set_id,
        device=device,
        calibration=calibration,
        observations=observations,
    )


def timeline(job: JobRecord) -> list[dict[str, Any]]:
    """The steps the job reached, oldest first, from its stored stage stamps."""
    entries = [
        {"source": source, "status": status, "timestamp": job.timestamps[stage]}
        for stage, source, status in _TIMELINE_STAGES
        if stage in job.timestamps
    ]
    if job.terminal and "job_end" in job.timestamps:
        entries.append(
            {
                "source": SOURCE,
                "status": JOB_STATUS[job.status].value,
                "timestamp": job.timestamps["job_end"],
            }
        )
    # Stamps of one step share a time; a stable sort keeps pipeline order among equals.
    return sorted(entries, key=lambda entry: str(entry["timestamp"]))


def job_data(
    job: JobRecord,
    queue_position: int | None,
    simulation: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``JobData`` of a stored job.

    :param queue_position: jobs ahead of it, used only while it is ``waiting``.
    :param simulation: how each circuit was simulated (the store's report), once completed.
    """
    status = JOB_STATUS.get(job.status, JobStatus.PROCESSING)
    messages = [{"source": SOURCE, "message": w} for w in job.warnings or ()]
    errors: list[dict[str, Any]] = []
    if status is JobStatus.FAILED:
        errors.append(
            {
                "message": job.message or "The job failed.",
                "error_code": "job_failed",
                "source": SOURCE,
            }
        )
    elif status is JobStatus.CANCELLED:
        messages.append({"source": SOURCE, "message": CANCELLED_MESSAGE})
    return {
        "id": str(job.id),
        "type": "circuit",
        "status": status.value,
        "execution": None,
        "compilation": {"calibration_set_id": str(job.calibration_set_id)},
        "messages": messages,
        "errors": errors,
        "queue_position": queue_position if status is JobStatus.WAITING else None,
        "timeline": timeline(job),
        "artifacts": (
            [{"type": t} for t in ARTIFACT_TYPES] if status is JobStatus.COMPLETED else []
        ),
        "simulation": simulation if status is JobStatus.COMPLETED else None,
    }


__all__ = [
    "ARTIFACT_TYPES",
    "CANCELLED_MESSAGE",
    "JOB_STATUS",
    "calibration_set",
    "job_data",
    "quality_metric_set",
    "quality_metric_set_id",
    "quantum_computer",
    "quantum_computer_id",
    "static_architectures",
    "timeline",
]
