"""Job execution off the HTTP threads: a pool of worker threads and the job pipeline.

A job walks ``received → pending compilation → pending execution → ready`` (or ``failed``),
resting ``stage_delay`` seconds in each stage the way a queued real server would. Every status
change is conditional in the store, so an abort at any moment wins: a worker that finds its job
aborted stops, and results computed for an aborted job are discarded.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from uuid import UUID

import numpy as np
from pydantic import ValidationError

from pytket.extensions.iqm.emulator.config import EmulatorConfig
from pytket.extensions.iqm.emulator.devices.catalogue import (
    Calibration,
    Device,
    UnknownCalibrationError,
)
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.http.rest_v1.models import RunRequest
from pytket.extensions.iqm.emulator.http.rest_v1.wire import job_from_request
from pytket.extensions.iqm.emulator.http.server_api.models import CircuitJobDefinition
from pytket.extensions.iqm.emulator.http.server_api.wire import job_from_definition
from pytket.extensions.iqm.emulator.jobs.spec import JobSpec
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import API_SERVER_API, JobRecord, JobStore
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError, validate_circuits
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec
from pytket.extensions.iqm.emulator.simulation.simulator import (
    SimulationError,
    SimulationResult,
    simulate,
)

Implementations = Callable[[Device, Calibration], Mapping[str, set[str]]]
"""``(device, calibration)`` → gate → implementation names the calibration offers."""

logger = logging.getLogger(__name__)


def job_rng(seed: int | None, seq: int) -> np.random.Generator:
    """The random generator of the job with sequence number ``seq``.

    With a ``seed`` it depends only on ``(seed, seq)``, so resubmitting the same jobs in the
    same order to a fresh server reproduces their results; without one it is fresh entropy.
    """
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(np.random.SeedSequence([seed, seq]))


def plan_job(
    request: RunRequest | CircuitJobDefinition,
    device: Device,
    cal: Calibration,
    config: EmulatorConfig,
    implementations: Implementations | None = None,
) -> JobSpec:
    """The job a request asks for, checked against the calibration it runs on.

    Both API lines go through here, at submission (IQM Server API) or in the worker (both).

    :raises JobValidationError: if the qubit mapping or a circuit does not fit the calibration
        (loci, keys, MOVE sandwiches, duration limit, implementations).
    """
    offered = implementations(device, cal) if implementations else None
    if isinstance(request, RunRequest):
        spec = job_from_request(request, cal.components, offered)
    else:
        spec = job_from_definition(request, cal.components, offered)
    limit = spec.max_circuit_duration_over_t2
    if limit is None:
        limit = config.default_max_duration_over_t2
    validate_circuits(
        spec.circuits,
        cal,
        move_validation_mode=spec.move_validation_mode,
        max_duration_over_t2=limit,
    )
    return spec


def stored_request(job: JobRecord) -> RunRequest | CircuitJobDefinition:
    """The request of a stored job, read according to the route set it came in on.

    :raises JobValidationError: if the stored text is not a valid request (a hand-edited
        database).
    """
    try:
        if job.api == API_SERVER_API:
            return CircuitJobDefinition.model_validate_json(job.request_json)
        return RunRequest.model_validate_json(job.request_json)
    except (ValidationError, TypeError) as error:
        raise JobValidationError(f"The stored request is not valid: {error}") from None


def bits_json(bits: np.ndarray) -> str:
    """JSON text of a ``(shots, n)`` 0/1 array as a list of lists, built without Python lists.

    ``json.dumps(bits.tolist())`` gives the same text (without spaces) but is many times slower
    for 100 000 shots.
    """
    shots, n = bits.shape
    if shots == 0:
        return "[]"
    if n == 0:
        return "[" + ",".join(["[]"] * shots) + "]"
    # Each row is "[b,b,...,b]," : '[' at 0, digits at odd positions, ']' at 2n, ',' at 2n+1.
    row = np.empty((shots, 2 * n + 2), dtype=np.uint8)
    row[:, 0] = ord("[")
    row[:, 1 : 2 * n : 2] = bits + ord("0")
    row[:, 2 : 2 * n : 2] = ord(",")
    row[:, 2 * n] = ord("]")
    row[:, 2 * n + 1] = ord(",")
    return "[" + row.tobytes()[:-1].decode("ascii") + "]"


def bitstring_counts(bits: np.ndarray) -> dict[str, int]:
    """Histogram of the rows of a ``(shots, n)`` 0/1 array, as bitstrings (first column first)."""
    shots, n = bits.shape
    if n == 0:
        return {"": shots} if shots else {}
    if n <= 62:
        # Rows as integers: np.unique on a 1-D integer array is much faster than on rows.
        weights = np.left_shift(np.int64(1), np.arange(n - 1, -1, -1, dtype=np.int64))
        values, numbers = np.unique(bits.astype(np.int64) @ weights, return_counts=True)
        return {format(int(v), f"0{n}b"): int(k) for v, k in zip(values, numbers, strict=True)}
    rows, numbers = np.unique(bits, axis=0, return_counts=True)
    return {"".join(map(str, r.tolist())): int(k) for r, k in zip(rows, numbers, strict=True)}


def encode_results(
    circuits: Sequence[CircuitSpec], results: Sequence[SimulationResult]
) -> tuple[str, str]:
    """``(measurements_json, counts_json)`` in the 22.x wire format.

    Counts keys are the circuit's measurement keys in instruction order; a bitstring is the
    concatenation of those keys' bits, each key's bits in the order of its measured qubits.
    """
    batch: list[str] = []
    counts_batch: list[dict[str, object]] = []
    for circuit, result in zip(circuits, results, strict=True):
        keys = [str(op.key) for op in circuit.operations if op.name == "measure"]
        arrays = [np.asarray(result.measurements[k], dtype=np.uint8) for k in keys]
        batch.append(
            "{"
            + ",".join(f"{json.dumps(k)}:{bits_json(a)}" for k, a in zip(keys, arrays, strict=True))
            + "}"
        )
        bits = (
            np.concatenate(arrays, axis=1)
            if arrays
            else np.zeros((result.shots_kept, 0), dtype=np.uint8)
        )
        counts_batch.append({"measurement_keys": keys, "counts": bitstring_counts(bits)})
    return "[" + ",".join(batch) + "]", json.dumps(counts_batch)


class JobRunner:
    """Runs one job's pipeline against the served devices.

    :param store: where jobs live.
    :param devices: served devices by name.
    :param config: the server's configuration (noise, seed, limits, delays).
    :param stop: set when the server shuts down; waiting stages end early and leave the job
        unfinished (it is resumed on the next start with the same database).
    :param implementations: ``(device, calibration)`` → gate → implementation names offered.
    """

    def __init__(
        self,
        store: JobStore,
        devices: Mapping[str, Device],
        config: EmulatorConfig,
        stop: threading.Event,
        implementations: Implementations | None = None,
    ) -> None:
        self._store = store
        self._devices = devices
        self._config = config
        self._stop = stop
        self._implementations = implementations
        self._noise: dict[UUID, NoiseModel] = {}
        self._noise_lock = threading.Lock()

    def _noise_model(self, cal: Calibration) -> NoiseModel:
        with self._noise_lock:
            model = self._noise.get(cal.calibration_set_id)
            if model is None:
                model = NoiseModel.from_calibration(
                    cal, qiskit_fake_compat=self._config.noise_model == "qiskit-fake"
                )
                self._noise[cal.calibration_set_id] = model
            return model

    def _rest(self) -> bool:
        """Pause for one stage; ``False`` if the server is stopping."""
        return not self._stop.wait(self._config.stage_delay)

    def _compile(self, job: JobRecord) -> tuple[JobSpec, Calibration]:
        request = stored_request(job)
        device = self._devices.get(job.device)
        if device is None:
            raise JobValidationError(
                f"Device {job.device!r} is not served by this emulator any more; resubmit the "
                "job to a served device."
            )
        cal = device.calibration(job.calibration_set_id)
        return plan_job(request, device, cal, self._config, self._implementations), cal

    def run(self, job_id: UUID) -> None:
        """Take the job through its stages; returns early if it is aborted or the server stops."""
        store = self._store
        job = store.get(job_id)
        if job is None or job.terminal:
            return
        if not self._rest():
            return
        if not store.advance(job_id, Status.PENDING_COMPILATION, ("compile_start",)):
            return
        try:
            spec, cal = self._compile(job)
        except (JobValidationError, UnknownCalibrationError) as error:
            store.fail(job_id, str(error))
            return
        if not self._rest():
            return
        store.stamp(job_id, "compile_end")
        if not store.advance(job_id, Status.PENDING_EXECUTION):
            return
        if not self._rest():
            return
        current = store.get(job_id)
        if current is None or current.terminal:
            return
        store.stamp(job_id, "execution_start")
        rng = job_rng(self._config.seed, job.seq)
        noise = self._noise_model(cal) if self._config.noise else None
        results = []
        for index, circuit in enumerate(spec.circuits):
            try:
                results.append(
                    simulate(
                        circuit.operations,
                        spec.shots,
                        noise=noise,
                        rng=rng,
                        heralding_zeros=spec.heralding_zeros,
                        max_active_qubits=self._config.max_active_qubits,
                    )
                )
            except SimulationError as error:
                store.fail(job_id, f"Circuit {circuit.name!r} (index {index}): {error}")
                return
        store.stamp(job_id, "execution_end")
        measurements, counts = encode_results(spec.circuits, results)
        store.finish(job_id, measurements, counts)


class WorkerPool:
    """Threads that take job ids off a queue and run them.

    :param runner: the job pipeline.
    :param store: where a job that crashed the pipeline is marked failed.
    :param workers: number of threads.
    :param stop: shared with ``runner``; set by :meth:`stop`.
    """

    def __init__(
        self, runner: JobRunner, store: JobStore, workers: int, stop: threading.Event
    ) -> None:
        self._runner = runner
        self._store = store
        self._queue: queue.Queue[UUID | None] = queue.Queue()
        self._stop = stop
        self._threads = [
            threading.Thread(target=self._work, name=f"iqm-emulator-worker-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        """Start the threads."""
        for thread in self._threads:
            thread.start()

    def submit(self, job_id: UUID) -> None:
        """Queue a job for execution."""
        self._queue.put(job_id)

    def _work(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._runner.run(job_id)
            except Exception as error:  # a bug must fail the job, not kill the worker
                if self._stop.is_set():
                    return  # shutting down: the store may be closed; the job resumes on restart
                logger.exception("Job %s crashed the emulator's job pipeline", job_id)
                try:
                    self._store.fail(
                        job_id, f"Internal emulator error: {type(error).__name__}: {error}"
                    )
                except Exception:
                    logger.exception("Could not mark job %s as failed", job_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads; a simulation in progress is abandoned (its job stays unfinished)."""
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
